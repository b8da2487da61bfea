"""Deployments through real kubectl: rollout from v1 to v2 never below maxUnavailable, rollout
status/history/undo/pause/resume/restart and set image; pods run by kwok nodes."""

from __future__ import annotations

import subprocess
import threading
import time

import pytest

pytestmark = [pytest.mark.interop, pytest.mark.slow]

WEB = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 4
  selector: {matchLabels: {app: web}}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: 1}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: httpd
        image: busybox:v1
        command: ["httpd", "-f", "-p", "80"]
"""


def is_ready(pod: dict) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod.get("status", {}).get("conditions", []))


class ReadyWatcher(threading.Thread):
    """Polls the ready pod count throughout a rollout; remembers the lowest."""

    def __init__(self, cluster, ns: str):
        super().__init__(daemon=True)
        self.cluster, self.ns = cluster, ns
        self.lowest = 10 ** 6
        self.samples = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            pods = self.cluster.pods(self.ns, "app=web")
            self.lowest = min(self.lowest, sum(1 for p in pods if is_ready(p)))
            self.samples += 1

    def stop(self) -> None:
        self.done.set()
        self.join(30)


def images(cluster, ns: str) -> set[str]:
    return {p["spec"]["containers"][0]["image"] for p in cluster.pods(ns, "app=web")}


def rollout_status(cluster, ns: str) -> str:
    r = cluster.kubectl("rollout", "status", "deployment/web", "-n", ns, "--timeout=60s")
    return r.stdout.decode()


def test_rolling_update_keeps_availability_then_undo(cluster, ns):
    cluster.kubectl("apply", "-n", ns, "-f", "-", input=WEB)
    out = rollout_status(cluster, ns)
    assert 'deployment "web" successfully rolled out' in out
    assert len([p for p in cluster.pods(ns, "app=web") if is_ready(p)]) == 4

    watcher = ReadyWatcher(cluster, ns)
    watcher.start()
    try:
        out = cluster.kubectl("set", "image", "deployment/web", "httpd=busybox:v2", "-n", ns).stdout.decode()
        assert out.strip() == "deployment.apps/web image updated"
        assert 'deployment "web" successfully rolled out' in rollout_status(cluster, ns)
        cluster.wait(lambda: images(cluster, ns) == {"busybox:v2"} and len(cluster.pods(ns, "app=web")) == 4)
    finally:
        watcher.stop()
    assert watcher.samples > 1
    assert watcher.lowest >= 3, f"ready pods fell to {watcher.lowest} (maxUnavailable 1 of 4)"

    rss = {r["metadata"]["annotations"]["deployment.kubernetes.io/revision"]: r["metadata"]["name"]
           for r in cluster.get("rs", "-n", ns, "-l", "app=web")["items"]}
    described = cluster.wait(lambda: (t := cluster.kubectl("describe", "deployment", "web", "-n", ns).stdout.decode())
                             and f"Scaled down replica set {rss['1']} from 1 to 0" in t and t)
    assert f"Scaled up replica set {rss['1']} from 0 to 4" in described
    assert "deployment-controller" in described
    described = cluster.kubectl("describe", "rs", rss["2"], "-n", ns).stdout.decode()
    assert "SuccessfulCreate" in described and "Created pod: " in described

    history = cluster.kubectl("rollout", "history", "deployment/web", "-n", ns).stdout.decode()
    lines = [line.split() for line in history.strip().splitlines()]
    assert lines[0] == ["deployment.apps/web"] and lines[1] == ["REVISION", "CHANGE-CAUSE"]
    assert [line[0] for line in lines[2:]] == ["1", "2"]

    out = cluster.kubectl("rollout", "undo", "deployment/web", "-n", ns).stdout.decode()
    assert out.strip() == "deployment.apps/web rolled back"
    assert 'successfully rolled out' in rollout_status(cluster, ns)
    cluster.wait(lambda: images(cluster, ns) == {"busybox:v1"} and len(cluster.pods(ns, "app=web")) == 4)
    d = cluster.get("deployment", "web", "-n", ns)
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    rss = cluster.get("rs", "-n", ns, "-l", "app=web")["items"]
    assert len(rss) == 2 and {r["spec"]["replicas"] for r in rss} == {0, 4}


def test_pause_resume_restart_and_status_columns(cluster, ns):
    cluster.kubectl("apply", "-n", ns, "-f", "-", input=WEB)
    rollout_status(cluster, ns)
    assert cluster.kubectl("rollout", "pause", "deployment/web", "-n", ns).stdout.decode().strip() == \
        "deployment.apps/web paused"
    cluster.kubectl("set", "image", "deployment/web", "httpd=busybox:v2", "-n", ns)
    time.sleep(1)  # give a (wrong) rollout the chance to start
    assert images(cluster, ns) == {"busybox:v1"}
    assert len(cluster.get("rs", "-n", ns)["items"]) == 1
    cond = cluster.wait(lambda: next((c for c in cluster.get("deployment", "web", "-n", ns)["status"]["conditions"]
                                      if c["type"] == "Progressing" and c["reason"] == "DeploymentPaused"), None))
    assert cond["status"] == "Unknown"

    assert cluster.kubectl("rollout", "resume", "deployment/web", "-n", ns).stdout.decode().strip() == \
        "deployment.apps/web resumed"
    assert 'successfully rolled out' in rollout_status(cluster, ns)
    cluster.wait(lambda: images(cluster, ns) == {"busybox:v2"})

    before = {p["metadata"]["name"] for p in cluster.pods(ns, "app=web")}
    assert cluster.kubectl("rollout", "restart", "deployment/web", "-n", ns).stdout.decode().strip() == \
        "deployment.apps/web restarted"
    assert 'successfully rolled out' in rollout_status(cluster, ns)
    cluster.wait(lambda: not (before & {p["metadata"]["name"] for p in cluster.pods(ns, "app=web")}))

    table = cluster.kubectl("get", "deployment", "web", "-n", ns).stdout.decode().split("\n")
    assert table[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert table[1].split()[1:4] == ["4/4", "4", "4"]


def test_rollout_status_reports_a_missed_deadline(cluster, ns):
    cluster.kwok.set_ready(False)
    try:
        spec = WEB.replace("replicas: 4", "replicas: 2\n  progressDeadlineSeconds: 2")
        cluster.kubectl("apply", "-n", ns, "-f", "-", input=spec)
        r = subprocess.run(["kubectl", "rollout", "status", "deployment/web", "-n", ns, "--timeout=30s"],
                           capture_output=True, env=cluster.server.env, timeout=60)
        assert r.returncode == 1
        assert 'deployment "web" exceeded its progress deadline' in r.stderr.decode()
    finally:
        cluster.kwok.set_ready(True)
