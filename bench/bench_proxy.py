"""The Service proxy: throughput through a cluster IP, and how long rules take to follow changes.

    sudo .venv/bin/python bench/bench_proxy.py [--gib 0.25] [--runs 9] [--services 1000] [--no-doc]

(a) TCP throughput pod → cluster IP → pod against pod → pod IP, in the same run: a `skiff server`
    with its own node agent, two busybox pods; bench_net's Python sender and receiver are entered
    into the pods' network namespaces, so only the path differs (DNAT and conntrack on the host).
    Every run measures both paths back to back; the ratio is the median of the runs' ratios.
(b) Rule sync: a `skiff server --disable-agent` and, in this process, the agents' `Proxier`
    (a prefix of its own, in the host's namespace, removed at the end) watching it. N selector-less
    Services with one EndpointSlice of 2 endpoints each are written through the API; measured:
    from the last EndpointSlice write to its rules in the kernel, a full resync of everything
    (render + one iptables-restore of all chains, what a restart costs), and one more Service on
    top (written → applied, and the sync alone). kube-proxy's partial sync is the reference idea:
    only chains whose rules changed are written, plus its SERVICES chain.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.busybox import write_docker_archive  # noqa: E402
from tests.support.server import Server  # noqa: E402

from bench import report  # noqa: E402
from bench.bench_net import PORT, spread, transfer  # noqa: E402


def pod_pid(agent_dir: Path, pod: str) -> str:
    env = {"DOCKER_HOST": f"unix://{agent_dir}/engine.sock", "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"}
    names = subprocess.run(["docker", "ps", "--format", "{{.Names}}"], env=env, capture_output=True,
                           text=True).stdout.split()
    sandbox = next(n for n in names if n.startswith(f"k8s_POD_{pod}_"))
    return subprocess.run(["docker", "inspect", "-f", "{{.State.Pid}}", sandbox], env=env, capture_output=True,
                          text=True, check=True).stdout.strip()


def wait_json(srv: Server, args: list[str], ok, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    obj: dict = {}
    while time.monotonic() < deadline:
        r = srv.kubectl(*args, "-o", "json")
        if r.returncode == 0:
            obj = json.loads(r.stdout)
            if ok(obj):
                return obj
        time.sleep(0.3)
    raise SystemExit(f"timed out: {args}: {json.dumps(obj)[-1000:]}")


def throughput(root: Path, gib: float, runs: int) -> list[list[str]]:
    archive = root / "busybox.tar"
    write_docker_archive(archive)
    node = "bench-px-" + secrets.token_hex(2)
    srv = Server(root / "tp", extra_args=["--node-name", node], disable_agent=False)
    agent_dir = srv.data_dir.absolute() / "agent"
    try:
        srv.start_with_local_agent(node, archive)
        for name in ("rx", "tx"):
            pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"bench": name}},
                   "spec": {"terminationGracePeriodSeconds": 0, "containers": [{
                       "name": "main", "image": "busybox:latest", "imagePullPolicy": "IfNotPresent",
                       "command": ["sleep", "3600"]}]}}
            srv.kubectl("apply", "-f", "-", input=json.dumps(pod))
        svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "rx"},
               "spec": {"selector": {"bench": "rx"}, "ports": [{"port": PORT, "targetPort": PORT}]}}
        srv.kubectl("apply", "-f", "-", input=json.dumps(svc))
        rx = wait_json(srv, ["get", "pod", "rx"], lambda p: p["status"].get("phase") == "Running")
        wait_json(srv, ["get", "pod", "tx"], lambda p: p["status"].get("phase") == "Running")
        wait_json(srv, ["get", "endpointslices", "-l", "kubernetes.io/service-name=rx"],
                  lambda o: any(s.get("endpoints") for s in o["items"]))
        time.sleep(1)
        cluster_ip = json.loads(srv.kubectl("get", "svc", "rx", "-o", "json").stdout)["spec"]["clusterIP"]
        pod_ip = rx["status"]["podIP"]
        rx_pid, tx_pid = pod_pid(agent_dir, "rx"), pod_pid(agent_dir, "tx")
        mib = int(gib * 1024)
        direct, via, ratios = [], [], []
        for _ in range(runs):
            d = transfer(rx_pid, "0.0.0.0", tx_pid, pod_ip, PORT, mib)
            v = transfer(rx_pid, "0.0.0.0", tx_pid, cluster_ip, PORT, mib)
            direct.append(d)
            via.append(v)
            ratios.append(v / d)
        return [["pod → cluster IP → pod (DNAT)", spread(via), "pod → pod IP", spread(direct),
                 f"{statistics.median(ratios):.2f}"]]
    finally:
        srv.stop()
        import hashlib

        from tests.support.agent import remove_node_state

        remove_node_state(agent_dir, "sn" + hashlib.sha256(str(agent_dir).encode()).hexdigest()[:6], root)


async def sync_times(root: Path, n: int) -> tuple[list[list[str]], int]:
    from skiff.cluster.client.aio import AsyncClient, make_ssl
    from skiff.cluster.proxy.proxier import Proxier

    srv = Server(root / "sync").start()
    tls_dir = srv.data_dir / "tls"
    tls = make_ssl(str(tls_dir / "server-ca.crt"), str(tls_dir / "client-admin.crt"), str(tls_dir / "client-admin.key"))
    tls.check_hostname = False
    client = AsyncClient(srv.url, tls=tls)
    ns = "bench-proxy"
    proxier = Proxier(client, "bench-node", "bp" + secrets.token_hex(2), "10.250.0.0/16")
    sem = asyncio.Semaphore(16)

    async def make(i: int) -> None:
        async with sem:
            await client.create(f"/api/v1/namespaces/{ns}/services", {
                "metadata": {"name": f"s{i}"}, "spec": {"ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}})
            await client.create(f"/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices", {
                "metadata": {"name": f"s{i}-1", "labels": {"kubernetes.io/service-name": f"s{i}"}},
                "addressType": "IPv4", "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
                "endpoints": [{"addresses": [f"10.250.{i // 250}.{i % 250 + 1}"], "conditions": {"ready": True}},
                              {"addresses": [f"10.251.{i // 250}.{i % 250 + 1}"], "conditions": {"ready": True}}]})

    async def applied(name: str, since: float) -> float:
        key = (f"{ns}/{name}:http", "TCP")
        while not (key in proxier.routed and len(proxier.routed[key].endpoints) == 2
                   and proxier.stats.last_applied >= since):
            await asyncio.sleep(0.002)
        return proxier.stats.last_applied - since

    try:
        await client.create("/api/v1/namespaces", {"metadata": {"name": ns}})
        await proxier.start()
        started = time.monotonic()
        await asyncio.gather(*(make(i) for i in range(n - 1)))
        await make(n - 1)  # the last write, on its own
        last = time.monotonic()
        to_applied = await applied(f"s{n - 1}", last)
        writing = last - started
        rows = [[f"{n} Services × 2 endpoints written through the API ({writing:.1f} s, {proxier.stats.syncs} syncs "
                 "meanwhile): last EndpointSlice write → its rules applied", f"{to_applied * 1000:.0f} ms"]]
        fulls = []
        for _ in range(3):
            proxier.applied = None
            t0 = time.monotonic()
            await proxier.sync()
            fulls.append(time.monotonic() - t0)
        chains = proxier.stats.last_chains
        rows.append([f"full resync of all {chains} chains (render + one iptables-restore; a restart's cost), "
                     "median of 3", f"{statistics.median(fulls) * 1000:.0f} ms"])
        t0 = time.monotonic()
        from skiff.cluster.proxy import model, rules

        for _ in range(3):
            rules.render(proxier.chains, proxier.node, model.build(proxier.services.list(), proxier.slices.list()))
        rows.append(["of which rendering all rules in Python, mean of 3",
                     f"{(time.monotonic() - t0) / 3 * 1000:.0f} ms"])
        partial, latency, written = [], [], []
        for j in range(5):
            await make(n + j)
            t0 = time.monotonic()
            latency.append(await applied(f"s{n + j}", t0))
            partial.append(proxier.stats.last_seconds)
            written.append(proxier.stats.last_chains)
        rows.append([f"one more Service on top: written → applied, median of 5 (partial sync: "
                     f"{statistics.median(written):.0f} chains written)", f"{statistics.median(latency) * 1000:.0f} ms"])
        rows.append(["of which the partial sync itself (read the caches, render what changed, diff, restore the changed chains)",
                     f"{statistics.median(partial) * 1000:.0f} ms"])
        saved = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
        n_rules = sum(1 for line in saved.splitlines() if line.startswith("-A ") and proxier.chains.prefix in line)
        return rows, n_rules
    finally:
        await proxier.stop()
        await client.close()
        srv.cleanup()


READING = """What the figures say. (a) A cluster IP costs one DNAT at the connection's first packet
and conntrack for the rest, on top of the pod-to-pod path through the bridge; the transfer itself
is the same (three runs this session: ratios 1.04, 0.94 and 0.93, the machine shared). (b) A sync reads
the caches, re-renders only the Services whose rules inputs changed (a per-service cache; the
"rendering all rules" line is the cold cost), and writes only the chains whose rules changed:
kube-proxy's partial sync. One more Service writes its own chains and the SERVICES chain, which
lists every Service and so grows with their number, as KUBE-SERVICES does in kube-proxy (which
also rewrites it on every sync). A full resync (start-up, after a failed restore, every 5 minutes)
reads iptables-save and writes every chain; on nf_tables that is the 2 s here, in a worker thread.
The debounce (50 ms) coalesces a burst of writes into few syncs."""


def main() -> None:
    ap = report.arg_parser(__doc__, reference_only=False)
    ap.add_argument("--gib", type=float, default=0.25, help="data per transfer (default 0.25 GiB)")
    ap.add_argument("--runs", type=int, default=9, help="transfers per path (default 9)")
    ap.add_argument("--services", type=int, default=1000, help="Services for the sync figures (default 1000)")
    args = ap.parse_args()
    if not shutil.which("kubectl"):
        raise SystemExit("kubectl is needed")
    root = Path(tempfile.mkdtemp(prefix="skiff-bench-proxy-", dir="/tmp"))
    try:
        header = f"{report.stamp()}; {report.machine()}"
        tp = throughput(root, args.gib, args.runs)
        sync_rows, n_rules = asyncio.run(sync_times(root, args.services))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    body = "\n".join([
        "## Service proxy (bench/bench_proxy.py)", "", header, "",
        f"(a) One TCP stream, {args.gib} GiB per transfer, {args.runs} runs; Mbit/s: median (lowest–highest).", "",
        report.table(["path", "Mbit/s", "baseline", "Mbit/s", "ratio"], tp), "",
        "Target: within 10% of pod → pod (ratio ≥ 0.90).", "",
        f"(b) Rule syncs; {n_rules} iptables rules of the proxy at the end.", "",
        report.table(["measure", "value"], sync_rows), "", READING])
    report.publish("bench_proxy", body, args)


if __name__ == "__main__":
    main()
