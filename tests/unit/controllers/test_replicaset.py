"""ReplicaSet and ReplicationController reconcile against the fake client."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from skiff.cluster.controllers import podutil
from skiff.cluster.controllers.replicaset import ReplicaSetController
from skiff.cluster.controllers.replication import ReplicationControllerController
from tests.unit.controllers.harness import Harness

RS = "/apis/apps/v1/namespaces/default/replicasets"
RC = "/api/v1/namespaces/default/replicationcontrollers"
PODS = "/api/v1/namespaces/default/pods"


def replicaset(name: str = "web", replicas: int = 3, **spec) -> dict:
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name, "tier": "x"}},
                                  "spec": {"containers": [{"name": "c", "image": "busybox"}]}}, **spec}}


def test_creates_to_replicas_in_slow_start_batches_and_never_double_creates():
    async def main() -> None:
        async with Harness(ReplicaSetController) as h:
            await h.client.create(RS, replicaset(replicas=7))
            await h.settle()
            pods = h.objects("pods")
            assert len(pods) == 7
            assert all(p["metadata"]["name"].startswith("web-") for p in pods)
            ref = pods[0]["metadata"]["ownerReferences"][0]
            assert ref["kind"] == "ReplicaSet" and ref["controller"] is True and ref["name"] == "web"
            assert len(h.client.writes("create", "pods")) == 7
            rs = h.objects("replicasets")[0]
            assert rs["status"]["replicas"] == 7 and rs["status"]["fullyLabeledReplicas"] == 7
            assert rs["status"]["observedGeneration"] == 1 and "readyReplicas" not in rs["status"]
            # reconciling again with nothing changed does nothing
            h.ctrl.queue.add("default/web")
            await h.settle()
            assert len(h.client.writes("create", "pods")) == 7
    asyncio.run(main())


def test_scale_down_deletes_least_valuable_first_and_status_counts_ready():
    async def main() -> None:
        async with Harness(ReplicaSetController) as h:
            await h.client.create(RS, replicaset(replicas=4))
            await h.settle()
            pods = h.objects("pods")
            ready = pods[:2]
            await h.mark_ready(ready)
            await h.settle()
            rs = h.objects("replicasets")[0]
            assert rs["status"]["readyReplicas"] == 2 and rs["status"]["availableReplicas"] == 2
            await h.client.merge_patch(RS + "/web", {"spec": {"replicas": 2}})
            await h.settle()
            left = {p["metadata"]["name"] for p in h.objects("pods")}
            assert left == {p["metadata"]["name"] for p in ready}
            rs = h.objects("replicasets")[0]
            assert rs["status"]["replicas"] == 2 and rs["status"]["observedGeneration"] == 2
    asyncio.run(main())


def test_replaces_a_deleted_pod():
    async def main() -> None:
        async with Harness(ReplicaSetController) as h:
            await h.client.create(RS, replicaset(replicas=2))
            await h.settle()
            victim = h.objects("pods")[0]["metadata"]["name"]
            await h.client.delete(f"{PODS}/{victim}")
            await h.settle()
            names = {p["metadata"]["name"] for p in h.objects("pods")}
            assert len(names) == 2 and victim not in names
    asyncio.run(main())


def test_adopts_matching_orphans_and_releases_pods_that_stop_matching():
    async def main() -> None:
        async with Harness(ReplicaSetController) as h:
            await h.client.create(PODS, {"metadata": {"name": "stray", "labels": {"app": "web"}}, "spec": {}})
            await h.client.create(PODS, {"metadata": {"name": "other", "labels": {"app": "db"}}, "spec": {}})
            await h.client.create(RS, replicaset(replicas=2))
            await h.settle()
            stray = h.client.objects[("/api/v1", "pods", "default", "stray")]
            assert podutil.controller_ref(stray)["name"] == "web"
            assert podutil.controller_ref(h.client.objects[("/api/v1", "pods", "default", "other")]) is None
            assert len(h.objects("pods")) == 3  # stray counted: only one new pod
            # relabel the adopted pod: it is released and replaced
            await h.client.merge_patch(f"{PODS}/stray", {"metadata": {"labels": {"app": "debug"}}})
            await h.settle()
            stray = h.client.objects[("/api/v1", "pods", "default", "stray")]
            assert podutil.controller_ref(stray) is None
            owned = [p for p in h.objects("pods") if podutil.controller_ref(p)]
            assert len(owned) == 2
    asyncio.run(main())


def test_failed_creates_set_replica_failure_and_retry():
    async def main() -> None:
        async with Harness(ReplicaSetController) as h:
            h.client.fail("create", PODS, 403)
            await h.client.create(RS, replicaset(replicas=1))
            await h.settle()
            await asyncio.sleep(0.05)  # the retry's backoff
            await h.settle()
            statuses = [o.get("status") or {} for _, _, key, o in h.client.history if key[1] == "replicasets"]
            assert any(c["type"] == "ReplicaFailure" and c["reason"] == "FailedCreate"
                       and c["message"] == "injected create failure"
                       for s in statuses for c in s.get("conditions", []))
            assert len(h.objects("pods")) == 1
            assert "conditions" not in h.objects("replicasets")[0]["status"]
    asyncio.run(main())


def test_replication_controller_uses_its_label_map_selector():
    async def main() -> None:
        async with Harness(ReplicationControllerController) as h:
            rc = {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "redis-slave"},
                  "spec": {"replicas": 2, "selector": {"name": "redis-slave"},
                           "template": {"metadata": {"labels": {"name": "redis-slave"}},
                                        "spec": {"containers": [{"name": "s", "image": "redis"}]}}}}
            await h.client.create(RC, rc)
            await h.settle()
            assert len(h.objects("pods")) == 2
            await h.client.merge_patch(RC + "/redis-slave", {"spec": {"replicas": 3}})
            await h.settle()
            assert len(h.objects("pods")) == 3
            assert h.objects("replicationcontrollers")[0]["status"]["replicas"] == 3
    asyncio.run(main())


def test_deletion_rank_orders_unscheduled_pending_unready_newest_first():
    now = datetime(2026, 1, 1, tzinfo=UTC)

    def pod(name, node="", phase="Running", ready=False, created="2026-01-01T00:00:00Z", ready_for=0):
        conds = [{"type": "Ready", "status": "True",
                  "lastTransitionTime": (now - timedelta(seconds=ready_for)).strftime("%Y-%m-%dT%H:%M:%SZ")}] \
            if ready else []
        return {"metadata": {"name": name, "creationTimestamp": created},
                "spec": {"nodeName": node}, "status": {"phase": phase, "conditions": conds}}

    pods = [pod("old-ready", "n", ready=True, ready_for=100), pod("new-ready", "n", ready=True, ready_for=5),
            pod("unready", "n"), pod("pending", "n", phase="Pending"), pod("unscheduled", phase="Pending"),
            pod("unready-newer", "n", created="2026-01-01T00:00:09Z")]
    order = [p["metadata"]["name"] for p in podutil.pods_to_delete(pods, 6, now)]
    assert order == ["unscheduled", "pending", "unready-newer", "unready", "new-ready", "old-ready"]


def test_slow_start_batches():
    assert podutil.slow_start_batches(7) == [1, 2, 4]
    assert podutil.slow_start_batches(10) == [1, 2, 4, 3]
    assert podutil.slow_start_batches(0) == []
