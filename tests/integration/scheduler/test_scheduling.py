"""The scheduler inside `skiff server`, driven by kubectl and the kubernetes client, against Node
objects created through the API (no kubelets, as kwok does)."""

from __future__ import annotations

import json
import time

import pytest

from tests.support.server import Server

pytestmark = [pytest.mark.interop, pytest.mark.slow]


def node(name: str, cpu: str = "4", memory: str = "8Gi", labels: dict | None = None, taints: list | None = None) -> dict:
    resources = {"cpu": cpu, "memory": memory, "pods": "110"}
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                                  **(labels or {})}},
            "spec": {"taints": taints or []},
            "status": {"capacity": resources, "allocatable": resources,
                       "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}]}}


def pod(name: str, **spec) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"containers": [{"name": "c", "image": "busybox"}], **spec}}


@pytest.fixture
def server(tmp_path):
    srv = Server(tmp_path / "srv").start()
    yield srv
    srv.cleanup()


def create(srv: Server, *objs: dict, ns: str = "default") -> None:
    for obj in objs:
        path = "/api/v1/nodes" if obj["kind"] == "Node" else f"/api/v1/namespaces/{ns}/pods"
        status, body = srv.json("POST", path, obj)
        assert status == 201, body


def get_pod(srv: Server, name: str, ns: str = "default") -> dict:
    status, body = srv.json("GET", f"/api/v1/namespaces/{ns}/pods/{name}")
    assert status == 200, body
    return body


def wait_for(fn, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def node_of(srv: Server, name: str) -> str:
    return get_pod(srv, name)["spec"].get("nodeName", "")


def scheduled_condition(srv: Server, name: str) -> dict | None:
    conds = get_pod(srv, name).get("status", {}).get("conditions") or []
    return next((c for c in conds if c["type"] == "PodScheduled"), None)


def unschedulable_message(srv: Server, name: str) -> str:
    cond = wait_for(lambda: (c := scheduled_condition(srv, name)) and c["status"] == "False" and c,
                    what=f"{name} to be reported unschedulable")
    assert cond["reason"] == "Unschedulable"
    return cond["message"]


def events_for(srv: Server, name: str) -> list[dict]:
    status, body = srv.json("GET", f"/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3D{name}")
    assert status == 200, body
    return body["items"]


def test_node_selector_pending_until_a_node_is_labelled(server):
    """Seed 001: a pod with a nodeSelector waits Pending until `kubectl label nodes` makes one match."""
    create(server, node("n1"), node("n2"), node("n3"))
    create(server, pod("redis", nodeSelector={"zone": "north"}))
    message = unschedulable_message(server, "redis")
    assert message == ("0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. "
                       "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.")
    out = server.kubectl("get", "pod", "redis", "--no-headers")
    assert out.returncode == 0 and "Pending" in out.stdout.decode(), out
    ev = wait_for(lambda: [e for e in events_for(server, "redis") if e["reason"] == "FailedScheduling"],
                  what="a FailedScheduling event")
    assert ev[0]["type"] == "Warning" and ev[0]["message"] == message
    assert ev[0]["source"]["component"] == "default-scheduler"

    out = server.kubectl("label", "nodes", "n2", "zone=north")
    assert out.returncode == 0, out
    assert wait_for(lambda: node_of(server, "redis"), what="redis to be bound") == "n2"
    assert scheduled_condition(server, "redis")["status"] == "True"
    ev = wait_for(lambda: [e for e in events_for(server, "redis") if e["reason"] == "Scheduled"],
                  what="a Scheduled event")
    assert ev[0]["message"] == "Successfully assigned default/redis to n2"
    out = server.kubectl("describe", "pod", "redis")
    assert "Successfully assigned default/redis to n2" in out.stdout.decode(), out


def test_resources_and_new_node(server):
    create(server, node("small1", cpu="1"), node("small2", cpu="1"), node("other", cpu="8", labels={"kubernetes.io/os": "windows"}))
    big = pod("big", containers=[{"name": "c", "image": "busybox", "resources": {"requests": {"cpu": "2"}}}],
              nodeSelector={"kubernetes.io/os": "linux"})
    create(server, big)
    message = unschedulable_message(server, "big")
    assert message.startswith("0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, "
                              "2 Insufficient cpu. preemption: "), message
    create(server, node("large", cpu="4"))
    assert wait_for(lambda: node_of(server, "big"), what="big to be bound") == "large"
    # a second pod of 3 cpus no longer fits on large (2 of 4 used)
    create(server, pod("big2", containers=[{"name": "c", "image": "busybox",
                                             "resources": {"requests": {"cpu": "3"}}}],
                       nodeSelector={"kubernetes.io/os": "linux"}))
    assert unschedulable_message(server, "big2").startswith(
        "0/4 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 3 Insufficient cpu. "
        "preemption: 0/4 nodes are available: 1 Preemption is not helpful for scheduling, "
        "3 No preemption victims found for incoming pod.")


def test_taints_with_kubectl_taint(server):
    create(server, node("t1"), node("t2"))
    for n in ("t1", "t2"):
        out = server.kubectl("taint", "nodes", n, "dedicated=db:NoSchedule")
        assert out.returncode == 0, out
    create(server, pod("plain"))
    message = unschedulable_message(server, "plain")
    assert message.startswith("0/2 nodes are available: 2 node(s) had untolerated taint {dedicated: db}."), message
    create(server, pod("tolerant", tolerations=[{"key": "dedicated", "operator": "Equal", "value": "db",
                                                 "effect": "NoSchedule"}]))
    assert wait_for(lambda: node_of(server, "tolerant"), what="tolerant to be bound") in ("t1", "t2")
    out = server.kubectl("taint", "nodes", "t1", "dedicated=db:NoSchedule-")
    assert out.returncode == 0, out
    assert wait_for(lambda: node_of(server, "plain"), what="plain to be bound") == "t1"


def test_required_anti_affinity_spreads_and_blocks(server):
    create(server, node("a1"), node("a2"))
    anti = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"role": "web"}}, "topologyKey": "kubernetes.io/hostname"}]}}
    for i in range(3):
        p = pod(f"web{i}", affinity=anti)
        p["metadata"]["labels"]["role"] = "web"
        create(server, p)
    placed = {wait_for(lambda i=i: node_of(server, f"web{i}"), what=f"web{i}") for i in range(2)}
    assert placed == {"a1", "a2"}
    assert node_of(server, "web2") == ""
    message = unschedulable_message(server, "web2")
    # the placed pods' own anti-affinity is checked first, as in Kubernetes
    assert message.startswith("0/2 nodes are available: 2 node(s) didn't satisfy existing pods anti-affinity "
                              "rules."), message
    # deleting one frees its node for the third
    status, _ = server.json("DELETE", "/api/v1/namespaces/default/pods/web0?gracePeriodSeconds=0")
    assert status == 200
    assert wait_for(lambda: node_of(server, "web2"), what="web2 to be bound") in ("a1", "a2")


def test_preemption_by_priority_class(server):
    create(server, node("p1", cpu="1"))
    for name, value in (("low", 10), ("high", 1000)):
        status, body = server.json("POST", "/apis/scheduling.k8s.io/v1/priorityclasses",
                                   {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                                    "metadata": {"name": name}, "value": value})
        assert status == 201, body
    req = {"name": "c", "image": "busybox", "resources": {"requests": {"cpu": "800m"}}}
    create(server, pod("victim", containers=[req], priorityClassName="low"))
    assert wait_for(lambda: node_of(server, "victim"), what="victim bound") == "p1"
    create(server, pod("vip", containers=[req], priorityClassName="high"))
    # no kubelet finishes the graceful deletion here: the victim is Terminating, vip nominated
    wait_for(lambda: get_pod(server, "victim")["metadata"].get("deletionTimestamp"), what="the victim's deletion")
    assert wait_for(lambda: get_pod(server, "vip").get("status", {}).get("nominatedNodeName"),
                    what="vip nominated") == "p1"
    assert node_of(server, "vip") == ""
    status, _ = server.json("DELETE", "/api/v1/namespaces/default/pods/victim?gracePeriodSeconds=0")
    assert status == 200
    assert wait_for(lambda: node_of(server, "vip"), what="vip bound") == "p1"
    assert any(e["reason"] == "Preempted" for e in events_for(server, "victim"))


def test_kubernetes_client_sees_binding(server):
    kubernetes = pytest.importorskip("kubernetes")
    create(server, node("k1"))
    api = kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(str(server.kubeconfig)))
    body = kubernetes.client.V1Pod(metadata=kubernetes.client.V1ObjectMeta(name="kc"),
                                   spec=kubernetes.client.V1PodSpec(containers=[
                                       kubernetes.client.V1Container(name="c", image="busybox")]))
    api.create_namespaced_pod("default", body)
    assert wait_for(lambda: api.read_namespaced_pod("kc", "default").spec.node_name, what="kc bound") == "k1"


def test_disable_scheduler_leaves_pods_pending(tmp_path):
    srv = Server(tmp_path / "srv", extra_args=["--disable-scheduler"]).start()
    try:
        create(srv, node("d1"), pod("idle"))
        time.sleep(1.0)  # give a scheduler, were one running, the chance to act
        assert node_of(srv, "idle") == "" and scheduled_condition(srv, "idle") is None
    finally:
        srv.cleanup()


def test_other_scheduler_name_is_left_alone(server):
    create(server, node("o1"), pod("mine"), pod("theirs", schedulerName="my-scheduler"))
    assert wait_for(lambda: node_of(server, "mine"), what="mine bound") == "o1"
    time.sleep(0.5)
    assert node_of(server, "theirs") == ""
    assert "PodScheduled" not in json.dumps(get_pod(server, "theirs").get("status", {}))
