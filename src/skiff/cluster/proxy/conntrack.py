"""Stale UDP conntrack entries (kube-proxy's conntrack cleanup).

UDP has no connection to end: an entry NATed to an endpoint that went away keeps sending the
client's packets there until it times out, and an entry made while a service had no endpoint
(and was rejected) keeps bypassing the new DNAT. After the rules change, `stale_entries` (pure)
lists the `conntrack -D` filters that clear both cases; `clear` runs them with the `conntrack`
binary (the conntrack package) in the agent's network namespace."""

from __future__ import annotations

import logging
import shutil
import subprocess

from skiff.cluster.proxy.model import ServiceEndpoints, usable

log = logging.getLogger("skiff.proxy")

Snapshot = dict[tuple[str, str], ServiceEndpoints]  # (ServicePortName, protocol) → what was routed


def snapshot(services: list[ServiceEndpoints]) -> Snapshot:
    return {(s.service.key, s.service.protocol): s for s in services}


def stale_entries(before: Snapshot, after: Snapshot) -> list[list[str]]:
    """`conntrack -D` arguments for the UDP entries the change made stale."""
    out: list[list[str]] = []
    for key, now in sorted(after.items()):
        sp = now.service
        if sp.protocol != "UDP":
            continue
        old = before.get(key)
        destinations = [sp.cluster_ip, *sp.external_ips, *sp.load_balancer_ips]
        new_eps = {e.address: e.ip for e in usable(now.endpoints)}
        old_eps = {e.address: e.ip for e in usable(old.endpoints)} if old else {}
        if new_eps and not old_eps:  # the rejections of the empty service must not stick
            out += [["-D", "-p", "udp", "--orig-dst", ip] for ip in destinations]
            if sp.node_port:
                out.append(["-D", "-p", "udp", "--dport", str(sp.node_port)])
        # by address, as kube-proxy: an endpoint gone clears its IP's flows (another port of that
        # IP loses its flows too, and they are simply made again)
        for ip in sorted({ip for addr, ip in old_eps.items() if addr not in new_eps}):
            out += [["-D", "-p", "udp", "--orig-dst", dest, "--dst-nat", ip] for dest in destinations]
            if sp.node_port:
                out.append(["-D", "-p", "udp", "--dport", str(sp.node_port), "--dst-nat", ip])
    for key, old in sorted(before.items()):  # a UDP service removed: its endpoints' entries go too
        if key not in after and old.service.protocol == "UDP":
            for e in usable(old.endpoints):
                out.append(["-D", "-p", "udp", "--orig-dst", old.service.cluster_ip, "--dst-nat", e.ip])
    return out


_warned = False


def clear(entries: list[list[str]]) -> None:
    """Run the deletions; "0 flow entries have been deleted" (exit 1) is no error."""
    global _warned
    if not entries:
        return
    binary = shutil.which("conntrack")
    if binary is None:
        if not _warned:
            log.warning("conntrack not found (install the conntrack package): stale UDP flows to removed "
                        "endpoints last until they time out")
            _warned = True
        return
    for args in entries:
        r = subprocess.run([binary, *args], capture_output=True, text=True)
        if r.returncode not in (0, 1):
            log.debug("conntrack %s: %s", " ".join(args), r.stderr.strip())
