"""Cluster storage at the store layer: SQLite and etcd behind `Store`, and etcd's own put/get.

    .venv/bin/python bench/bench_storage.py [--ops N] [--no-doc]

For each backend and 1, 10 and 100 concurrent clients: create, get, update and list
throughput with p50/p99 latency. Then the issue's targets at the store layer: writes
paced at 200/s for 10 s (p99 of each write's latency), and 1,000 watchers of the watch
cache each receiving every event of a 1,000-object burst. The reference, in the same run:
plain etcd put and range requests (no compare-and-swap) at the same concurrency, on the
same etcd server, through the same HTTP/JSON gateway.
"""

from __future__ import annotations

import asyncio
import base64
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp  # noqa: E402
import orjson  # noqa: E402
from tests.support.etcd import Etcd  # noqa: E402

from bench import report  # noqa: E402
from bench.stats import percentile  # noqa: E402
from skiff.cluster.storage import Store, open_store  # noqa: E402
from skiff.cluster.storage.cache import CachedStore  # noqa: E402

VALUE = b'{"kind":"Pod","apiVersion":"v1","metadata":{"name":"x","namespace":"default"},' + b'"spec":{}' * 60 + b"}"


async def measure(n: int, clients: int, op: Callable[[int], Awaitable[object]]) -> tuple[float, float, float]:
    """Run op(0..n-1) over `clients` concurrent loops: (ops/s, p50 ms, p99 ms)."""
    lat: list[float] = []
    it = iter(range(n))

    async def client() -> None:
        for i in it:
            t = time.perf_counter()
            await op(i)
            lat.append(time.perf_counter() - t)

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    took = time.perf_counter() - start
    return n / took, percentile(lat, 50) * 1000, percentile(lat, 99) * 1000


async def store_rows(name: str, store: Store, n: int) -> list[list[str]]:
    rows = []
    for clients in (1, 10, 100):
        p = f"/registry/bench/{name}-{clients}/"
        revs: dict[int, int] = {}

        async def create(i: int, p: str = p, revs: dict[int, int] = revs) -> None:
            revs[i] = (await store.create(f"{p}{i:06d}", VALUE)).mod_revision

        async def get(i: int, p: str = p) -> None:
            await store.get(f"{p}{i:06d}")

        async def update(i: int, p: str = p, revs: dict[int, int] = revs) -> None:
            revs[i] = (await store.update(f"{p}{i:06d}", VALUE, revs[i])).mod_revision

        async def list_100(i: int, p: str = p) -> None:
            await store.list(p, limit=100)

        for verb, op, count in (("create", create, n), ("get", get, n), ("update", update, n),
                                ("list 100", list_100, max(n // 10, 50))):
            ops, p50, p99 = await measure(count, clients, op)
            rows.append([name, verb, str(clients), f"{ops:,.0f}", f"{p50:.2f}", f"{p99:.2f}"])
    return rows


async def etcd_reference_rows(endpoint: str, n: int) -> list[list[str]]:
    """etcd's own put and range, no CAS: the ceiling for the etcd backend."""
    rows = []
    val = base64.b64encode(VALUE).decode()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256)) as http:
        async def call(path: str, body: dict) -> None:
            async with http.post(endpoint + path, data=orjson.dumps(body)) as r:
                await r.read()

        for clients in (1, 10, 100):
            def key(i: int, clients: int = clients) -> str:
                return base64.b64encode(f"/ref/{clients}/{i:06d}".encode()).decode()

            async def put(i: int, key=key) -> None:
                await call("/v3/kv/put", {"key": key(i), "value": val})

            async def rng(i: int, key=key) -> None:
                await call("/v3/kv/range", {"key": key(i)})

            for verb, op in (("put", put), ("range (get)", rng)):
                ops, p50, p99 = await measure(n, clients, op)
                rows.append(["etcd itself", verb, str(clients), f"{ops:,.0f}", f"{p50:.2f}", f"{p99:.2f}"])
    return rows


async def paced_writes(store: Store, name: str, rate: float = 200, seconds: float = 10) -> list[str]:
    """Writes started at a steady `rate` (open loop: a slow write does not delay the next)."""
    lat: list[float] = []
    p = f"/registry/paced/{name}/"

    async def one(i: int) -> None:
        t = time.perf_counter()
        kv = await store.create(f"{p}{i:06d}", VALUE)
        await store.update(kv.key, VALUE, kv.mod_revision)
        lat.append((time.perf_counter() - t) / 2)

    tasks = []
    start = time.perf_counter()
    for i in range(int(rate * seconds / 2)):  # each task writes twice
        delay = start + i * 2 / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(i)))
    await asyncio.gather(*tasks)
    p99 = percentile(lat, 99) * 1000
    return [name, f"{rate:.0f}/s for {seconds:.0f} s", f"{percentile(lat, 50) * 1000:.2f}", f"{p99:.2f}",
            "met" if p99 <= 50 else "missed"]


async def fan_out(store: Store, name: str, watchers: int = 1000, objects: int = 1000) -> list[str]:
    cache = CachedStore(store, root="/registry/")
    await cache.start()
    p = f"/registry/fanout/{name}/"
    rev = cache.revision
    done_at: list[float] = []

    async def watcher() -> None:
        n = 0
        async for ev in cache.watch(p, rev):
            if ev.type != "BOOKMARK":
                n += 1
                if n == objects:
                    done_at.append(time.perf_counter())
                    return

    tasks = [asyncio.ensure_future(watcher()) for _ in range(watchers)]
    await asyncio.sleep(0.1)  # every watcher is waiting
    start = time.perf_counter()
    sem = asyncio.Semaphore(50)

    async def write(i: int) -> None:
        async with sem:
            await store.create(f"{p}{i:06d}", VALUE)

    await asyncio.gather(*(write(i) for i in range(objects)))
    acked = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*tasks), 120)
    last = max(done_at)
    await cache.close()  # and the store under it
    return [name, f"{watchers} x {objects}", f"{acked - start:.2f}", f"{last - start:.2f}",
            f"{max(last - acked, 0):.2f}", "met" if last - acked <= 1 else "missed"]


async def run_all(n: int, etcd_endpoint: str, data_dir: str) -> str:
    stores = {"sqlite": lambda: open_store("", data_dir), "etcd": lambda: open_store(etcd_endpoint, "")}
    ops_rows: list[list[str]] = []
    paced: list[list[str]] = []
    fan: list[list[str]] = []
    for name, opener in stores.items():
        s = opener()
        ops_rows += await store_rows(name, s, n)
        paced.append(await paced_writes(s, name))
        await s.close()
        fan.append(await fan_out(opener(), name))
    ops_rows += await etcd_reference_rows(etcd_endpoint, n)
    return "\n\n".join([
        f"## Cluster storage, store layer (bench/bench_storage.py)\n\n{report.stamp()}, commit "
        f"{report.git_rev()}; {report.machine()}. etcd 3.4 (Debian etcd-server) on loopback, fsync on; "
        "SQLite in WAL mode with synchronous=FULL. Latencies in ms.",
        report.table(["store", "op", "clients", "ops/s", "p50", "p99"], ops_rows),
        "Writes paced at 200/s (create then update of each key; target: p99 ≤ 50 ms, measured here "
        "at the store, below the HTTP API):",
        report.table(["store", "load", "p50", "p99", "target"], paced),
        "Watch fan-out through the watch cache (one backend watch; target: every watcher has every "
        "event within 1 s of the burst's last write):",
        report.table(["store", "watchers x objects", "burst written, s", "all delivered, s",
                      "after last write, s", "target"], fan),
    ])


def main() -> None:
    ap = report.arg_parser(__doc__, reference_only=False)
    ap.add_argument("--ops", type=int, default=2000, help="operations per verb and concurrency")
    args = ap.parse_args()
    report.machine()
    report.stamp()
    etcd = Etcd().start()
    try:
        with tempfile.TemporaryDirectory(prefix="skiff-bench-storage-") as d:
            body = asyncio.run(run_all(args.ops, etcd.endpoint, d))
    finally:
        etcd.cleanup()
    report.publish("bench_storage", body, args)


if __name__ == "__main__":
    main()
