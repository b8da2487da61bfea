"""The kernel side of host-gw pod routing: routes to other nodes' podCIDRs (marked with a route
protocol of our own, so stale ones are found and removed) and a NAT exemption so pod-to-pod
traffic keeps its pod source address (the engine masquerades everything leaving its bridge)."""

from __future__ import annotations

import socket
import subprocess

from skiff.cluster.nodenet.routes import PodRoute

ROUTE_PROTO = 77  # an unassigned rt_protos number: marks the routes this agent installed


def installed_routes() -> list[PodRoute]:
    from pyroute2 import IPRoute

    out = []
    with IPRoute() as ipr:
        for r in ipr.get_routes(family=socket.AF_INET):
            if r.get("proto") != ROUTE_PROTO:
                continue
            dst, gw = r.get_attr("RTA_DST"), r.get_attr("RTA_GATEWAY")
            if dst and gw:
                out.append(PodRoute(f"{dst}/{r['dst_len']}", gw))
    return out


def apply_routes(add: list[PodRoute], delete: list[PodRoute]) -> list[str]:
    """Install `add` (replacing a route to the same CIDR) and remove `delete`; returns errors
    (a node address not reachable on-link, say) so one bad node does not stop the others."""
    from pyroute2 import IPRoute
    from pyroute2.netlink.exceptions import NetlinkError

    errors = []
    with IPRoute() as ipr:
        for r in delete:
            try:
                ipr.route("del", dst=r.dest, gateway=r.via, proto=ROUTE_PROTO)
            except NetlinkError as e:
                if e.code != 3:  # ESRCH: already gone
                    errors.append(f"delete route {r.dest} via {r.via}: {e}")
        for r in add:
            try:
                ipr.route("replace", dst=r.dest, gateway=r.via, proto=ROUTE_PROTO)
            except NetlinkError as e:
                errors.append(f"route {r.dest} via {r.via}: {e}")
    return errors


def nat_rules(chain: str, own_cidr: str, cluster_cidrs: list[str]) -> list[list[str]]:
    """iptables arguments for the nat chain: pod traffic to another node's pods is not masqueraded
    (ACCEPT ends the nat chain walk: the engine's MASQUERADE rule after ours is never reached)."""
    return [["-t", "nat", "-A", chain, "-s", own_cidr, "-d", dest, "-j", "ACCEPT"] for dest in cluster_cidrs]


def _iptables(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["iptables", "-w", *args], capture_output=True, text=True)


def apply_nat(chain: str, own_cidr: str, dests: list[str]) -> None:
    """Our chain, jumped from the top of nat POSTROUTING (before the engine's MASQUERADE), rebuilt."""
    _iptables("-t", "nat", "-N", chain)
    if _iptables("-t", "nat", "-C", "POSTROUTING", "-j", chain).returncode != 0:
        _iptables("-t", "nat", "-I", "POSTROUTING", "1", "-j", chain)
    _iptables("-t", "nat", "-F", chain)
    for rule in nat_rules(chain, own_cidr, dests):
        _iptables(*rule)


def remove_nat(chain: str) -> None:
    while _iptables("-t", "nat", "-D", "POSTROUTING", "-j", chain).returncode == 0:
        pass
    _iptables("-t", "nat", "-F", chain)
    _iptables("-t", "nat", "-X", chain)
