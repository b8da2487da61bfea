"""The Kubernetes API server through HTTPS: `skiff server` on SQLite and on etcd.

    .venv/bin/python bench/bench_apiserver.py [--ops N] [--watchers N] [--no-doc]

For each backend and 1, 10 and 100 concurrent clients: create, get, update and list
(limit 100) of ConfigMaps, with p50/p99 latency, and watch throughput (events per second
one watcher receives while 10 clients create). Then the issue's targets through the API:
mutating requests paced at 200/s (p99), and N watchers each receiving every event of a
1,000-object burst. Also the server's cold start to /readyz and its idle memory. The
reference, in the same run: etcd's own put and range on the same etcd server.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp  # noqa: E402
import orjson  # noqa: E402
from tests.support.etcd import Etcd  # noqa: E402
from tests.support.server import Server  # noqa: E402

from bench import report  # noqa: E402
from bench.bench_controllers import cpu_seconds  # noqa: E402
from bench.bench_storage import etcd_reference_rows, measure  # noqa: E402
from bench.procmem import process_memory  # noqa: E402
from bench.stats import percentile  # noqa: E402


def _cm(name: str) -> bytes:
    return orjson.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
                         "data": {"config": "x" * 512}})


class Api:
    def __init__(self, srv: Server, http: aiohttp.ClientSession):
        self.srv, self.http = srv, http

    def url(self, path: str) -> str:
        return self.srv.url + path

    async def call(self, method: str, path: str, body: bytes | None = None, want: int = 200) -> bytes:
        async with self.http.request(method, self.url(path), data=body,
                                     headers={"Content-Type": "application/json"}) as r:
            data = await r.read()
            if r.status != want:
                raise RuntimeError(f"{method} {path}: {r.status} {data[:300]!r}")
            return data

    async def namespace(self, name: str) -> str:
        await self.call("POST", "/api/v1/namespaces", orjson.dumps({"metadata": {"name": name}}), 201)
        return f"/api/v1/namespaces/{name}/configmaps"


def session(srv: Server, limit: int = 256) -> aiohttp.ClientSession:
    ctx: ssl.SSLContext = srv.ssl_context()
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx, limit=limit),
                                 timeout=aiohttp.ClientTimeout(total=600))


async def verb_rows(api: Api, name: str, n: int) -> list[list[str]]:
    rows = []
    for clients in (1, 10, 100):
        base = await api.namespace(f"bench-{clients}")
        rvs: dict[int, str] = {}

        async def create(i: int, base: str = base) -> None:
            await api.call("POST", base, _cm(f"cm-{i:06d}"), 201)

        async def get(i: int, base: str = base) -> None:
            await api.call("GET", f"{base}/cm-{i:06d}")

        async def update(i: int, base: str = base) -> None:
            body = orjson.loads(_cm(f"cm-{i:06d}"))
            body["data"]["config"] = "y" * 512
            await api.call("PUT", f"{base}/cm-{i:06d}", orjson.dumps(body))

        async def list_100(i: int, base: str = base) -> None:
            await api.call("GET", f"{base}?limit=100")

        for verb, op, count in (("create", create, n), ("get", get, n), ("update", update, n),
                                ("list 100", list_100, max(n // 10, 50))):
            ops, p50, p99 = await measure(count, clients, op)
            rows.append([name, verb, str(clients), f"{ops:,.0f}", f"{p50:.2f}", f"{p99:.2f}"])
        rvs.clear()
    return rows


async def watch_events(api: Api, path: str, want: int, started: asyncio.Event) -> float:
    """Open a watch, count `want` events; the time the last one arrived."""
    async with api.http.get(api.url(path + "?watch=1&resourceVersion=0")) as r:
        started.set()
        got = 0
        async for chunk in r.content.iter_any():  # one event per line: count them, parse none
            got += chunk.count(b"\n")
            if got >= want:
                return time.perf_counter()
    raise RuntimeError("watch ended early")


async def watch_row(api: Api, name: str, n: int) -> list[str]:
    base = await api.namespace("bench-watch")
    ready = asyncio.Event()
    watcher = asyncio.ensure_future(watch_events(api, base, n, ready))
    await ready.wait()
    start = time.perf_counter()

    async def create(i: int) -> None:
        await api.call("POST", base, _cm(f"w-{i:06d}"), 201)

    await measure(n, 10, create)
    last = await watcher
    return [name, "watch (1 watcher, 10 writers)", "10", f"{n / (last - start):,.0f} events/s", "", ""]


async def paced_row(api: Api, name: str, rate: float = 200, seconds: float = 10) -> list[str]:
    """Open-loop creates; also the server's CPU per create, which the box's load does not move."""
    base = await api.namespace("bench-paced")
    lat: list[float] = []
    assert api.srv.proc is not None
    cpu_before, load = cpu_seconds(api.srv.proc.pid), os.getloadavg()[0]

    async def one(i: int) -> None:
        t = time.perf_counter()
        await api.call("POST", base, _cm(f"p-{i:06d}"), 201)
        lat.append(time.perf_counter() - t)

    tasks = []
    start = time.perf_counter()
    for i in range(int(rate * seconds)):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(i)))
    await asyncio.gather(*tasks)
    cpu_ms = (cpu_seconds(api.srv.proc.pid) - cpu_before) / len(lat) * 1000
    p99 = percentile(lat, 99) * 1000
    return [name, f"{rate:.0f} creates/s for {seconds:.0f} s", f"{load:.1f}", f"{percentile(lat, 50) * 1000:.1f}",
            f"{p99:.1f}", f"{cpu_ms:.2f}", "met" if p99 <= 50 else "missed"]


async def fan_out_row(srv: Server, name: str, watchers: int, objects: int = 1000) -> list[str]:
    async with session(srv, limit=watchers + 64) as http:
        api = Api(srv, http)
        base = await api.namespace("bench-fanout")
        started = [asyncio.Event() for _ in range(watchers)]
        tasks = [asyncio.ensure_future(watch_events(api, base, objects, ev)) for ev in started]
        await asyncio.gather(*(ev.wait() for ev in started))
        await asyncio.sleep(0.5)
        assert srv.proc is not None
        cpu_before, load = cpu_seconds(srv.proc.pid), os.getloadavg()[0]
        start = time.perf_counter()

        async def create(i: int) -> None:
            await api.call("POST", base, _cm(f"f-{i:06d}"), 201)

        await measure(objects, 50, create)
        acked = time.perf_counter()
        last = max(await asyncio.wait_for(asyncio.gather(*tasks), 600))
        cpu = cpu_seconds(srv.proc.pid) - cpu_before
    return [name, f"{watchers} x {objects}", f"{load:.1f}", f"{acked - start:.2f}", f"{last - start:.2f}",
            f"{max(last - acked, 0):.2f}", f"{cpu:.1f}", "met" if last - acked <= 1 else "missed"]


def cold_start(extra: list[str]) -> tuple[float, float, int, int]:
    """(first start with PKI generation, second start, idle RSS and USS bytes after the second)."""
    srv = Server(extra_args=extra)
    try:
        times = []
        for _ in range(2):
            t = time.perf_counter()
            srv.start()
            times.append(time.perf_counter() - t)
            if len(times) == 1:
                srv.stop()
        time.sleep(2)
        assert srv.proc is not None
        mem = process_memory(srv.proc.pid)
        return times[0], times[1], mem.rss, mem.uss
    finally:
        srv.cleanup()


async def backend_rows(name: str, extra: list[str], n: int, watchers: int) -> tuple[list, list, list]:
    srv = Server(extra_args=extra).start()
    try:
        async with session(srv) as http:
            api = Api(srv, http)
            rows = await verb_rows(api, name, n)
            rows.append(await watch_row(api, name, n))
            paced = await paced_row(api, name)
        fan = await fan_out_row(srv, name, watchers)
    finally:
        srv.cleanup()
    return rows, [paced], [fan]


async def run_all(n: int, watchers: int, etcd_endpoint: str) -> str:
    rows: list[list[str]] = []
    paced: list[list[str]] = []
    fan: list[list[str]] = []
    for name, extra in (("sqlite", []), ("etcd", ["--datastore-endpoint", etcd_endpoint])):
        r, p, f = await backend_rows(name, extra, n, watchers)
        rows += r
        paced += p
        fan += f
    rows += await etcd_reference_rows(etcd_endpoint, n)
    first, again, rss, uss = cold_start([])
    return "\n\n".join([
        f"## Kubernetes API server over HTTPS (bench/bench_apiserver.py)\n\n{report.stamp()}, commit "
        f"{report.git_rev()}; {report.machine()}. `skiff server --disable-agent` on loopback; the "
        "client (aiohttp, admin client certificate) runs on the same 2 cores. ConfigMaps of ~0.6 KiB. "
        "Latencies in ms.",
        report.table(["store", "op", "clients", "ops/s", "p50", "p99"], rows),
        "Creates paced at 200/s through the API (open loop; target: p99 ≤ 50 ms):",
        report.table(["store", "load", "load average", "p50", "p99", "server CPU per create, ms", "target"],
                     paced),
        "Watch fan-out through the API (target: every watcher has every event within 1 s of the "
        "burst's last write):",
        report.table(["store", "watchers x objects", "load average", "burst written, s", "all delivered, s",
                      "after last write, s", "server CPU, s", "target"], fan),
        f"Cold start to /readyz (SQLite): {first:.2f} s on a new data dir (makes the CA and "
        f"certificates), {again:.2f} s on an existing one (target < 2 s). Idle memory: "
        f"{rss / 2**20:.0f} MiB RSS, {uss / 2**20:.0f} MiB private.",
    ])


def main() -> None:
    ap = report.arg_parser(__doc__, reference_only=False)
    ap.add_argument("--ops", type=int, default=1000, help="operations per verb and concurrency")
    ap.add_argument("--watchers", type=int, default=1000, help="watchers in the fan-out test")
    args = ap.parse_args()
    report.machine()
    report.stamp()
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(report.REPO / "src")], check=False)
    etcd = Etcd().start()
    try:
        body = asyncio.run(run_all(args.ops, args.watchers, etcd.endpoint))
    finally:
        etcd.cleanup()
    report.publish("apiserver", body, args)


if __name__ == "__main__":
    main()
