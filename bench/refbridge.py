"""A bridge of the benchmark's own for the reference dockerd, and the removal of dockerd's
iptables chains afterwards (issue 3: dockerd on its own bridge, with its iptables rules).

dockerd with `--bridge=NAME --iptables=true` adds DOCKER, DOCKER-USER and
DOCKER-ISOLATION-STAGE-1/2 chains (filter and nat) and rules jumping to them from the
built-in chains, and leaves them when it stops. The benchmark refuses to start if DOCKER
chains exist already (they would be someone else's), and deletes exactly what dockerd made.
"""

from __future__ import annotations

import ipaddress
import secrets
import subprocess

CHAIN_PREFIX = "DOCKER"


def _run(*args: str, check: bool = True) -> str:
    return subprocess.run(list(args), capture_output=True, text=True, check=check).stdout


def docker_chains(table: str) -> list[str]:
    return [line.split()[0][1:] for line in _run("iptables-save", "-t", table).splitlines()
            if line.startswith(":" + CHAIN_PREFIX)]


def free_subnet() -> ipaddress.IPv4Network:
    """A /24 in 10.249.0.0/16 that no route on the host overlaps."""
    used = []
    for line in _run("ip", "-4", "route", "show", "table", "all").splitlines():
        first = line.split()[0] if line.split() else ""
        try:
            used.append(ipaddress.ip_network(first, strict=False))
        except ValueError:
            continue
    for net in ipaddress.ip_network("10.249.0.0/16").subnets(new_prefix=24):
        if not any(net.overlaps(u) for u in used if u.prefixlen > 0):
            return net
    raise RuntimeError("no free /24 in 10.249.0.0/16 for the reference bridge")


class RefBridge:
    """`with RefBridge() as b:` a bridge with the gateway address up; `b.dockerd_args()`."""

    def __init__(self) -> None:
        self.name = "skrb" + secrets.token_hex(3)
        self.subnet = free_subnet()
        self.gateway = next(self.subnet.hosts())

    def __enter__(self) -> RefBridge:
        for table in ("filter", "nat"):
            if docker_chains(table):
                raise RuntimeError(f"iptables {table} already has DOCKER chains (another dockerd?): "
                                   "not running dockerd with --iptables=true next to them")
        _run("ip", "link", "add", self.name, "type", "bridge")
        _run("ip", "addr", "add", f"{self.gateway}/{self.subnet.prefixlen}", "dev", self.name)
        _run("ip", "link", "set", self.name, "up")
        return self

    def dockerd_args(self) -> list[str]:
        return [f"--bridge={self.name}", "--iptables=true", "--ip6tables=false", "--ip-forward=true",
                "--ip-masq=true"]

    def __exit__(self, *exc) -> None:
        remove_docker_rules(self.name)
        _run("ip", "link", "del", self.name, check=False)


def remove_docker_rules(bridge: str) -> None:
    """Delete the built-in chains' rules that jump to DOCKER* chains or name dockerd's bridge
    (FORWARD accepts, the MASQUERADE of its subnet), then flush and delete the DOCKER* chains:
    what dockerd left."""
    for table in ("filter", "nat"):
        chains = docker_chains(table)
        for line in _run("iptables-save", "-t", table).splitlines():
            if not line.startswith("-A ") or line.split()[1].startswith(CHAIN_PREFIX):
                continue
            words = line.split()
            if bridge in words or any(w.startswith(CHAIN_PREFIX) for w in words[2:]):
                _run("iptables", "-t", table, "-D", *words[1:], check=False)
        for chain in chains:
            _run("iptables", "-t", table, "-F", chain, check=False)
        for chain in chains:
            _run("iptables", "-t", table, "-X", chain, check=False)
