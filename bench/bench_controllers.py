"""The controller manager at scale: a Deployment of 500 replicas on simulated nodes until it is
available, then a rolling update of it to a new image.

    .venv/bin/python bench/bench_controllers.py [--replicas N] [--nodes N] [--no-doc]

`skiff server --disable-controller-manager` serves the API (its scheduler binds the pods);
`skiff controller-manager --kubeconfig` runs as a process of its own (as kube-controller-manager
does) so its CPU time and memory are its own. The nodes are kwok-style Node objects: the
benchmark's kwok helper marks every bound pod Running and Ready and finishes pod deletions, as
kwok does. Times are from the create (or the image change) to the Deployment's status saying
every replica is updated and available. CPU is the controller manager's user + system time
over each phase (/proc/PID/stat); memory its RSS/PSS at the end of each phase.
There is no reference kube-controller-manager on this machine (no Kubernetes binaries and no
network), so the section gives skiff's figures alone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.kwok import Kwok  # noqa: E402
from tests.support.server import Server  # noqa: E402

from bench import report  # noqa: E402
from bench.procmem import mib, process_memory  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def deployment(replicas: int, image: str) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "bench"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "bench"}},
                     "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                     "template": {"metadata": {"labels": {"app": "bench"}},
                                  "spec": {"containers": [{"name": "c", "image": image}]}}}}


def rolled_out(server: Server, replicas: int) -> bool:
    _, d = server.json("GET", "/apis/apps/v1/namespaces/default/deployments/bench")
    st = d.get("status") or {}
    return (st.get("observedGeneration", 0) >= d["metadata"].get("generation", 1)
            and st.get("updatedReplicas") == replicas and st.get("availableReplicas") == replicas
            and st.get("replicas") == replicas)


def phase(server: Server, pid: int, replicas: int, start_write) -> tuple[float, float, str]:
    cpu0 = cpu_seconds(pid)
    t0 = time.monotonic()
    start_write()
    while not rolled_out(server, replicas):
        time.sleep(0.1)
        if time.monotonic() - t0 > 900:
            raise RuntimeError("not rolled out after 15 minutes")
    took = time.monotonic() - t0
    mem = process_memory(pid)
    return took, cpu_seconds(pid) - cpu0, f"{mib(mem.rss)} / {mib(mem.pss)}"


def main() -> None:
    ap = report.arg_parser(__doc__, reference_only=False)
    ap.add_argument("--replicas", type=int, default=500)
    ap.add_argument("--nodes", type=int, default=10)
    args = ap.parse_args()
    machine = report.machine()
    server = Server(extra_args=["--disable-controller-manager"]).start()
    kwok = Kwok(server).start([f"bench-node-{i:03d}" for i in range(args.nodes)])
    manager = subprocess.Popen([sys.executable, "-m", "skiff", "controller-manager", "--kubeconfig",
                                str(server.kubeconfig), "--leader-elect=false"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        time.sleep(2)  # informers synced
        idle = process_memory(manager.pid)
        n = args.replicas
        create = phase(server, manager.pid, n, lambda: server.json(
            "POST", "/apis/apps/v1/namespaces/default/deployments", deployment(n, "busybox:v1")))
        update = phase(server, manager.pid, n, lambda: server.json(
            "PATCH", "/apis/apps/v1/namespaces/default/deployments/bench",
            {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "busybox:v2"}]}}}},
            headers={"Content-Type": "application/merge-patch+json"}))
    finally:
        os.killpg(manager.pid, signal.SIGTERM)
        manager.wait(10)
        kwok.stop()
        server.cleanup()
    rows = [[f"create, {n} replicas until available", f"{create[0]:.1f}", f"{create[1]:.1f}", create[2]],
            [f"rolling update of all {n} (25% surge / 25% unavailable)", f"{update[0]:.1f}", f"{update[1]:.1f}",
             update[2]]]
    body = "\n".join([
        f"## Controllers: a Deployment of {n} replicas on {args.nodes} simulated nodes (bench/bench_controllers.py)",
        "",
        f"Machine: {machine}.",
        "",
        f"`skiff controller-manager` as its own process; idle after start: RSS / PSS {mib(idle.rss)} / {mib(idle.pss)}.",
        "",
        report.table(["phase", "wall s", "controller-manager CPU s", "RSS / PSS at end"], rows),
        "",
        "Wall time includes the API server, the scheduler binding each pod and the kwok helper marking it "
        "ready (one process each, sharing 2 cores), so it bounds the controllers' speed from above; the CPU "
        "column is the controller manager's own work. No reference kube-controller-manager is available "
        "offline, so there is no side-by-side figure.",
    ])
    report.publish("controllers", body, args)


if __name__ == "__main__":
    main()
