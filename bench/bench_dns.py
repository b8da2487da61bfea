"""Cluster DNS against dnsmasq: queries/s and latency for cluster names with 1,000 Services loaded.

    .venv/bin/python bench/bench_dns.py [--services N] [--seconds S] [--no-doc]

skiff's node DNS server (cluster/dns: the resolver over the in-memory index, the engine's DNS
sockets) runs in a process of its own on 127.0.0.1, its index filled with N ClusterIP Services
as the informers would fill it; dnsmasq (Debian's dnsmasq-base) answers the same N names from
a hosts file, in the same run. One client process asks A queries for random Service FQDNs over
UDP: a closed loop with 1 query in flight (latency) and with 32 in flight (throughput), the two
servers taking turns for several rounds (the machine is shared: medians over the rounds).
"""

from __future__ import annotations

import asyncio
import os
import random
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import report  # noqa: E402
from bench.stats import percentile  # noqa: E402


def median(values: list[float]) -> float:
    return percentile(values, 50)

DOMAIN = "cluster.local"


def names(count: int) -> list[tuple[str, str]]:
    """(FQDN, cluster IP) of the benchmark's Services."""
    return [(f"svc-{i}.bench.svc.{DOMAIN}", f"10.43.{10 + i // 250}.{1 + i % 250}") for i in range(count)]


def serve(port: int, count: int) -> None:
    """The skiff side: the index as informers would fill it, served on 127.0.0.1:port."""
    from skiff.cluster.dns.index import ClusterIndex
    from skiff.cluster.dns.resolver import Resolver
    from skiff.cluster.dns.server import NodeDns

    ix = ClusterIndex(DOMAIN)
    for fqdn, ip in names(count):
        ix.set_service({"metadata": {"name": fqdn.split(".")[0], "namespace": "bench"},
                        "spec": {"clusterIP": ip, "clusterIPs": [ip], "ports": [{"name": "http", "port": 80}]}})

    async def main() -> None:
        server = NodeDns(Resolver(ix), [], port=port)
        await server.serve("127.0.0.1")
        print("ready", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_answering(port: int, name: str, timeout: float = 20) -> None:
    from skiff.engine.network import dns_codec as codec

    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.2)
        while time.monotonic() < deadline:
            try:
                s.sendto(codec.build_query(name), ("127.0.0.1", port))
                if s.recv(4096):
                    return
            except OSError:
                time.sleep(0.05)
    raise RuntimeError(f"nothing answers on 127.0.0.1:{port}")


def load(port: int, queries: list[bytes], window: int, seconds: float) -> tuple[float, list[float], int]:
    """Closed loop with `window` queries in flight: (queries/s, latencies in ms, unanswered)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.connect(("127.0.0.1", port))
    sock.setblocking(False)
    sent: dict[int, float] = {}
    latencies: list[float] = []
    next_id, lost = 0, 0
    rng = random.Random(1)
    end = time.perf_counter() + seconds
    begin = time.perf_counter()

    def send() -> None:
        nonlocal next_id
        qid = next_id = (next_id + 1) & 0xFFFF
        q = rng.choice(queries)
        sent[qid] = time.perf_counter()  # before the send: the reply can be back before it returns
        sock.send(qid.to_bytes(2, "big") + q[2:])

    for _ in range(window):
        send()
    while time.perf_counter() < end:
        ready, _, _ = select.select([sock], [], [], 1.0)
        if not ready:  # a lost datagram: count it and refill the window
            lost += len(sent)
            sent.clear()
            for _ in range(window):
                send()
            continue
        while True:
            try:
                data = sock.recv(4096)
            except BlockingIOError:
                break
            t0 = sent.pop(int.from_bytes(data[:2], "big"), None)
            if t0 is not None:
                latencies.append((time.perf_counter() - t0) * 1000)
                send()
    elapsed = time.perf_counter() - begin
    sock.close()
    return len(latencies) / elapsed, latencies, lost


def main() -> None:
    ap = report.arg_parser(__doc__, reference_only=False)
    ap.add_argument("--services", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=3.0, help="per case and round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--serve", type=int, default=0, help=argparse_hidden())
    args = ap.parse_args()
    if args.serve:
        serve(args.serve, args.services)
        return
    dnsmasq = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
    if not os.path.exists(dnsmasq):
        sys.exit("dnsmasq is not installed (apt-get install dnsmasq-base)")
    report.machine()
    report.stamp()
    from skiff.engine.network import dns_codec as codec

    entries = names(args.services)
    queries = [codec.build_query(fqdn) for fqdn, _ in entries]
    tmp = Path(tempfile.mkdtemp(prefix="skiff-benchdns-"))
    procs: list[subprocess.Popen] = []
    results: dict[tuple[str, int], list[tuple[float, list[float], int]]] = {}
    try:
        hosts = tmp / "hosts"
        hosts.write_text("".join(f"{ip} {fqdn}\n" for fqdn, ip in entries))
        skiff_port, ref_port = free_port(), free_port()
        procs.append(subprocess.Popen([sys.executable, __file__, "--serve", str(skiff_port), "--services",
                                       str(args.services)], stdout=subprocess.DEVNULL))
        procs.append(subprocess.Popen([dnsmasq, "--keep-in-foreground", "--no-resolv", "--no-hosts",
                                       f"--addn-hosts={hosts}", "--listen-address=127.0.0.1", "--bind-interfaces",
                                       f"--port={ref_port}", "--cache-size=10000", "--user=root",
                                       f"--pid-file={tmp / 'dnsmasq.pid'}", "--log-facility=-"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for port in (skiff_port, ref_port):
            wait_answering(port, entries[0][0])
        for _ in range(args.rounds):
            for window in (1, 32):
                for label, port in (("skiff", skiff_port), ("dnsmasq", ref_port)):
                    load(port, queries, window, 0.5)  # warm-up
                    results.setdefault((label, window), []).append(load(port, queries, window, args.seconds))
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
    rows = []
    for window in (1, 32):
        figures = {}
        for label in ("skiff", "dnsmasq"):
            runs = results[(label, window)]
            figures[label] = (median([r[0] for r in runs]), median([percentile(r[1], 50) for r in runs]),
                              median([percentile(r[1], 99) for r in runs]), sum(r[2] for r in runs),
                              " / ".join(f"{r[0] / 1000:.0f}k" for r in runs))
            qps, p50, p99, lost, each = figures[label]
            rows.append([label, str(window), f"{qps:,.0f}", each, f"{p50:.3f} ms", f"{p99:.3f} ms", str(lost)])
        (s_qps, s_p50, s_p99, _, _), (r_qps, r_p50, r_p99, _, _) = figures["skiff"], figures["dnsmasq"]
        rows.append(["ratio skiff/dnsmasq", str(window), f"{s_qps / r_qps:.2f}", "", f"{s_p50 / r_p50:.2f}",
                     f"{s_p99 / r_p99:.2f}", ""])
    body = (f"## Cluster DNS (bench/bench_dns.py)\n\n{report.stamp()}, commit {report.git_rev()}; "
            f"{report.machine()}.\n\n{args.services} ClusterIP Services loaded; A queries for random Service "
            f"FQDNs over UDP on loopback from one Python client process, {args.seconds:.0f} s per case and "
            f"round (after a 0.5 s warm-up), {args.rounds} rounds with the servers taking turns; medians. skiff: the node DNS server (`cluster/dns`) in a process of its own; "
            "reference: dnsmasq answering the same names from a hosts file (`--addn-hosts`), same run.\n\n"
            + report.table(["server", "in flight", "queries/s (median)", "each round", "p50 (median)",
                            "p99 (median)", "unanswered"], rows)
            + "\n\nThe client is one Python process sharing the machine's 2 cores with the server under test, "
            "so with 32 in flight neither figure is that server's ceiling. Both answer repeated questions from a "
            "cache: dnsmasq from its hosts cache, skiff from replies kept until the index changes (an informer "
            "event).\n")
    report.publish("dns", body, args)


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    main()
