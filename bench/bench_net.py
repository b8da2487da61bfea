"""TCP throughput through skiff's networking against the same path without skiff.

    sudo .venv/bin/python bench/bench_net.py [--gib 0.5] [--runs 15] [--no-doc]

The same small Python sender and receiver run in every case (entered into a namespace with
`nsenter`), so only the path differs:

- container to container on skiff's default bridge (veth, bridge, veth; iptables FORWARD)
  against a plain veth pair between two namespaces made here, and against a bridge with two
  veths made here by hand on the host (same kernel path, none of skiff's rules);
- host to a published port through the host's address (DNAT in OUTPUT, bridge, veth) against
  a plain veth pair from the host into a namespace (same device path, no NAT, no bridge) and
  against the host's loopback (64 KiB MTU, no device: an upper bound no veth path reaches);
- host to a published port on 127.0.0.1, served by the engine's userland proxy (in the
  engine process, splice() in threads), for information: dockerd runs a docker-proxy process.

Figures are the receiver's bytes over the time from its first byte to EOF; every run measures each
path once, one after the other, and a ratio is the median of the runs' ratios (a busy spell of
the shared machine then mostly hits both sides of it).
Target (issue 3): skiff's paths within 10% of their baselines.
"""

from __future__ import annotations

import json
import secrets
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import report  # noqa: E402
from bench.targets import SkiffTarget, prepare, running  # noqa: E402

RECEIVER = r"""
import socket, sys, time
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((sys.argv[1], int(sys.argv[2])))
ls.listen(1)
print("ready", flush=True)
c, _ = ls.accept()
buf = bytearray(1 << 20)
view = memoryview(buf)
n = c.recv_into(view)
t0 = time.perf_counter()
total = n
while n:
    n = c.recv_into(view)
    total += n
print(total, time.perf_counter() - t0, flush=True)
"""

SENDER = r"""
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
chunk = b"\0" * (1 << 20)
for _ in range(int(sys.argv[3])):
    s.sendall(chunk)
s.close()
"""

PORT = 5201

READING = """What the figures say. Container to container, compare skiff's path with the bridge and two
veths made by hand on the same host: what differs there is skiff's own (rules, devices). The
gap to a bare veth pair is the kernel's: the bridge, and the host's netfilter run on bridged
frames (br_netfilter, and conntrack, active because the host has NAT rules), which dockerd's
docker0 pays the same way. Host to a published port through the host's address pays DNAT and
conntrack over a plain host-to-namespace veth; loopback (64 KiB MTU, no device) is a different
path altogether. The userland proxy relays with splice(). The machine is shared with other
work (load average in the header), so single transfers vary widely; the ratios come from
back-to-back pairs."""


NICE = ["nice", "-n", "-15"]  # the machine is shared: keep other work from deciding the figures


def ns_prefix(target: str) -> list[str]:
    """The command prefix that enters a network namespace (a pid, a named netns, or the host's),
    at a raised priority."""
    if not target:
        return NICE
    if target.isdigit():
        return [*NICE, "nsenter", "-t", target, "-n"]
    return [*NICE, "ip", "netns", "exec", target]


def transfer(recv_ns: str, bind: str, send_ns: str, dest: str, port: int, mib: int) -> float:
    """Bytes per second of one transfer of `mib` MiB from send_ns to dest:port, received in recv_ns
    on bind:PORT (the published port leads there), or on bind:port on the host's loopback."""
    listen = port if not recv_ns else PORT
    rx = subprocess.Popen([*ns_prefix(recv_ns), sys.executable, "-c", RECEIVER, bind, str(listen)],
                          stdout=subprocess.PIPE, text=True)
    try:
        assert rx.stdout is not None and rx.stdout.readline().strip() == "ready"
        subprocess.run([*ns_prefix(send_ns), sys.executable, "-c", SENDER, dest, str(port), str(mib)], check=True,
                       timeout=600)
        total, seconds = rx.stdout.readline().split()
        rx.wait(60)
    finally:
        if rx.poll() is None:
            rx.kill()
            rx.wait()
    return int(total) / float(seconds)


def host_address() -> str:
    out = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"], capture_output=True,
                         text=True).stdout
    for line in out.splitlines():
        fields = line.split()
        if not fields[1].startswith(("sb", "sk", "docker")):
            return fields[3].split("/")[0]
    raise SystemExit("no global IPv4 address on this host")


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True)


class VethPair:
    """Two namespaces joined by a plain veth pair (no bridge, NAT or engine); with `host_side`
    the first end stays in the host's namespace."""

    def __init__(self, host_side: bool = False) -> None:
        tag = secrets.token_hex(3)
        self.host_side = host_side
        self.a, self.b = ("" if host_side else f"skbna{tag}"), f"skbnb{tag}"
        self.host_if = f"skbnh{tag}"
        self.ip_a, self.ip_b = "10.251.77.1", "10.251.77.2"

    def __enter__(self) -> VethPair:
        _ip("netns", "add", self.b)
        if self.host_side:
            _ip("link", "add", self.host_if, "type", "veth", "peer", "name", "veth0", "netns", self.b)
            _ip("addr", "add", f"{self.ip_a}/24", "dev", self.host_if)
            _ip("link", "set", self.host_if, "up")
        else:
            _ip("netns", "add", self.a)
            _ip("link", "add", "veth0", "netns", self.a, "type", "veth", "peer", "name", "veth0", "netns", self.b)
            _ip("-n", self.a, "addr", "add", f"{self.ip_a}/24", "dev", "veth0")
            _ip("-n", self.a, "link", "set", "veth0", "up")
        _ip("-n", self.b, "addr", "add", f"{self.ip_b}/24", "dev", "veth0")
        _ip("-n", self.b, "link", "set", "veth0", "up")
        _ip("-n", self.b, "link", "set", "lo", "up")
        return self

    def __exit__(self, *exc) -> None:
        for ns in (self.a, self.b):
            if ns:
                subprocess.run(["ip", "netns", "del", ns], check=False)
        subprocess.run(["ip", "link", "del", self.host_if], check=False, capture_output=True)


class PlainBridge:
    """Two namespaces on a bridge of the host's made here by hand: the kernel path of a
    container-to-container transfer (bridge, and the host's netfilter on bridged frames) with
    none of skiff's rules or devices."""

    def __init__(self) -> None:
        tag = secrets.token_hex(3)
        self.br, self.a, self.b = f"skbnbr{tag}", f"skbnx{tag}", f"skbny{tag}"
        self.ip_a, self.ip_b = "10.251.78.2", "10.251.78.3"

    def __enter__(self) -> PlainBridge:
        _ip("link", "add", self.br, "type", "bridge")
        _ip("link", "set", self.br, "up")
        for i, (ns, addr) in enumerate(((self.a, self.ip_a), (self.b, self.ip_b))):
            _ip("netns", "add", ns)
            host_end = f"{self.br[:10]}p{i}"
            _ip("link", "add", host_end, "type", "veth", "peer", "name", "eth0", "netns", ns)
            _ip("link", "set", host_end, "master", self.br)
            _ip("link", "set", host_end, "up")
            _ip("-n", ns, "addr", "add", f"{addr}/24", "dev", "eth0")
            _ip("-n", ns, "link", "set", "eth0", "up")
        return self

    def __exit__(self, *exc) -> None:
        for ns in (self.a, self.b):
            subprocess.run(["ip", "netns", "del", ns], check=False)
        subprocess.run(["ip", "link", "del", self.br], check=False, capture_output=True)


def mbit(rate: float) -> str:
    return f"{rate * 8 / 1e6:,.0f}"


def spread(values: list[float]) -> str:
    """Median with the range of the runs: on a shared machine the range says how far to trust it."""
    return f"{mbit(statistics.median(values))} ({mbit(min(values))}–{mbit(max(values))})"


def main() -> None:
    ap = report.arg_parser(__doc__, reference_only=False)
    ap.add_argument("--gib", type=float, default=0.5, help="data per transfer (default 0.5 GiB)")
    ap.add_argument("--runs", type=int, default=15, help="transfers per path (default 15)")
    args = ap.parse_args()
    archive = prepare()
    mib = int(args.gib * 1024)
    skiff = SkiffTarget(archive)
    with running(skiff):
        docker = skiff.docker_client()
        docker.must("run", "-d", "--name", "rx", "-p", f"{PORT}:{PORT}", "busybox", "sleep", "3600")
        docker.must("run", "-d", "--name", "tx", "busybox", "sleep", "3600")
        info = {n: json.loads(docker.must("inspect", n))[0] for n in ("rx", "tx")}
        rx_pid, tx_pid = (str(info[n]["State"]["Pid"]) for n in ("rx", "tx"))
        rx_ip = info["rx"]["NetworkSettings"]["IPAddress"]
        host = host_address()

        with VethPair() as pair, VethPair(host_side=True) as host_pair, PlainBridge() as plain:
            paths = {  # name → (receiver namespace, bind, sender namespace, destination, port, MiB); each
                # skiff path next to its baselines
                "bridge": (rx_pid, "0.0.0.0", tx_pid, rx_ip, PORT, mib),
                "veth": (pair.b, "0.0.0.0", pair.a, pair.ip_b, PORT, mib),
                "plain_bridge": (plain.b, "0.0.0.0", plain.a, plain.ip_b, PORT, mib),
                "published": (rx_pid, "0.0.0.0", "", host, PORT, mib),
                "host_veth": (host_pair.b, "0.0.0.0", "", host_pair.ip_b, PORT, mib),
                "loopback": ("", "127.0.0.1", "", "127.0.0.1", PORT + 1, mib),
                "proxied": (rx_pid, "0.0.0.0", "", "127.0.0.1", PORT, mib),
            }
            samples: dict[str, list[float]] = {k: [] for k in paths}
            for _ in range(args.runs):  # interleaved, so a busy moment of the shared machine hits every path
                for name, spec in paths.items():
                    samples[name].append(transfer(*spec))
        shown = {k: spread(v) for k, v in samples.items()}

        def ratio(a: str, b: str) -> str:
            """The median of the per-run ratios: each run measured both paths a moment apart, so
            a busy spell of the shared machine mostly cancels out."""
            return f"{statistics.median(x / y for x, y in zip(samples[a], samples[b], strict=True)):.2f}"

        host_label = f"host → published port via {host} (DNAT)"
        rows = [
            ["container → container (default bridge)", shown["bridge"], "plain veth pair between two namespaces",
             shown["veth"], ratio("bridge", "veth")],
            ["container → container (default bridge)", shown["bridge"],
             "plain bridge + veths made by hand on the host", shown["plain_bridge"], ratio("bridge", "plain_bridge")],
            [host_label, shown["published"], "host → plain veth into a namespace", shown["host_veth"],
             ratio("published", "host_veth")],
            [host_label, shown["published"], "host loopback", shown["loopback"], ratio("published", "loopback")],
            ["host → published port via 127.0.0.1 (userland proxy)", shown["proxied"], "host loopback",
             shown["loopback"], ratio("proxied", "loopback")],
        ]

    body = "\n".join([
        "## TCP throughput (bench/bench_net.py)",
        "",
        f"{report.stamp()}; {report.machine()}. One TCP stream, {args.gib:g} GiB per transfer, {args.runs} runs; "
        "the same Python sender and receiver in every case, "
        "entered into the namespaces with nsenter, run at nice -15. Mbit/s: median (lowest–highest) of "
        "the runs. Each run measures every path once, one after the other; the ratio is the median of the "
        "runs' ratios.",
        "",
        report.table(["path through skiff", "Mbit/s", "baseline without skiff", "Mbit/s", "ratio"], rows),
        "",
        "Target: within 10% of the baseline (ratio ≥ 0.90) for the two kernel paths. The userland proxy "
        "only serves what NAT cannot (127.0.0.1 from the host) and is not held to it.",
        "",
        READING,
    ])
    report.publish("bench_net", body, args)


if __name__ == "__main__":
    main()
