"""Pod start-up on one `skiff agent`: create → Running latency over N pods (image present), and the
agent's memory and CPU at rest with those pods running.

    .venv/bin/python bench/bench_pods.py [--pods 100] [--rate 2] [--no-doc]

Pods are created at a steady rate (as Kubernetes' density test does) in one namespace; a watch
records when each is first seen Running; latency = that moment − the create request's start.
Target (issue 6): p99 ≤ 1 s (the Kubernetes SLO is 5 s).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp  # noqa: E402
from tests.support.agent import Cluster  # noqa: E402
from tests.support.busybox import write_docker_archive  # noqa: E402

from bench import report  # noqa: E402
from bench.procmem import process_memory  # noqa: E402
from bench.stats import percentile  # noqa: E402

NS = "bench-pods"


def pod(name: str, node: str) -> bytes:
    return json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {
        "nodeName": node, "terminationGracePeriodSeconds": 0, "containers": [{
            "name": "main", "image": "busybox:latest", "imagePullPolicy": "IfNotPresent",
            "command": ["sleep", "86400"]}]}}).encode()


async def measure(c: Cluster, n: int, rate: float) -> list[float]:
    srv = c.server
    conn = aiohttp.TCPConnector(ssl=srv.ssl_context(), limit=64)
    async with aiohttp.ClientSession(connector=conn, headers={"Content-Type": "application/json"}) as http:
        async with http.post(srv.url + "/api/v1/namespaces", data=json.dumps({"metadata": {"name": NS}})) as r:
            assert r.status == 201, await r.text()
        created: dict[str, float] = {}
        running: dict[str, float] = {}
        done = asyncio.Event()

        async def watch() -> None:
            url = srv.url + f"/api/v1/namespaces/{NS}/pods?watch=1"
            async with http.get(url, timeout=aiohttp.ClientTimeout(total=None)) as resp:
                async for line in resp.content:
                    ev = json.loads(line)
                    obj = ev["object"]
                    name = obj["metadata"]["name"]
                    if (obj.get("status") or {}).get("phase") == "Running" and name not in running:
                        running[name] = time.monotonic()
                        if len(running) == n:
                            done.set()
                            return

        watcher = asyncio.create_task(watch())
        await asyncio.sleep(0.5)

        async def create(i: int) -> None:
            name = f"p{i:04d}"
            t0 = time.monotonic()
            async with http.post(srv.url + f"/api/v1/namespaces/{NS}/pods", data=pod(name, c.node)) as r:
                assert r.status == 201, await r.text()
            created[name] = t0

        tasks = []
        for i in range(n):
            tasks.append(asyncio.create_task(create(i)))
            await asyncio.sleep(1 / rate)
        await asyncio.gather(*tasks)
        await asyncio.wait_for(done.wait(), timeout=300)
        watcher.cancel()
        return [running[k] - created[k] for k in created]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    ap = report.arg_parser(__doc__, reference_only=False)
    ap.add_argument("--pods", type=int, default=100)
    ap.add_argument("--rate", type=float, default=2.0, help="pods created per second")
    ap.add_argument("--rest", type=float, default=30.0, help="seconds of rest to measure CPU over")
    args = ap.parse_args()
    machine, stamp = report.machine(), report.stamp()
    root = Path(tempfile.mkdtemp(prefix="skiff-bench-pods-", dir="/tmp"))
    archive = root / "busybox.tar"
    write_docker_archive(archive)
    c = Cluster(root / "cluster", archive)
    try:
        c.start()
        mem0 = process_memory(c.agent.proc.pid)
        lat = asyncio.run(measure(c, args.pods, args.rate))
        time.sleep(5)  # let the last status writes settle
        cpu0 = cpu_seconds(c.agent.proc.pid)
        time.sleep(args.rest)
        cpu = (cpu_seconds(c.agent.proc.pid) - cpu0) / args.rest
        mem = process_memory(c.agent.proc.pid)
        c.kubectl("delete", "namespace", NS, "--wait=false")
    finally:
        c.cleanup()
        shutil.rmtree(root, ignore_errors=True)
    p50, p99 = percentile(lat, 50), percentile(lat, 99)
    rows = [["create → Running p50", f"{p50 * 1000:.0f} ms", ""],
            ["create → Running p99", f"{p99 * 1000:.0f} ms", f"≤ 1000 ms: {'met' if p99 <= 1 else 'missed'}"],
            ["create → Running max", f"{max(lat) * 1000:.0f} ms", ""],
            ["agent RSS / USS, idle, 0 pods", f"{mem0.rss / 2**20:.0f} / {mem0.uss / 2**20:.0f} MiB", ""],
            [f"agent RSS / USS at rest, {args.pods} pods", f"{mem.rss / 2**20:.0f} / {mem.uss / 2**20:.0f} MiB", ""],
            [f"agent CPU at rest, {args.pods} pods", f"{cpu * 100:.1f} % of one core", ""]]
    body = (f"## Pod start-up on one node (bench/bench_pods.py)\n\n{stamp}, {report.git_rev()}; {machine}.\n"
            f"`skiff server --disable-agent` + one `skiff agent` on loopback; {args.pods} one-container busybox "
            f"pods (image present) created at {args.rate:g}/s; Running seen through a watch. Agent memory is the "
            f"kubelet and its embedded engine in one process (shims not counted); CPU over {args.rest:g} s at "
            "rest.\n\n" + report.table(["measure", "value", "target"], rows))
    report.publish("bench_pods", body, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
