"""The workload controllers driving real `skiff agent`s (issue 7's tests with real kubectl, a server
and agents): a ReplicationController restarting a killed container, replacing a deleted pod and
scaling; a DaemonSet on every node, including one that joins; a Deployment rolling between two
image tags and back with `kubectl rollout`; a Job of 5 completions, 2 at a time."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.support.agent import Agent
from tests.support.engine import request
from tests.support.server import Server

pytestmark = [pytest.mark.root, pytest.mark.interop, pytest.mark.slow]

IMAGE = "busybox:latest"


class Nodes:
    """One server and its agents; `add()` joins another agent with busybox already in its engine."""

    def __init__(self, root: Path, busybox_archive: Path):
        self.root = root
        self.archive = busybox_archive
        self.token = secrets.token_hex(8)
        self.server = Server(root / "server", extra_args=["--token", self.token])
        self.agents: list[Agent] = []
        self.subnet = 100 + secrets.randbelow(100)

    def add(self) -> Agent:
        i = len(self.agents)
        a = Agent(self.server.url, self.token, self.root / f"node{i}", node_name=f"ctl-{i}-{secrets.token_hex(2)}",
                  extra_args=["--bip", f"10.{self.subnet}.{i}.1/24", "--kubelet-port", "0"])
        self.agents.append(a)
        # the node's image store is filled before it joins (a node image with busybox baked in), so
        # pods the controllers place on it at once never need a registry
        preload(a, self.archive)
        a.start()
        for tag in ("skroll:v1", "skroll:v2"):  # two tags of one image for the rolling update
            r = a.docker("tag", IMAGE, tag)
            assert r.returncode == 0, r.stderr
        return a

    def agent_of(self, node_name: str) -> Agent:
        return next(a for a in self.agents if a.node_name == node_name)

    def kubectl(self, *args: str, input: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
        r = self.server.kubectl(*args, input=input, timeout=timeout)
        assert r.returncode == 0, (args, r.stdout.decode(), r.stderr.decode())
        return r

    def get(self, *args: str) -> dict:
        return json.loads(self.kubectl("get", *args, "-o", "json").stdout)

    def live_pods(self, ns: str, selector: str) -> list[dict]:
        items = self.get("pods", "-n", ns, "-l", selector)["items"]
        return [p for p in items if not p["metadata"].get("deletionTimestamp")]

    def wait(self, what, timeout: float = 90.0):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = what()
            if last:
                return last
            time.sleep(0.3)
        logs = "\n".join(f"--- {a.node_name} ---\n{a.log()[-1500:]}" for a in self.agents)
        raise AssertionError(f"timed out; last: {last!r}\n--- server ---\n{self.server.log()[-2000:]}\n{logs}")

    def cleanup(self) -> None:
        for a in self.agents:
            a.cleanup()
        self.server.cleanup()


def preload(agent: Agent, archive: Path) -> None:
    """Load busybox into the agent's engine data root with a plain engine, before the agent runs."""
    agent.root.mkdir(parents=True, exist_ok=True)
    sock = agent.root / "preload.sock"
    proc = subprocess.Popen([sys.executable, "-m", "skiff", "engine", "--data-root", str(agent.data_dir / "engine"),
                             "-H", f"unix://{sock}", "--prefix", agent.prefix], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None and time.monotonic() < deadline, "preload engine did not start"
            try:
                if request(str(sock), "GET", "/_ping")[0] == 200:
                    break
            except OSError:
                time.sleep(0.05)
        status, body = request(str(sock), "POST", "/images/load?quiet=1", archive.read_bytes(),
                               {"Content-Type": "application/x-tar"})
        assert status == 200, body
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def nodes(busybox_archive):
    if not shutil.which("kubectl"):
        pytest.skip("kubectl is not installed")
    root = Path(tempfile.mkdtemp(prefix="skiff-ctlagents-", dir="/tmp"))
    n = Nodes(root, busybox_archive)
    try:
        n.server.start()
        for _ in range(3):
            n.add()
        yield n
    finally:
        prefixes = [a.prefix for a in n.agents]
        n.cleanup()
        shutil.rmtree(root, ignore_errors=True)
        assert_nothing_left(root, prefixes)


def assert_nothing_left(root: Path, prefixes: list[str]) -> None:
    """No pod container (its shim runs from the agent's data dir), bridge, netns or cgroup named
    after any agent's prefix outlives the module."""
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        assert str(root).encode() not in cmdline, cmdline
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    for p in prefixes:
        assert p not in links, links
        assert p not in netns, netns
        for base in Path("/sys/fs/cgroup").iterdir():
            assert not (base / p).exists(), base / p


@pytest.fixture
def ns(nodes, request):
    name = "a-" + "".join(c for c in request.node.name.lower().replace("_", "-") if c.isalnum() or c == "-")[:40]
    name = name.strip("-") + "-" + os.urandom(2).hex()
    nodes.kubectl("create", "namespace", name)
    nodes.server.wait_for(f"/api/v1/namespaces/{name}/serviceaccounts/default")  # pods' admission needs it
    yield name
    nodes.server.kubectl("delete", "all", "--all", "-n", name, "--grace-period=0", "--wait=true", timeout=120)
    nodes.server.kubectl("delete", "namespace", name, "--wait=false")


def container_spec(name: str, image: str, command: list[str]) -> dict:
    return {"name": name, "image": image, "imagePullPolicy": "IfNotPresent", "command": command}


def template(app: str, image: str = IMAGE, command: list[str] | None = None, restart: str = "Always") -> dict:
    return {"metadata": {"labels": {"app": app}},
            "spec": {"terminationGracePeriodSeconds": 0, "restartPolicy": restart,
                     "containers": [container_spec("main", image, command or ["httpd", "-f", "-p", "8080"])]}}


def ready(pod: dict) -> bool:
    conds = {c["type"]: c["status"] for c in pod.get("status", {}).get("conditions", [])}
    return pod.get("status", {}).get("phase") == "Running" and conds.get("Ready") == "True"


def running_ready(nodes: Nodes, ns: str, selector: str, count: int):
    pods = nodes.live_pods(ns, selector)
    return pods if len(pods) == count and all(ready(p) for p in pods) else None


def test_replication_controller_restarts_replaces_and_scales(nodes, ns):
    rc = {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "web", "namespace": ns},
          "spec": {"replicas": 3, "selector": {"app": "web"}, "template": template("web")}}
    nodes.kubectl("apply", "-f", "-", input=json.dumps(rc))
    pods = nodes.wait(lambda: running_ready(nodes, ns, "app=web", 3))
    assert {p["spec"]["nodeName"] for p in pods} <= {a.node_name for a in nodes.agents}

    # kill one pod's container through its node's engine: the kubelet restarts it in place
    victim = pods[0]
    agent = nodes.agent_of(victim["spec"]["nodeName"])
    meta = victim["metadata"]
    container = f"k8s_main_{meta['name']}_{ns}_{meta['uid']}_0"
    r = agent.docker("kill", container)
    assert r.returncode == 0, r.stderr

    def restarted():
        p = nodes.get("pod", meta["name"], "-n", ns)
        return p if p["status"]["containerStatuses"][0]["restartCount"] == 1 and ready(p) else None
    nodes.wait(restarted)
    assert nodes.get("rc", "web", "-n", ns)["status"]["replicas"] == 3

    # delete a pod: the RC makes a new one
    gone = pods[1]["metadata"]["name"]
    nodes.kubectl("delete", "pod", gone, "-n", ns, "--wait=false")
    fresh = nodes.wait(lambda: (lambda ps: ps if gone not in {p["metadata"]["name"] for p in ps} else None)(
        running_ready(nodes, ns, "app=web", 3) or []))
    assert len(fresh) == 3

    nodes.kubectl("scale", "rc", "web", "--replicas=5", "-n", ns)
    pods = nodes.wait(lambda: running_ready(nodes, ns, "app=web", 5))
    assert len({p["spec"]["nodeName"] for p in pods}) >= 2
    nodes.wait(lambda: nodes.get("rc", "web", "-n", ns)["status"].get("readyReplicas") == 5)

    nodes.kubectl("scale", "rc", "web", "--replicas=2", "-n", ns)
    nodes.wait(lambda: len(nodes.get("pods", "-n", ns, "-l", "app=web")["items"]) == 2)
    nodes.wait(lambda: running_ready(nodes, ns, "app=web", 2))
    out = nodes.kubectl("get", "rc", "web", "-n", ns).stdout.decode().split("\n")
    assert out[0].split() == ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]
    assert out[1].split()[:4] == ["web", "2", "2", "2"]


def test_daemonset_runs_on_every_node_and_a_joining_one(nodes, ns):
    ds = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agentd", "namespace": ns},
          "spec": {"selector": {"matchLabels": {"app": "agentd"}},
                   "template": template("agentd", command=["sleep", "3600"])}}
    nodes.kubectl("apply", "-f", "-", input=json.dumps(ds))

    def one_per_node(count):
        pods = running_ready(nodes, ns, "app=agentd", count)
        return pods if pods and len({p["spec"]["nodeName"] for p in pods}) == count else None
    pods = nodes.wait(lambda: one_per_node(3))
    assert {p["spec"]["nodeName"] for p in pods} == {a.node_name for a in nodes.agents}

    joined = nodes.add()
    pods = nodes.wait(lambda: one_per_node(4))
    on_new = [p for p in pods if p["spec"]["nodeName"] == joined.node_name]
    assert len(on_new) == 1
    names = joined.docker("ps", "--format", "{{.Names}}").stdout.decode()
    assert f"k8s_main_{on_new[0]['metadata']['name']}_{ns}_" in names
    nodes.wait(lambda: nodes.get("ds", "agentd", "-n", ns)["status"].get("numberReady") == 4)


def test_deployment_rolls_to_a_new_tag_and_back(nodes, ns):
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "roll", "namespace": ns},
           "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "roll"}},
                    "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 1}},
                    "template": template("roll", image="skroll:v1")}}
    nodes.kubectl("apply", "-f", "-", input=json.dumps(dep))
    nodes.kubectl("rollout", "status", "deployment/roll", "-n", ns, "--timeout=120s", timeout=130)

    def images():
        return {p["spec"]["containers"][0]["image"] for p in nodes.live_pods(ns, "app=roll")}
    assert images() == {"skroll:v1"}

    nodes.kubectl("set", "image", "deployment/roll", "main=skroll:v2", "-n", ns)
    status = subprocess.Popen(["kubectl", "rollout", "status", "deployment/roll", "-n", ns, "--timeout=120s"],
                              env=nodes.server.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lowest = 3  # ready pods, polled throughout the rollout: maxUnavailable 1 allows no fewer than 2
    while status.poll() is None:
        lowest = min(lowest, sum(ready(p) for p in nodes.live_pods(ns, "app=roll")))
    out, err = status.communicate()
    assert status.returncode == 0, err
    assert b"successfully rolled out" in out
    assert lowest >= 2
    pods = nodes.wait(lambda: running_ready(nodes, ns, "app=roll", 3))
    assert {p["spec"]["containers"][0]["image"] for p in pods} == {"skroll:v2"}
    for p in pods:  # each runs the new tag on the engine of its node
        agent = nodes.agent_of(p["spec"]["nodeName"])
        r = agent.docker("inspect", "--format", "{{.Config.Image}}",
                         f"k8s_main_{p['metadata']['name']}_{ns}_{p['metadata']['uid']}_0")
        assert r.stdout.decode().strip() == "skroll:v2", r.stderr

    nodes.kubectl("rollout", "undo", "deployment/roll", "-n", ns)
    nodes.kubectl("rollout", "status", "deployment/roll", "-n", ns, "--timeout=120s", timeout=130)
    pods = nodes.wait(lambda: running_ready(nodes, ns, "app=roll", 3))
    assert {p["spec"]["containers"][0]["image"] for p in pods} == {"skroll:v1"}
    history = nodes.kubectl("rollout", "history", "deployment/roll", "-n", ns).stdout.decode()
    assert "REVISION" in history and "3" in history.split()


def test_job_of_five_completions_two_at_a_time(nodes, ns):
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "five", "namespace": ns},
           "spec": {"completions": 5, "parallelism": 2, "backoffLimit": 2,
                    "template": template("five", command=["sh", "-c", "sleep 1"], restart="Never")}}
    nodes.kubectl("apply", "-f", "-", input=json.dumps(job))
    peak = 0

    def complete():
        nonlocal peak
        j = nodes.get("job", "five", "-n", ns)
        peak = max(peak, j["status"].get("active", 0))
        return j if j["status"].get("succeeded") == 5 else None
    j = nodes.wait(complete, timeout=120)
    assert peak <= 2
    assert any(c["type"] == "Complete" and c["status"] == "True" for c in j["status"]["conditions"])
    nodes.kubectl("wait", "--for=condition=complete", "job/five", "-n", ns, "--timeout=30s")
    pods = nodes.get("pods", "-n", ns, "-l", "job-name=five")["items"]
    assert sum(p["status"]["phase"] == "Succeeded" for p in pods) == 5
    out = nodes.kubectl("get", "job", "five", "-n", ns).stdout.decode().split("\n")
    assert out[1].split()[:3] == ["five", "Complete", "5/5"]
