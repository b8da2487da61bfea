"""Pod firewalls → the agent's NetworkPolicy chains, as data (pure).

filter `P-FORWARD` (jumped from FORWARD, first: the engine's chains accept bridge traffic):
    packets of established connections return at once; a packet from an egress-isolated pod of
    this node goes through its `P-E-…` chain, one to an ingress-isolated pod through `P-I-…`;
    the last rule clears our mark so nothing after us sees it.
`P-I-…` / `P-E-…`: clear the mark, set it for every allowed (peer, port), return when it is
    set, else REJECT (icmp-port-unreachable, as kube-router: the client fails at once). An
    ipBlock with `except` jumps to a `P-X-…` chain that returns for the excepted ranges and
    marks for the rest.
Traffic between a pod and its own node (kubelet probes, the node's DNS) never crosses FORWARD,
so it is always allowed, as the API requires. `P` is the agent's prefix plus `-N`."""

from __future__ import annotations

from dataclasses import dataclass

from skiff.cluster.netpol.model import Allow, Peer, PodFirewall, Port
from skiff.cluster.proxy.chains import MAX_CHAIN, short_hash
from skiff.cluster.proxy.rules import Ruleset
from skiff.common.errors import InvalidArgument
from skiff.engine.network.iptables import Chains, Rule

MARK = "0x20000"  # one bit of the packet mark (kube-proxy uses 0x4000, kube-router 0x10000/0x20000)
ALLOWED = f"{MARK}/{MARK}"
CLEARED = f"0x0/{MARK}"
FILTER = "filter"


def netpol_prefix(agent_prefix: str) -> str:
    return f"{agent_prefix}-N"


@dataclass(frozen=True)
class NetpolChains(Chains):
    """The chains of one node's enforcement; `prefix` is already `netpol_prefix(...)`."""

    def __post_init__(self) -> None:
        if self.hash_length < 6:
            raise InvalidArgument(f"prefix {self.prefix!r} is too long for iptables chain names")

    @property
    def hash_length(self) -> int:
        return min(16, MAX_CHAIN - len(self.prefix) - len("-I-"))

    @property
    def forward(self) -> str:
        return f"{self.prefix}-FORWARD"

    def pod(self, direction: str, key: str) -> str:
        return f"{self.prefix}-{direction}-{short_hash(key, direction, length=self.hash_length)}"

    def all(self) -> list[tuple[str, str]]:
        return [(FILTER, self.forward)]

    def jumps(self) -> list[Rule]:
        return [Rule(FILTER, "FORWARD", ("-j", self.forward))]

    def owns(self, chain: str) -> bool:
        return chain.startswith(self.prefix + "-")


def _port_args(port: Port | None) -> tuple[str, ...]:
    if port is None:
        return ()
    proto = port.protocol.lower()
    if port.port is None:
        return ("-p", proto)
    span = f"{port.port}:{port.end}" if port.end else str(port.port)
    return ("-p", proto, "-m", proto, "--dport", span)


def _peer_target(chains: NetpolChains, out: Ruleset, peer_flag: str, peer: Peer) -> tuple[str, ...]:
    """What `-j` does for a peer: MARK, or for a cidr with excepted ranges a `P-X-…` chain that
    returns for those first."""
    cidr, excepts = peer
    if not excepts:
        return ("MARK", "--set-xmark", ALLOWED)
    sub = chains.pod("X", f"{peer_flag} {cidr} {' '.join(excepts)}")
    out[(FILTER, sub)] = [*(Rule(FILTER, sub, (peer_flag, e, "-j", "RETURN")) for e in excepts),
                          Rule(FILTER, sub, ("-j", "MARK", "--set-xmark", ALLOWED))]
    return (sub,)


def _peer_set(chains: NetpolChains, out: Ruleset, peer_flag: str, peers: tuple[Peer, ...]) -> str:
    """A `P-S-…` chain marking packets from (or to) any of the peers, shared by every pod chain
    that names the same set: n pods selected by one policy cost n jumps, not n × peers rules."""
    name = chains.pod("S", f"{peer_flag} {peers!r}")
    if (FILTER, name) not in out:
        out[(FILTER, name)] = [Rule(FILTER, name, (peer_flag, peer[0], "-j", *_peer_target(chains, out, peer_flag, peer)))
                               for peer in peers]
    return name


def _direction_chain(chains: NetpolChains, out: Ruleset, direction: str, fw: PodFirewall,
                     allows: tuple[Allow, ...]) -> str:
    name = chains.pod(direction, fw.key)
    peer_flag = "-s" if direction == "I" else "-d"
    rules = [Rule(FILTER, name, ("-m", "comment", "--comment", f"{fw.key} {'ingress' if direction == 'I' else 'egress'}",
                                 "-j", "MARK", "--set-xmark", CLEARED))]
    for allow in allows:
        ports = _port_args(allow.port)
        if allow.peers is None:
            rules.append(Rule(FILTER, name, (*ports, "-j", "MARK", "--set-xmark", ALLOWED)))
        elif len(allow.peers) == 1:
            rules.append(Rule(FILTER, name, (peer_flag, allow.peers[0][0], *ports,
                                             "-j", *_peer_target(chains, out, peer_flag, allow.peers[0]))))
        else:
            rules.append(Rule(FILTER, name, (*ports, "-j", _peer_set(chains, out, peer_flag, allow.peers))))
    rules.append(Rule(FILTER, name, ("-m", "mark", "--mark", ALLOWED, "-j", "RETURN")))
    rules.append(Rule(FILTER, name, ("-j", "REJECT", "--reject-with", "icmp-port-unreachable")))
    out[(FILTER, name)] = rules
    return name


def render(chains: NetpolChains, firewalls: list[PodFirewall]) -> Ruleset:
    """Every chain we want and its rules; the dispatch chain always exists."""
    out: Ruleset = {}
    fwd = chains.forward
    dispatch = [Rule(FILTER, fwd, ("-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "RETURN"))]
    for fw in firewalls:  # egress of the sender first: both ends must allow
        if fw.egress is not None:
            name = _direction_chain(chains, out, "E", fw, fw.egress)
            dispatch.append(Rule(FILTER, fwd, ("-s", f"{fw.ip}/32", "-j", name)))
    for fw in firewalls:
        if fw.ingress is not None:
            name = _direction_chain(chains, out, "I", fw, fw.ingress)
            dispatch.append(Rule(FILTER, fwd, ("-d", f"{fw.ip}/32", "-j", name)))
    dispatch.append(Rule(FILTER, fwd, ("-j", "MARK", "--set-xmark", CLEARED)))
    out[(FILTER, fwd)] = dispatch
    return out
