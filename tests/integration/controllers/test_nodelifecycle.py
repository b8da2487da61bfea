"""The node lifecycle controller through kubectl: a kwok node whose Lease stops being renewed
goes Unknown, is tainted unreachable, its pods are evicted and replaced on the other nodes by
their ReplicationController; it recovers when renewals resume."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from tests.integration.controllers.conftest import Cluster
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
    yield Cluster(server, kwok)
    kwok.stop()
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
