"""The node lifecycle controller through kubectl: a kwok node whose Lease stops being renewed
goes Unknown, is tainted unreachable, its pods are evicted and replaced on the other nodes by
their ReplicationController; it recovers when renewals resume."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.integration.controllers.conftest import Cluster
from tests.support.agent import Agent
from tests.support.kwok import Kwok
from tests.support.server import Server

pytestmark = pytest.mark.slow
UNREACHABLE = "node.kubernetes.io/unreachable"


@pytest.fixture(scope="module")
def fast_cluster():
    if not shutil.which("kubectl"):
        pytest.skip("kubectl is not installed")
    server = Server(extra_args=["--node-monitor-grace-period", "4", "--node-eviction-rate", "100"]).start()
    kwok = Kwok(server, heartbeat=1.0).start([f"nlc-{os.getpid()}-{i}" for i in range(3)])
    try:
        yield Cluster(server, kwok)
    finally:
        try:
            kwok.stop()
        finally:
            server.cleanup()


def rc_manifest(namespace: str) -> str:
    tolerations = [{"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 2},
                   {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
                    "tolerationSeconds": 2}]
    return json.dumps({
        "apiVersion": "v1", "kind": "ReplicationController",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {"replicas": 3, "selector": {"app": "web"},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"tolerations": tolerations,
                                       "containers": [{"name": "web", "image": "busybox"}]}}}})


def ready(pod: dict) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod.get("status", {}).get("conditions") or [])


def node_ready(cluster: Cluster, name: str) -> dict:
    node = cluster.get("node", name)
    return next(c for c in node["status"]["conditions"] if c["type"] == "Ready")


def test_silent_node_is_tainted_its_pods_replaced_and_it_recovers(fast_cluster: Cluster):
    cluster = fast_cluster
    ns = "nlc-" + os.urandom(3).hex()
    cluster.kubectl("create", "namespace", ns)
    try:
        cluster.kubectl("apply", "-f", "-", input=rc_manifest(ns))
        pods = cluster.wait(lambda: (lambda ps: ps if len(ps) == 3 and all(map(ready, ps)) else None)(
            cluster.pods(ns, "app=web")))
        victim = pods[0]["spec"]["nodeName"]
        # healthy nodes stay Ready well past the grace period: kwok renews their Leases
        assert node_ready(cluster, victim)["status"] == "True"

        cluster.kwok.stop_heartbeat(victim)
        cond = cluster.wait(lambda: (lambda c: c if c["status"] == "Unknown" else None)(node_ready(cluster, victim)))
        assert cond["reason"] == "NodeStatusUnknown"
        assert cond["message"] == "Kubelet stopped posting node status."
        taints = cluster.wait(lambda: (lambda n: n["spec"].get("taints") if any(
            t["key"] == UNREACHABLE and t["effect"] == "NoExecute" for t in n["spec"].get("taints") or [])
            else None)(cluster.get("node", victim)))
        assert {(t["key"], t["effect"]) for t in taints} >= {(UNREACHABLE, "NoSchedule"), (UNREACHABLE, "NoExecute")}
        r = cluster.kubectl("get", "nodes", victim)
        assert "NotReady" in r.stdout.decode()

        # evicted after tolerationSeconds, replaced elsewhere, all Ready again
        def replaced():
            ps = cluster.pods(ns, "app=web")
            return ps if len(ps) == 3 and all(ready(p) and p["spec"]["nodeName"] != victim for p in ps) else None
        cluster.wait(replaced)

        cluster.kwok.resume_heartbeat(victim)
        cluster.wait(lambda: node_ready(cluster, victim)["status"] == "True")
        cluster.wait(lambda: not any(t["key"] == UNREACHABLE
                                     for t in cluster.get("node", victim)["spec"].get("taints") or []))
    finally:
        cluster.kubectl("delete", "namespace", ns, "--wait=false", check=False)


@pytest.mark.root
def test_agent_killed_goes_unknown_and_back_to_ready_after_restart():
    """issue 6: a real `skiff agent` killed -9 goes NotReady (Unknown); restarted, it is Ready."""
    if not shutil.which("kubectl"):
        pytest.skip("kubectl is not installed")
    root = Path(tempfile.mkdtemp(prefix="skiff-nlc-", dir="/tmp"))
    token = secrets.token_hex(8)
    # the agent renews its Lease every 10 s: the grace period must outlast that
    srv = Server(root / "server", extra_args=["--token", token, "--node-monitor-grace-period", "15"])
    agent = Agent(srv.url, token, root / "node", node_name=f"nlc-agent-{secrets.token_hex(2)}",
                  extra_args=["--bip", f"10.{100 + secrets.randbelow(100)}.7.1/24", "--kubelet-port", "0"])
    cluster = Cluster(srv, None)  # type: ignore[arg-type]
    try:
        srv.start()
        agent.start()
        cluster.wait(lambda: srv.kubectl("get", "node", agent.node_name).returncode == 0
                     and node_ready(cluster, agent.node_name)["status"] == "True")
        agent.kill()
        cond = cluster.wait(lambda: (lambda c: c if c["status"] == "Unknown" else None)(
            node_ready(cluster, agent.node_name)), timeout=90)
        assert cond["reason"] == "NodeStatusUnknown"
        assert "NotReady" in cluster.kubectl("get", "node", agent.node_name).stdout.decode()
        cluster.wait(lambda: any(t["key"] == UNREACHABLE
                                 for t in cluster.get("node", agent.node_name)["spec"].get("taints") or []))

        agent.start()
        cluster.wait(lambda: node_ready(cluster, agent.node_name)["status"] == "True", timeout=90)
        cluster.wait(lambda: not any(t["key"] == UNREACHABLE
                                     for t in cluster.get("node", agent.node_name)["spec"].get("taints") or []))
    finally:
        agent.cleanup()
        srv.cleanup()
        shutil.rmtree(root, ignore_errors=True)
