"""Three agents joined to one server: the scheduler spreads pods over them, nodeSelector follows
`kubectl label nodes`, and a pod no node matches stays Pending (seed 001)."""

import json
import secrets
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from tests.support.agent import Agent
from tests.support.server import Server

pytestmark = [pytest.mark.root, pytest.mark.slow]


@pytest.fixture(scope="module")
def three(busybox_archive):
    if not shutil.which("kubectl"):
        pytest.skip("kubectl is not installed")
    root = Path(tempfile.mkdtemp(prefix="skiff-kubelet-", dir="/tmp"))
    token = secrets.token_hex(8)
    srv = Server(root / "server", extra_args=["--token", token])
    agents = []
    try:
        srv.start()
        base = 100 + secrets.randbelow(100)
        for i in range(3):
            a = Agent(srv.url, token, root / f"node{i}", node_name=f"worker-{i}-{secrets.token_hex(2)}",
                      extra_args=["--bip", f"10.{base}.{i}.1/24", "--kubelet-port", "0"])
            agents.append(a)
            a.start()
            a.load(busybox_archive)
        yield srv, agents
    finally:
        for a in agents:
            a.cleanup()
        srv.cleanup()
        shutil.rmtree(root, ignore_errors=True)


def pod(name, **spec):
    return json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "spread"}},
                       "spec": {"terminationGracePeriodSeconds": 0, "containers": [{
                           "name": "main", "image": "busybox:latest", "imagePullPolicy": "IfNotPresent",
                           "command": ["sleep", "3600"]}], **spec}})


def wait_phase(srv, name, phase, timeout=60):
    deadline = time.monotonic() + timeout
    value = ""
    while time.monotonic() < deadline:
        value = srv.kubectl("get", "pod", name, "-o", "jsonpath={.status.phase}").stdout.decode()
        if value == phase:
            return
        time.sleep(0.2)
    raise AssertionError(f"pod {name}: phase {value!r}, wanted {phase}")


def test_three_nodes_ready_and_pods_spread(three):
    srv, agents = three
    out = srv.kubectl("get", "nodes", "-o", "json")
    nodes = {n["metadata"]["name"]: n for n in json.loads(out.stdout)["items"]}
    for a in agents:
        ready = {c["type"]: c["status"] for c in nodes[a.node_name]["status"]["conditions"]}["Ready"]
        assert ready == "True"
    for i in range(6):
        assert srv.kubectl("apply", "-f", "-", input=pod(f"spread-{i}")).returncode == 0
    for i in range(6):
        wait_phase(srv, f"spread-{i}", "Running")
    placed = json.loads(srv.kubectl("get", "pods", "-l", "app=spread", "-o", "json").stdout)["items"]
    used = {p["spec"]["nodeName"] for p in placed}
    assert len(used) >= 2
    for p in placed:  # each pod runs on the engine of the node it was bound to
        agent = next(a for a in agents if a.node_name == p["spec"]["nodeName"])
        names = agent.docker("ps", "--format", "{{.Names}}").stdout.decode()
        assert f"k8s_main_{p['metadata']['name']}_default_{p['metadata']['uid']}_0" in names
    srv.kubectl("delete", "pods", "-l", "app=spread", "--wait=true", timeout=120)


def test_node_selector_waits_for_a_matching_label(three):
    srv, agents = three
    assert srv.kubectl("apply", "-f", "-", input=pod("picky", nodeSelector={"disk": "ssd"})).returncode == 0
    time.sleep(2)
    got = json.loads(srv.kubectl("get", "pod", "picky", "-o", "json").stdout)
    assert got["status"]["phase"] == "Pending" and not got["spec"].get("nodeName")
    target = agents[1].node_name
    r = srv.kubectl("label", "nodes", target, "disk=ssd")
    assert r.returncode == 0, r.stderr
    wait_phase(srv, "picky", "Running")
    assert srv.kubectl("get", "pod", "picky", "-o", "jsonpath={.spec.nodeName}").stdout.decode() == target
    srv.kubectl("delete", "pod", "picky", "--wait=true", timeout=60)
