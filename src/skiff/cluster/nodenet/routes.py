"""Which routes a node needs to reach the other nodes' pods: pure data from Node objects."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class PodRoute:
    dest: str  # another node's podCIDR
    via: str  # that node's InternalIP


def internal_ip(node: dict) -> str:
    for addr in (node.get("status") or {}).get("addresses") or []:
        if addr.get("type") == "InternalIP" and addr.get("address"):
            return str(addr["address"])
    return ""


def pod_cidrs(node: dict) -> list[str]:
    spec = node.get("spec") or {}
    cidrs = list(spec.get("podCIDRs") or [])
    if not cidrs and spec.get("podCIDR"):
        cidrs = [spec["podCIDR"]]
    return [c for c in cidrs if ":" not in c]  # IPv4 only, as the engine's bridges are


def desired_routes(nodes: list[dict], self_name: str, own_cidr: str, own_ip: str = "") -> list[PodRoute]:
    """A route per other node's IPv4 podCIDR via its InternalIP. Nodes without either are left
    out (not registered yet); a CIDR overlapping our own is never routed away from our bridge;
    nodes sharing our address or a loopback one run on this very host, whose bridges are
    already connected routes here."""
    own = ipaddress.ip_network(own_cidr, strict=False) if own_cidr else None
    out: dict[str, PodRoute] = {}
    for node in nodes:
        if (node.get("metadata") or {}).get("name") == self_name:
            continue
        via = internal_ip(node)
        if not via or ":" in via or via == own_ip or ipaddress.ip_address(via).is_loopback:
            continue
        for cidr in pod_cidrs(node):
            try:
                net = ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                continue
            if own is not None and net.overlaps(own):
                continue
            out.setdefault(str(net), PodRoute(str(net), via))
    return sorted(out.values())


def route_changes(current: list[PodRoute], desired: list[PodRoute]) -> tuple[list[PodRoute], list[PodRoute]]:
    """(to add or replace, to delete) to go from the routes we installed to the desired ones."""
    want = {r.dest: r for r in desired}
    have = {r.dest: r for r in current}
    add = [r for d, r in sorted(want.items()) if have.get(d) != r]
    delete = [r for d, r in sorted(have.items()) if d not in want]
    return add, delete
