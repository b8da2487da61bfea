"""A private LAN of node network namespaces for multi-node tests: a host bridge (the LAN, the
server listening on its gateway address) and per node a netns joined to it by a veth pair,
with an address of its own and a default route via the host. Everything is removed by cleanup()."""

from __future__ import annotations

import contextlib
import secrets
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    r = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {r.stderr.strip()}")
    return r


def _used_second_octets() -> set[int]:
    out = _ip("-4", "-o", "addr").stdout + _ip("-4", "route").stdout
    return {int(w.split(".")[1]) for w in out.split() if w.startswith("10.") and w.count(".") >= 3}


@dataclass
class NodeNs:
    name: str  # the netns (under /run/netns)
    ip: str  # the node's address on the LAN
    pod_bip: str  # the engine bridge's address/prefix: the node's podCIDR

    @property
    def wrap(self) -> list[str]:
        """Run a command in this node's network namespace only (the mounts, so cgroupfs, stay)."""
        return ["nsenter", f"--net=/run/netns/{self.name}"]


class NodeLan:
    def __init__(self) -> None:
        self.tag = secrets.token_hex(2)
        used = _used_second_octets()
        octet = next(o for o in (150 + secrets.randbelow(60) for _ in range(100)) if o not in used)
        self.base = f"10.{octet}"
        self.bridge = f"sknl{self.tag}"
        self.gateway = f"{self.base}.255.1"
        self.nodes: list[NodeNs] = []

    def up(self) -> NodeLan:
        _ip("link", "add", self.bridge, "type", "bridge")
        _ip("addr", "add", f"{self.gateway}/24", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")
        return self

    def add_node(self) -> NodeNs:
        i = len(self.nodes)
        ns = NodeNs(f"sknn{self.tag}{i}", f"{self.base}.255.{10 + i}", f"{self.base}.{i}.1/24")
        self.nodes.append(ns)
        host_end = f"sknv{self.tag}{i}"
        _ip("netns", "add", ns.name)
        _ip("link", "add", host_end, "type", "veth", "peer", "name", "eth0", "netns", ns.name)
        _ip("link", "set", host_end, "master", self.bridge, "up")
        _ip("-n", ns.name, "link", "set", "lo", "up")
        _ip("-n", ns.name, "addr", "add", f"{ns.ip}/24", "dev", "eth0")
        _ip("-n", ns.name, "link", "set", "eth0", "up")
        _ip("-n", ns.name, "route", "add", "default", "via", self.gateway)
        return ns

    def cleanup(self) -> None:
        """Remove the netns (their veths, bridges, routes and iptables go with them) and the LAN.
        The agents must be stopped first."""
        for ns in self.nodes:
            pids = _ip("netns", "pids", ns.name, check=False).stdout.split()
            for pid in pids:  # nothing should be left; a leak must not keep the netns alive
                subprocess.run(["kill", "-9", pid], capture_output=True)
            _ip("netns", "del", ns.name, check=False)
        _ip("link", "del", self.bridge, check=False)


@contextlib.contextmanager
def lan_cluster(busybox_archive: Path, nodes: int, name: str,
                own_bip: Callable[[int], bool] = lambda i: True) -> Iterator[tuple[Any, list[Any], NodeLan, Path]]:
    """A `skiff server` on the LAN's gateway and `nodes` agents, each in its node's netns with
    busybox loaded: (server, agents, lan, scratch root). Node i's agent takes `--bip` from its
    NodeNs when `own_bip(i)`, else the podCIDR the server's IPAM gives. Everything is removed after."""
    import secrets
    import shutil
    import tempfile

    from tests.support.agent import Agent
    from tests.support.server import Server

    root = Path(tempfile.mkdtemp(prefix=f"skiff-{name}-", dir="/tmp"))
    net = NodeLan()
    token = secrets.token_hex(8)
    srv = Server(root / "server", extra_args=["--token", token, "--bind-address", net.gateway,
                                              "--cluster-cidr", f"{net.base}.0.0/17"])
    srv.url = f"https://{net.gateway}:{srv.port}"
    agents: list[Agent] = []
    try:
        net.up()
        srv.start()
        for i in range(nodes):
            ns = net.add_node()
            a = Agent(srv.url, token, root / f"node{i}", node_name=f"{name}-{i}-{secrets.token_hex(2)}",
                      extra_args=["--bip", ns.pod_bip] if own_bip(i) else [], wrap=ns.wrap)
            agents.append(a)
            a.start()
            a.load(busybox_archive)
        yield srv, agents, net, root
    finally:
        for a in agents:
            a.cleanup()
        srv.cleanup()
        net.cleanup()
        shutil.rmtree(root, ignore_errors=True)
