"""Services and their endpoints → the proxy's iptables chains, as data (pure).

The shape is kube-proxy's iptables mode (1.29), with the agent's prefix for `KUBE`:

nat  `P-SERVICES` (from PREROUTING and OUTPUT): cluster IP:port → `P-SVC-…` (or `P-SVL-…` with
     internalTrafficPolicy Local), external IPs and load-balancer IPs → `P-EXT-…`, and last,
     for destinations local to the node (not 127/8: route_localnet stays off) → `P-NODEPORTS`.
     `P-NODEPORTS`: nodePort → `P-EXT-…`. `P-EXT-…`: external traffic is masqueraded and sent to
     the cluster-wide chain, or with externalTrafficPolicy Local kept to this node's endpoints
     with its source address (pods and the node itself still get the cluster-wide chain).
     `P-SVC-…`/`P-SVL-…`: ClientIP affinity (`-m recent --rcheck`) first, then one endpoint at
     random (`-m statistic --mode random --probability 1/(n-i)`, the last one unconditional).
     `P-SEP-…`: masquerade a pod reaching itself (hairpin) — without br_netfilter, any client on
     this node's pod bridge, whose reply would otherwise bypass conntrack —, remember the client
     for affinity, DNAT. `P-MARK-MASQ` sets the mark, `P-POSTROUTING` masquerades marked packets.
filter `P-SERVICES` (from FORWARD and OUTPUT) and `P-EXTERNAL` (from INPUT and FORWARD):
     REJECT (icmp-port-unreachable) for services without endpoints, DROP where a Local traffic
     policy finds none on this node.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass

from skiff.cluster.proxy.chains import MASQ_MARK, ProxyChains
from skiff.cluster.proxy.model import Endpoint, ServiceEndpoints, ServicePort, usable
from skiff.engine.network.iptables import Rule

ChainKey = tuple[str, str]  # (table, chain)
Ruleset = dict[ChainKey, list[Rule]]


@dataclass(frozen=True)
class NodeView:
    """What the rules depend on besides the services: who this node is and its pods' subnet."""

    node_name: str
    pod_cidr: str = ""  # this node's pods (the engine bridge's subnet); "" when unknown
    # br_netfilter passes bridged frames through iptables (bridge-nf-call-iptables=1): a reply
    # between two pods of one bridge then meets conntrack and is un-NATed without masquerading
    bridge_netfilter: bool = False

    @functools.cached_property
    def _bridge_net(self) -> ipaddress.IPv4Network | None:
        return ipaddress.IPv4Network(self.pod_cidr, strict=False) if self.pod_cidr else None

    def on_bridge(self, ip: str) -> bool:
        return self._bridge_net is not None and ipaddress.IPv4Address(ip) in self._bridge_net


def probability(n: int) -> str:
    """kube-proxy's spelling of 1/n (`%0.10f`)."""
    return f"{1.0 / n:0.10f}"


def _proto(sp: ServicePort) -> tuple[str, ...]:
    p = sp.protocol.lower()
    return ("-p", p, "-m", p)


def _comment(text: str) -> tuple[str, ...]:
    return ("-m", "comment", "--comment", text)


class _Renderer:
    def __init__(self, chains: ProxyChains, node: NodeView, fixed_chains: bool = True):
        self.c = chains
        self.node = node
        self.nat: dict[str, list[Rule]] = {}
        self.filter: dict[str, list[Rule]] = {}
        if fixed_chains:
            for table, name in chains.all():
                (self.nat if table == "nat" else self.filter)[name] = []

    def merge(self, part: _Renderer) -> None:
        for name, rules in part.nat.items():
            self.nat.setdefault(name, []).extend(rules)
        for name, rules in part.filter.items():
            self.filter.setdefault(name, []).extend(rules)

    def add(self, table: str, chain: str, *args: str) -> None:
        target = self.nat if table == "nat" else self.filter
        target.setdefault(chain, []).append(Rule(table, chain, args))

    def fixed(self) -> None:
        c = self.c
        self.add("nat", c.mark_masq, "-j", "MARK", "--or-mark", MASQ_MARK.split("/")[0])
        self.add("nat", c.postrouting, "-m", "mark", "!", "--mark", MASQ_MARK, "-j", "RETURN")
        # the mark is cleared so a packet re-entering the stack (a tunnel, say) is not NATed twice
        self.add("nat", c.postrouting, "-j", "MARK", "--xor-mark", MASQ_MARK.split("/")[0])
        self.add("nat", c.postrouting, *_comment("kubernetes service traffic requiring SNAT"),
                 "-j", "MASQUERADE", "--random-fully")

    def service(self, se: ServiceEndpoints) -> None:
        sp, c = se.service, self.c
        everywhere = usable(se.endpoints)
        local = usable([e for e in se.endpoints if e.node_name == self.node.node_name])
        internal = local if sp.internal_local else everywhere
        external = local if sp.external_local else everywhere
        svc = c.svc(sp.key, sp.protocol)
        svl = c.svl(sp.key, sp.protocol)
        internal_chain = svl if sp.internal_local else svc
        dport = (*_proto(sp), "--dport", str(sp.port))
        cluster_ip = ("-d", f"{sp.cluster_ip}/32")

        if not everywhere:
            reason = f"{sp.key} has no endpoints"
            self.add("filter", c.services, *_comment(reason), *cluster_ip, *dport,
                     "-j", "REJECT", "--reject-with", "icmp-port-unreachable")
            for dest in self._external_matches(sp):
                self.add("filter", c.external_services, *_comment(reason), *dest,
                         "-j", "REJECT", "--reject-with", "icmp-port-unreachable")
            return
        if internal:
            self.add("nat", c.services, *_comment(f"{sp.key} cluster IP"), *cluster_ip, *dport, "-j", internal_chain)
            if self.node.pod_cidr:  # the node itself (or anything not a pod here) reaching a cluster IP
                self.add("nat", internal_chain, *_comment(f"{sp.key} cluster IP"), *cluster_ip, *dport,
                         "!", "-s", self.node.pod_cidr, "-j", c.mark_masq)
        else:
            self.add("filter", c.services, *_comment(f"{sp.key} has no local endpoints"), *cluster_ip, *dport,
                     "-j", "DROP")
        if sp.has_external:
            self._external(sp, bool(external), svc, svl)
        if not sp.internal_local or sp.has_external:  # external traffic and its short-circuits use it
            self._balance(sp, svc, everywhere)
        if (sp.internal_local or sp.external_local) and local:
            self._balance(sp, svl, local)

    def _external_matches(self, sp: ServicePort) -> list[tuple[str, ...]]:
        dport = (*_proto(sp), "--dport", str(sp.port))
        out = [("-d", f"{ip}/32", *dport) for ip in (*sp.external_ips, *sp.load_balancer_ips)]
        if sp.node_port:
            out.append(("-m", "addrtype", "--dst-type", "LOCAL", "!", "-d", "127.0.0.0/8",
                        *_proto(sp), "--dport", str(sp.node_port)))
        return out

    def _external(self, sp: ServicePort, reachable: bool, svc: str, svl: str) -> None:
        """The EXT chain and the jumps to it. With externalTrafficPolicy Local and no endpoint on
        this node, traffic from outside falls off its end and the filter rule drops it, while pods
        and the node itself still take the short-circuits to the cluster-wide chain (kube-proxy)."""
        c = self.c
        if not reachable:
            for dest in self._external_matches(sp):
                self.add("filter", c.external_services, *_comment(f"{sp.key} has no local endpoints"), *dest,
                         "-j", "DROP")
        ext = c.ext(sp.key, sp.protocol)
        dport = (*_proto(sp), "--dport", str(sp.port))
        for ip in sp.external_ips:
            self.add("nat", c.services, *_comment(f"{sp.key} external IP"), "-d", f"{ip}/32", *dport, "-j", ext)
        for ip in sp.load_balancer_ips:
            self.add("nat", c.services, *_comment(f"{sp.key} loadbalancer IP"), "-d", f"{ip}/32", *dport, "-j", ext)
        if sp.node_port:
            self.add("nat", c.nodeports, *_comment(sp.key), *_proto(sp), "--dport", str(sp.node_port), "-j", ext)
        if not sp.external_local:
            self.add("nat", ext, *_comment(f"masquerade traffic for {sp.key} external destinations"),
                     "-j", c.mark_masq)
            self.add("nat", ext, "-j", svc)
            return
        if self.node.pod_cidr:
            self.add("nat", ext, *_comment(f"pod traffic for {sp.key} external destinations"),
                     "-s", self.node.pod_cidr, "-j", svc)
        self.add("nat", ext, *_comment(f"masquerade LOCAL traffic for {sp.key} external destinations"),
                 "-m", "addrtype", "--src-type", "LOCAL", "-j", c.mark_masq)
        self.add("nat", ext, *_comment(f"route LOCAL traffic for {sp.key} external destinations"),
                 "-m", "addrtype", "--src-type", "LOCAL", "-j", svc)
        if reachable:
            self.add("nat", ext, "-j", svl)

    def _balance(self, sp: ServicePort, chain: str, endpoints: list[Endpoint]) -> None:
        c = self.c
        self.nat.setdefault(chain, [])
        seps = [(e, c.sep(sp.key, sp.protocol, e.address)) for e in endpoints]
        if sp.affinity_seconds:
            for e, sep in seps:
                self.add("nat", chain, *_comment(f"{sp.key} -> {e.address}"), "-m", "recent", "--name", sep,
                         "--rcheck", "--seconds", str(sp.affinity_seconds), "--reap", "-j", sep)
        n = len(seps)
        for i, (e, sep) in enumerate(seps):
            pick = () if i == n - 1 else ("-m", "statistic", "--mode", "random", "--probability", probability(n - i))
            self.add("nat", chain, *_comment(f"{sp.key} -> {e.address}"), *pick, "-j", sep)
            self._endpoint(sp, e, sep)

    def _endpoint(self, sp: ServicePort, e: Endpoint, sep: str) -> None:
        if sep in self.nat:  # shared by the SVC and SVL chains
            return
        c = self.c
        self.nat[sep] = []
        if not self.node.bridge_netfilter and self.node.on_bridge(e.ip):
            self.add("nat", sep, *_comment(sp.key), "-s", self.node.pod_cidr, "-j", c.mark_masq)
        else:  # hairpin: a pod reaching itself through its service
            self.add("nat", sep, *_comment(sp.key), "-s", f"{e.ip}/32", "-j", c.mark_masq)
        affinity = ("-m", "recent", "--name", sep, "--set") if sp.affinity_seconds else ()
        self.add("nat", sep, *_comment(sp.key), *affinity, *_proto(sp), "-j", "DNAT",
                 "--to-destination", e.address)

    def result(self) -> Ruleset:
        c = self.c
        # kube-proxy: "kubernetes service nodeports; NOTE: this must be the last rule in this chain"
        self.add("nat", c.services, *_comment("kubernetes service nodeports"), "-m", "addrtype",
                 "--dst-type", "LOCAL", "!", "-d", "127.0.0.0/8", "-j", c.nodeports)
        out: Ruleset = {("nat", name): rules for name, rules in self.nat.items()}
        out.update({("filter", name): rules for name, rules in self.filter.items()})
        return out


class RenderCache:
    """Each service port's rules from the last render, keyed by everything they depend on: a sync
    after one change renders one service, not all of them (the chains and node never change
    for one cache)."""

    def __init__(self) -> None:
        self.parts: dict[tuple, _Renderer] = {}


def render(chains: ProxyChains, node: NodeView, services: list[ServiceEndpoints],
           cache: RenderCache | None = None) -> Ruleset:
    """Every chain of the proxy with its rules, for the given services."""
    r = _Renderer(chains, node)
    r.fixed()
    parts: dict[tuple, _Renderer] = {}
    for se in services:
        key = (se.service, tuple(se.endpoints))
        part = cache.parts.get(key) if cache is not None else None
        if part is None:
            part = _Renderer(chains, node, fixed_chains=False)
            part.service(se)
        parts[key] = part
        r.merge(part)
    if cache is not None:
        cache.parts = parts  # services gone drop out
    return r.result()
