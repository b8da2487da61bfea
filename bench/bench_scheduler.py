"""Scheduler throughput: 1,000 simulated nodes (Node objects without kubelets, as kwok does)
and 10,000 pods.

    .venv/bin/python bench/bench_scheduler.py [--nodes N] [--pods N] [--rounds N] [--no-doc]

End to end: `skiff server --disable-scheduler` holds the nodes and the pending pods; the
scheduler (the same code `skiff scheduler` and `skiff server`'s scheduler child run, here in
the benchmark's process) starts, lists, and binds every pod through pods/binding; pods/s is
pods over the time from its start to the last binding. Its Scheduled events trail the
bindings (written behind them, as client-go's event broadcaster does): the report says when
the last one landed, and the CPU per pod both up to the last binding and up to the last
event. In memory: the algorithm alone (snapshot, filter, score, assume) over the same
cluster, no API.
Target (issue 6): at least 1,000 pods/s end to end; Kubernetes' CI gate is 680 pods/s at
5,000 nodes.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp  # noqa: E402
import orjson  # noqa: E402
from tests.support.server import Server  # noqa: E402

from bench import report  # noqa: E402
from skiff.cluster.scheduler.algorithm import Algorithm  # noqa: E402
from skiff.cluster.scheduler.cache import Cache  # noqa: E402
from skiff.cluster.scheduler.component import client_for  # noqa: E402
from skiff.cluster.scheduler.framework import CycleState, Framework  # noqa: E402
from skiff.cluster.scheduler.nodeinfo import PodInfo  # noqa: E402
from skiff.cluster.scheduler.plugins.registry import default_plugins  # noqa: E402
from skiff.cluster.scheduler.scheduler import Scheduler  # noqa: E402
from skiff.common import gctune  # noqa: E402

NAMESPACE = "bench"
ZONES = 10


def node_object(i: int) -> dict:
    res = {"cpu": "32", "memory": "128Gi", "pods": "110"}
    name = f"kwok-node-{i:05d}"
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                                  "topology.kubernetes.io/zone": f"zone-{i % ZONES}",
                                                  "type": "kwok"}},
            "status": {"capacity": res, "allocatable": res,
                       "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}]}}


def pod_object(i: int) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"pod-{i:06d}", "namespace": NAMESPACE,
                                                            "labels": {"app": f"app-{i % 100}"}},
            "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10",
                                     "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}],
                     "nodeSelector": {"kubernetes.io/os": "linux"}}}


async def post_all(srv: Server, path: str, bodies: list[dict], concurrency: int = 32) -> None:
    ctx: ssl.SSLContext = srv.ssl_context()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx, limit=concurrency)) as http:
        todo = iter(bodies)

        async def worker() -> None:
            for body in todo:
                async with http.post(srv.url + path, data=orjson.dumps(body),
                                     headers={"Content-Type": "application/json"}) as r:
                    if r.status != 201:
                        raise RuntimeError(f"POST {path}: {r.status} {(await r.read())[:300]!r}")

        await asyncio.gather(*(worker() for _ in range(concurrency)))


async def end_to_end(srv: Server, pods: int, on_bound: Callable[[], None]) -> tuple[float, int, float, int]:
    """Seconds to the last binding, pods bound, seconds to the last Scheduled event, events written."""
    client = client_for(srv.url, srv.data_dir / "tls")
    sched = Scheduler(client, events=True)
    start = time.perf_counter()
    task = asyncio.create_task(sched.run())
    try:
        while sched.scheduled < pods:
            if task.done():
                task.result()
            sched.bound.clear()
            await asyncio.wait_for(sched.bound.wait(), 120)
        bound = time.perf_counter() - start
        on_bound()
        deadline = time.monotonic() + 120
        while sched.writer.recorded + sched.writer.dropped < sched.scheduled and time.monotonic() < deadline:
            await asyncio.sleep(0.005)  # the events trail the bindings (written by the event workers)
        return bound, sched.scheduled, time.perf_counter() - start, sched.writer.recorded
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await client.close()


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU of a process (this one by default)."""
    if pid is None:
        t = os.times()
        return t.user + t.system
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def in_memory(nodes: int, pods: int) -> float:
    """Pods/s of snapshot + filter + score + assume, no API."""
    cache = Cache()
    for i in range(nodes):
        cache.set_node(node_object(i))
    fw = Framework(default_plugins(None))
    algo = Algorithm(fw)
    infos = []
    for i in range(pods):
        obj = pod_object(i)
        obj["metadata"]["uid"] = f"uid-{i}"
        infos.append(PodInfo.from_object(obj))
    start = time.perf_counter()
    for pod in infos:
        result = algo.schedule(CycleState(), pod, cache.snapshot())
        cache.assume(Scheduler._assumed(pod, result.node), result.node)
    return pods / (time.perf_counter() - start)


@dataclass
class Round:
    setup: float  # seconds to create the nodes and pods
    load: float  # load average when binding began
    elapsed: float  # seconds to the last binding
    bound: int
    events_at: float  # seconds to the last Scheduled event
    events: int
    cpu_bound: tuple[float, float]  # ms per pod until the last binding: scheduler, API server
    cpu_all: tuple[float, float]  # the same until the last event

    @property
    def rate(self) -> float:
        return self.bound / self.elapsed


async def one_round(nodes: int, pods: int) -> Round:
    # no controllers: node IPAM would run out of /24s in the default cluster CIDR at 1,000 nodes
    srv = Server(extra_args=["--disable-scheduler", "--disable-controller-manager"]).start()
    try:
        t0 = time.perf_counter()
        await post_all(srv, "/api/v1/nodes", [node_object(i) for i in range(nodes)])
        status, body = srv.json("POST", "/api/v1/namespaces", {"metadata": {"name": NAMESPACE}})
        assert status == 201, body
        await post_all(srv, f"/api/v1/namespaces/{NAMESPACE}/pods", [pod_object(i) for i in range(pods)])
        setup = time.perf_counter() - t0
        assert srv.proc is not None
        pid = srv.proc.pid
        cpu0, server0, load = cpu_seconds(), cpu_seconds(pid), os.getloadavg()[0]
        at_bound: list[float] = []
        elapsed, bound, events_at, events = await end_to_end(
            srv, pods, lambda: at_bound.extend([cpu_seconds() - cpu0, cpu_seconds(pid) - server0]))
        sched_ms, server_ms = (v / bound * 1000 for v in at_bound)
        cpu_all = ((cpu_seconds() - cpu0) / bound * 1000, (cpu_seconds(pid) - server0) / bound * 1000)
    finally:
        srv.cleanup()
    return Round(setup, load, elapsed, bound, events_at, events, (sched_ms, server_ms), cpu_all)


async def run_all(nodes: int, pods: int, rounds: int) -> str:
    done = [await one_round(nodes, pods) for _ in range(rounds)]
    median = sorted(done, key=lambda r: r.rate)[len(done) // 2]
    memory_rate = in_memory(nodes, pods)
    rows = [[f"end to end through the API server (list, schedule, bind, Scheduled event), round {i + 1}"
             f"{' (median)' if r is median else ''}", f"{nodes:,}", f"{r.bound:,}", f"{r.elapsed:.1f}",
             f"{r.rate:,.0f}", ("met" if r.rate >= 1000 else "missed") if r is median else ""]
            for i, r in enumerate(done)]
    rows.append(["algorithm in memory (snapshot, filter, score, assume)", f"{nodes:,}", f"{pods:,}",
                 f"{pods / memory_rate:.1f}", f"{memory_rate:,.0f}", ""])
    m = median
    return "\n".join([
        "## Scheduler throughput (bench/bench_scheduler.py)", "",
        f"{report.stamp()}, commit {report.git_rev()}; {report.machine()}. `skiff server --disable-scheduler --disable-controller-manager` "
        "(SQLite) on loopback holding simulated Node objects (no kubelets, as kwok) and pending pods "
        f"(created beforehand in {m.setup:.0f} s); the scheduler runs in the benchmark's process over HTTPS "
        "with the default plugins and the garbage-collector thresholds `skiff scheduler` sets. Pods request "
        "100m cpu / 128Mi and select kubernetes.io/os=linux; nodes have 32 cpu, 128Gi, 110 pods. "
        f"{len(done)} round(s), each on a fresh server; the target is judged on the median. "
        "Target: ≥ 1,000 pods/s end to end.", "",
        report.table(["path", "nodes", "pods", "seconds", "pods/s", "target"], rows), "",
        f"Median round: the last Scheduled event landed {m.events_at:.1f} s after the start ({m.events:,} events "
        f"written, {m.events / m.events_at:,.0f}/s). CPU per pod until the last binding: scheduler "
        f"{m.cpu_bound[0]:.2f} ms, API server {m.cpu_bound[1]:.2f} ms; until the last event: scheduler "
        f"{m.cpu_all[0]:.2f} ms, API server {m.cpu_all[1]:.2f} ms (load average "
        f"{', '.join(f'{r.load:.1f}' for r in done)} when binding began in each round).", ""])


def main() -> None:
    gctune.for_long_lived_caches()  # as `skiff scheduler` and `skiff server` set it
    ap = report.arg_parser(__doc__, reference_only=False)
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--pods", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=3, help="fresh servers to measure; the median counts")
    args = ap.parse_args()
    report.machine()
    report.stamp()
    body = asyncio.run(run_all(args.nodes, args.pods, args.rounds))
    report.publish("scheduler", body, args)


if __name__ == "__main__":
    main()
