"""Helpers for the network-edge integration tests: names that clean up after themselves, host
addresses, free ports, polling."""

import contextlib
import secrets
import socket
import subprocess
import time
import urllib.request


@contextlib.contextmanager
def made_names(engine, prefix: str):
    """new(kind="c"|"net") gives a fresh name; the containers and then the networks made under
    those names are removed afterwards."""
    made: dict[str, list[str]] = {"c": [], "net": []}

    def new(kind: str = "c") -> str:
        made[kind].append(f"{prefix}-{secrets.token_hex(4)}")
        return made[kind][-1]

    try:
        yield new
    finally:
        if made["c"]:
            engine.docker("rm", "-f", *made["c"])
        for net in made["net"]:
            engine.docker("network", "rm", net)


def host_address() -> str:
    """The host's first global IPv4 address (not loopback)."""
    out = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"], capture_output=True,
                         text=True).stdout
    for line in out.splitlines():
        fields = line.split()
        addr = fields[3].split("/")[0]
        if not fields[1].startswith(("sk", "docker")):
            return addr
    raise RuntimeError("no global IPv4 address on this host")


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("0.0.0.0", 0))
        return s.getsockname()[1]


def http_get(url: str, deadline: float = 60) -> str:
    """The body at `url`, retried while the server in the container starts."""
    end = time.monotonic() + deadline
    while True:
        try:
            with urllib.request.urlopen(url, timeout=3) as r:
                return r.read().decode()
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.2)


def iptables_lines(prefix: str) -> list[str]:
    out = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if prefix in line]


HTTPD = "mkdir -p /www && echo hello-$HOSTNAME > /www/index.html && exec httpd -f -p 80 -h /www"


def nc_get(engine, where: list[str], host: str, port: int, deadline: float = 20) -> str:
    """The HTTP body of GET / at host:port, fetched with busybox nc from `where` (["run", "--rm",
    "busybox"] or ["exec", NAME]); busybox-static's wget crashes, nc does not. Retried while the
    server in the container starts."""
    script = f"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 {host} {port}"
    end = time.monotonic() + deadline
    while True:
        p = engine.docker(*where, "sh", "-c", script)
        reply = p.stdout.decode()
        if p.returncode == 0 and "\r\n\r\n" in reply:
            return reply.split("\r\n\r\n", 1)[-1]
        assert time.monotonic() < end, f"no answer from {host}:{port}: {p.stderr.decode()}"
        time.sleep(0.3)
