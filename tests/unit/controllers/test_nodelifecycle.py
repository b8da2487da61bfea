"""Node lifecycle: the pure decisions with a fixed clock, and the controller over the fake client."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from skiff.cluster.apimachinery.meta import format_rfc3339, now_rfc3339_micro
from skiff.cluster.controllers import nodehealth as h
from skiff.cluster.controllers.nodelifecycle import NodeLifecycleController
from tests.unit.controllers.harness import Harness

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def node(name="n1", ready="True", heartbeat=T0, taints=None, zone=""):
    labels = {"topology.kubernetes.io/zone": zone} if zone else {}
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": labels, "creationTimestamp": format_rfc3339(T0 - timedelta(hours=1))},
            "spec": {"taints": taints} if taints else {},
            "status": {"conditions": [
                {"type": "Ready", "status": ready, "reason": "KubeletReady",
                 "lastHeartbeatTime": format_rfc3339(heartbeat), "lastTransitionTime": format_rfc3339(T0)},
                {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory",
                 "lastHeartbeatTime": format_rfc3339(heartbeat), "lastTransitionTime": format_rfc3339(T0)}]}}


def lease(renew):
    return {"metadata": {"name": "n1", "namespace": "kube-node-lease"}, "spec": {"renewTime": now_rfc3339_micro(renew)}}


def test_stale_after_grace_counting_the_lease():
    n = node(heartbeat=T0)
    assert not h.is_stale(n, None, T0 + timedelta(seconds=40), 40)
    assert h.is_stale(n, None, T0 + timedelta(seconds=41), 40)
    # a renewed lease keeps a node whose status is old alive
    assert not h.is_stale(n, lease(T0 + timedelta(seconds=30)), T0 + timedelta(seconds=60), 40)


def test_unknown_conditions_wording_and_idempotence():
    conds = h.unknown_conditions(node(), T0)
    by = {c["type"]: c for c in conds}
    assert by["Ready"]["status"] == "Unknown" and by["Ready"]["reason"] == "NodeStatusUnknown"
    assert by["Ready"]["message"] == "Kubelet stopped posting node status."
    assert by["Ready"]["lastHeartbeatTime"] == format_rfc3339(T0)  # the last one the kubelet sent
    assert by["DiskPressure"]["reason"] == "NodeStatusNeverUpdated"
    assert set(by) == {"Ready", "MemoryPressure", "DiskPressure", "PIDPressure"}
    again = node()
    again["status"]["conditions"] = conds
    assert h.unknown_conditions(again, T0) is None


@pytest.mark.parametrize("ready,key", [("Unknown", h.UNREACHABLE), ("False", h.NOT_READY)])
def test_taints_follow_ready_and_go_when_ready(ready, key):
    other = {"key": "dedicated", "value": "x", "effect": "NoSchedule"}
    new = h.reconcile_taints([other], h.wanted_taints(ready), T0)
    assert new is not None
    assert {(t["key"], t["effect"]) for t in new} == {("dedicated", "NoSchedule"), (key, "NoSchedule"),
                                                      (key, "NoExecute")}
    assert next(t for t in new if t["effect"] == "NoExecute")["timeAdded"] == format_rfc3339(T0)
    assert h.reconcile_taints(new, h.wanted_taints(ready), T0) is None
    assert h.reconcile_taints(new, h.wanted_taints("True"), T0) == [other]


def test_unreachable_replaces_not_ready():
    start = h.reconcile_taints([], h.wanted_taints("False"), T0)
    assert start is not None
    new = h.reconcile_taints(start, h.wanted_taints("Unknown"), T0)
    assert new is not None and {t["key"] for t in new} == {h.UNREACHABLE}


def test_no_execute_held_back_by_rate_limiter():
    new = h.reconcile_taints([], h.wanted_taints("Unknown"), T0, allow_no_execute=False)
    assert new == [{"key": h.UNREACHABLE, "effect": "NoSchedule"}]
    assert h.needs_no_execute(new, h.wanted_taints("Unknown"))


def test_eviction_time_from_tolerations():
    taint = {"key": h.UNREACHABLE, "effect": "NoExecute", "timeAdded": format_rfc3339(T0)}
    bare = {"spec": {}}
    assert h.eviction_time(bare, [taint], T0 + timedelta(seconds=1)) == T0 + timedelta(seconds=1)
    tol = {"key": h.UNREACHABLE, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 5}
    assert h.eviction_time({"spec": {"tolerations": [tol]}}, [taint], T0) == T0 + timedelta(seconds=5)
    forever = {"operator": "Exists"}
    assert h.eviction_time({"spec": {"tolerations": [forever]}}, [taint], T0) is None
    assert h.eviction_time(bare, [{"key": h.UNREACHABLE, "effect": "NoSchedule"}], T0) is None


def test_pod_ready_false():
    pod = {"status": {"conditions": [{"type": "Ready", "status": "True"}, {"type": "PodScheduled", "status": "True"}]}}
    conds = h.pod_ready_false(pod, T0)
    assert conds is not None and conds[0]["status"] == "False" and conds[1]["status"] == "True"
    assert h.pod_ready_false({"status": {"conditions": conds}}, T0) is None


def test_rate_limiter_tokens():
    now = [0.0]
    lim = h.RateLimiter(0.1, lambda: now[0])
    assert lim.try_accept()
    assert not lim.try_accept()
    now[0] = 9.0
    assert not lim.try_accept()
    now[0] = 10.5
    assert lim.try_accept()
    assert not h.RateLimiter(0, lambda: 0.0).try_accept()


def test_zone_label():
    assert h.zone_of(node(zone="z1")) == "z1"
    assert h.zone_of(node()) == ""


class Clock:
    def __init__(self, start: datetime):
        self.now = start

    def __call__(self):
        return self.now


def test_controller_taints_silent_node_and_evicts_then_recovers():
    asyncio.run(_silent_node_scenario())


async def _silent_node_scenario():
    # the fake client stamps creationTimestamp with the real time: start from it
    base = datetime.now(UTC).replace(microsecond=0)
    clock = Clock(base)
    async with Harness(NodeLifecycleController, clock=clock) as hs:
        hs.ctrl.rate = 1000.0
        await hs.client.create("/api/v1/nodes", node(heartbeat=base))
        tol = {"key": h.UNREACHABLE, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 3}
        for name, tols in (("short", [tol]), ("none", [])):
            await hs.client.create("/api/v1/namespaces/default/pods", {
                "metadata": {"name": name, "namespace": "default"},
                "spec": {"nodeName": "n1", "tolerations": tols, "containers": [{"name": "c", "image": "i"}]},
                "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}})
        await hs.settle()
        assert hs.objects("pods")[0]["status"]["conditions"][0]["status"] == "True"

        clock.now = base + timedelta(seconds=41)
        hs.ctrl.queue.add("monitor")
        await hs.settle()
        n1 = await hs.client.get("/api/v1/nodes/n1")
        assert h.observed_ready(n1) == "Unknown"
        assert {(t["key"], t["effect"]) for t in n1["spec"]["taints"]} == {(h.UNREACHABLE, "NoSchedule"),
                                                                          (h.UNREACHABLE, "NoExecute")}
        names = {p["metadata"]["name"] for p in hs.objects("pods")}
        assert names == {"short"}  # the pod without a toleration went at once
        assert hs.objects("pods")[0]["status"]["conditions"][0]["status"] == "False"

        clock.now = base + timedelta(seconds=45)
        hs.ctrl.queue.add("monitor")
        await hs.settle()
        assert hs.objects("pods") == []

        # the kubelet is back: Ready True with a fresh heartbeat; the taints go
        await hs.client.merge_patch("/api/v1/nodes/n1/status", {"status": node(heartbeat=clock.now)["status"]})
        hs.ctrl.queue.add("monitor")
        await hs.settle()
        n1 = await hs.client.get("/api/v1/nodes/n1")
        assert not (n1["spec"].get("taints") or [])


def test_registered_under_kube_names_and_flags_reach_it():
    from skiff.cluster.controllers import registry
    from skiff.cluster.serverflags import parse

    assert registry.canonical("nodelifecycle") == registry.canonical("node-lifecycle") == "node-lifecycle-controller"
    assert "node-lifecycle-controller" in registry.select("*")
    assert "node-lifecycle-controller" not in registry.select("*,-nodelifecycle")
    opts = parse(["--node-monitor-grace-period", "4", "--node-eviction-rate", "100"])
    assert (opts.node_monitor_grace_period, opts.node_eviction_rate) == (4.0, 100.0)
    assert parse([]).node_monitor_grace_period == 40.0
    with pytest.raises(SystemExit):
        parse(["--node-monitor-grace-period", "0"])


def test_period_follows_a_short_grace():
    hs = Harness(NodeLifecycleController)
    assert (hs.ctrl.grace, hs.ctrl.period, hs.ctrl.rate) == (40.0, 5.0, 0.1)
    from skiff.cluster.client.fake import FakeClient
    from skiff.cluster.client.informers import SharedInformerFactory
    from skiff.cluster.controllers.base import ControllerContext

    client = FakeClient()
    ctrl = NodeLifecycleController(ControllerContext(client, SharedInformerFactory(client),
                                                     {"node-monitor-grace-period": 4}))
    assert ctrl.period == 1.0


def test_a_registering_node_is_left_alone_until_its_grace_runs_out():
    asyncio.run(_registering_scenario())


async def _registering_scenario():
    base = datetime.now(UTC).replace(microsecond=0)
    clock = Clock(base)
    async with Harness(NodeLifecycleController, clock=clock) as hs:
        await hs.client.create("/api/v1/nodes", {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "new"}})
        await hs.settle()
        fresh = await hs.client.get("/api/v1/nodes/new")
        assert not (fresh.get("spec") or {}).get("taints") and not (fresh.get("status") or {}).get("conditions")
        clock.now = base + timedelta(seconds=60)
        hs.ctrl.queue.add("monitor")
        await hs.settle()
        late = await hs.client.get("/api/v1/nodes/new")
        ready = h.condition(late, "Ready")
        assert ready is not None and ready["reason"] == "NodeStatusNeverUpdated"
        assert {t["key"] for t in late["spec"]["taints"]} == {h.UNREACHABLE}
