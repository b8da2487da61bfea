"""NetworkPolicies, Pods and Namespaces → what each pod of this node may receive and send (pure).

kube-router's (and the API's) semantics: a pod selected by a policy whose policyTypes hold
Ingress is isolated for ingress and accepts only what the union of those policies' ingress rules
allows; Egress likewise. A rule allows when one of its peers and one of its ports match (no peers:
any source, no ports: any port). Peers: podSelector (the policy's namespace), namespaceSelector
(every pod there), both (pods matching in matching namespaces), ipBlock (cidr minus except).
Named ports are resolved to numbers on the pod that owns them: the selected pod for ingress, the
peer pod for egress (for an ipBlock or any-peer egress rule, on any pod that names the port)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from skiff.cluster.apimachinery.selectors import LabelSelector

Obj = dict[str, Any]
NAME_LABEL = "kubernetes.io/metadata.name"  # the apiserver puts it on every namespace


@dataclass(frozen=True)
class Port:
    protocol: str  # TCP, UDP or SCTP
    port: int | None = None  # None: every port of the protocol
    end: int | None = None  # a range port..end


Peer = tuple[str, tuple[str, ...]]  # (cidr, the ranges of it excepted)


@dataclass(frozen=True)
class Allow:
    """Traffic allowed from (ingress) or to (egress) any of `peers` on `port`. peers None: any
    address; port None: any protocol and port. A policy's peer set is the same tuple for every
    pod the policy selects, so the rendering can share one chain for it."""

    peers: tuple[Peer, ...] | None = None
    port: Port | None = None


@dataclass(frozen=True)
class PodFirewall:
    """A pod of this node and its allowed traffic; None: that direction is not isolated."""

    key: str  # namespace/name
    ip: str
    ingress: tuple[Allow, ...] | None
    egress: tuple[Allow, ...] | None


@dataclass(frozen=True)
class PodInfo:
    namespace: str
    name: str
    ip: str
    node: str
    labels: dict[str, str]
    ports: tuple[tuple[str, str, int], ...]  # (name, protocol, number) of its named container ports


def pod_info(pod: Obj) -> PodInfo | None:
    """A pod that has an address of its own (not host network, not finished), else None."""
    meta, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    ip = status.get("podIP")
    if not ip or spec.get("hostNetwork") or status.get("phase") in ("Succeeded", "Failed"):
        return None
    ports = tuple((p["name"], p.get("protocol") or "TCP", int(p["containerPort"]))
                  for c in spec.get("containers") or [] for p in c.get("ports") or []
                  if p.get("name") and p.get("containerPort"))
    return PodInfo(meta.get("namespace", "default"), meta.get("name", ""), ip, spec.get("nodeName", ""),
                   meta.get("labels") or {}, ports)


def namespace_labels(namespaces: Iterable[Obj]) -> dict[str, dict[str, str]]:
    out = {}
    for ns in namespaces:
        meta = ns.get("metadata") or {}
        out[meta.get("name", "")] = {**(meta.get("labels") or {}), NAME_LABEL: meta.get("name", "")}
    return out


def policy_types(spec: Obj) -> set[str]:
    """As defaulted by the apiserver (policies stored before defaulting get the same)."""
    given = spec.get("policyTypes")
    if given:
        return set(given)
    return {"Ingress", "Egress"} if spec.get("egress") else {"Ingress"}


def _resolve(port: Obj, owners: Iterable[PodInfo]) -> list[Port]:
    protocol = port.get("protocol") or "TCP"
    number, end = port.get("port"), port.get("endPort")
    if number is None:
        return [Port(protocol)]
    if isinstance(number, int):
        return [Port(protocol, number, end if isinstance(end, int) and end > number else None)]
    found = {n for owner in owners for name, proto, n in owner.ports if name == number and proto == protocol}
    return [Port(protocol, n) for n in sorted(found)]  # a name no pod has matches nothing


class _Cluster:
    def __init__(self, pods: list[PodInfo], namespaces: dict[str, dict[str, str]]):
        self.pods = pods
        self.namespaces = namespaces
        self._peers: dict[tuple[str, str], tuple[list[PodInfo], tuple[Peer, ...]]] = {}

    def peer_pods(self, peer: Obj, namespace: str) -> tuple[list[PodInfo], tuple[Peer, ...]]:
        """The pods a peer names and their addresses; the same for every pod a policy selects,
        so computed once per sync."""
        key = (namespace, json.dumps(peer, sort_keys=True))
        if key not in self._peers:
            pods = self._match(peer, namespace)
            self._peers[key] = pods, tuple(sorted({(f"{p.ip}/32", ()) for p in pods}))
        return self._peers[key]

    def _match(self, peer: Obj, namespace: str) -> list[PodInfo]:
        pod_sel = LabelSelector.from_object(peer["podSelector"]) if peer.get("podSelector") is not None else None
        if peer.get("namespaceSelector") is not None:
            ns_sel = LabelSelector.from_object(peer["namespaceSelector"])
            in_ns = [p for p in self.pods if ns_sel.matches(self.namespaces.get(p.namespace, {NAME_LABEL: p.namespace}))]
        else:
            in_ns = [p for p in self.pods if p.namespace == namespace]
        return [p for p in in_ns if pod_sel is None or pod_sel.matches(p.labels)]


def _rule_allows(rule: Obj, peers_key: str, namespace: str, cluster: _Cluster,
                 target: PodInfo, ingress: bool) -> list[Allow]:
    ports = rule.get("ports") or []
    peers = rule.get(peers_key) or []
    out: list[Allow] = []

    def ports_for(owners: list[PodInfo]) -> list[Port | None]:
        if not ports:
            return [None]
        return [p for port in ports for p in _resolve(port, owners)]

    if not peers:
        owners = [target] if ingress else cluster.pods
        return [Allow(port=p) for p in ports_for(owners)]
    for peer in peers:
        block = peer.get("ipBlock")
        if block is not None:
            owners = [target] if ingress else cluster.pods
            out += [Allow(((block["cidr"], tuple(block.get("except") or ())),), p) for p in ports_for(owners)]
            continue
        pods, addresses = cluster.peer_pods(peer, namespace)
        if not pods:
            continue
        if ingress or not any(isinstance(port.get("port"), str) for port in ports):
            out += [Allow(addresses, p) for p in ports_for([target])]
            continue
        by_port: dict[Port | None, set[Peer]] = {}  # egress to named ports: each peer pod's own number
        for pod in pods:
            for p in ports_for([pod]):
                by_port.setdefault(p, set()).add((f"{pod.ip}/32", ()))
        out += [Allow(tuple(sorted(group)), p) for p, group in by_port.items()]
    return out


def build(policies: Iterable[Obj], pods: Iterable[Obj], namespaces: Iterable[Obj], node: str) -> list[PodFirewall]:
    """The firewall of every pod on `node` that some policy isolates, sorted by pod."""
    infos = [i for i in (pod_info(p) for p in pods) if i is not None]
    cluster = _Cluster(infos, namespace_labels(namespaces))
    out: list[PodFirewall] = []
    for target in sorted((p for p in infos if p.node == node), key=lambda p: (p.namespace, p.name)):
        ingress: list[Allow] | None = None
        egress: list[Allow] | None = None
        for policy in policies:
            meta, spec = policy.get("metadata") or {}, policy.get("spec") or {}
            if meta.get("namespace") != target.namespace:
                continue
            if not LabelSelector.from_object(spec.get("podSelector") or {}).matches(target.labels):
                continue
            types = policy_types(spec)
            if "Ingress" in types:
                ingress = ingress or []
                for rule in spec.get("ingress") or []:
                    ingress += _rule_allows(rule or {}, "from", target.namespace, cluster, target, True)
            if "Egress" in types:
                egress = egress or []
                for rule in spec.get("egress") or []:
                    egress += _rule_allows(rule or {}, "to", target.namespace, cluster, target, False)
        if ingress is not None or egress is not None:
            out.append(PodFirewall(f"{target.namespace}/{target.name}", target.ip,
                                   _unique(ingress), _unique(egress)))
    return out


def _unique(allows: list[Allow] | None) -> tuple[Allow, ...] | None:
    return None if allows is None else tuple(dict.fromkeys(allows))
