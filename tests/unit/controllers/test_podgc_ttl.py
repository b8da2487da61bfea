"""Pod GC (pure selection) and the TTL-after-finished controller against the fake client."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from skiff.cluster.apimachinery.meta import format_rfc3339
from skiff.cluster.controllers import podgc, ttlafterfinished
from skiff.cluster.controllers.ttlafterfinished import TTLAfterFinishedController
from tests.unit.controllers.harness import Harness

JOBS = "/apis/batch/v1/namespaces/default/jobs"


def pod(name: str, phase: str = "Running", node: str | None = "n1", created: str = "2026-01-01T00:00:00Z",
        deleting: bool = False) -> dict:
    meta = {"name": name, "namespace": "default", "uid": name, "creationTimestamp": created}
    if deleting:
        meta["deletionTimestamp"] = created
    return {"metadata": meta, "spec": {"nodeName": node} if node else {}, "status": {"phase": phase}}


def names(pods: list[dict]) -> list[str]:
    return sorted(p["metadata"]["name"] for p in pods)


def test_terminated_pods_over_the_threshold_go_oldest_first():
    pods = [pod(f"done-{i}", "Succeeded" if i % 2 else "Failed", created=f"2026-01-01T00:00:0{i}Z")
            for i in range(5)] + [pod("live")]
    assert names(podgc.to_collect(pods, {"n1"}, 3, set())) == ["done-0", "done-1"]
    assert podgc.to_collect(pods, {"n1"}, 10, set()) == []


def test_pods_of_a_vanished_node_go_at_the_second_look_and_unscheduled_deleting_ones_at_once():
    pods = [pod("orphan", node="gone"), pod("fine"), pod("stuck", node=None, deleting=True), pod("pending", node=None)]
    suspects: set[str] = set()
    assert names(podgc.to_collect(pods, {"n1"}, 100, suspects)) == ["stuck"]
    assert names(podgc.to_collect(pods, {"n1"}, 100, suspects)) == ["orphan", "stuck"]
    # a node that appears in between clears the suspicion
    suspects = set()
    podgc.to_collect(pods, {"n1"}, 100, suspects)
    assert names(podgc.to_collect(pods, {"n1", "gone"}, 100, suspects)) == ["stuck"]


def finished_job(name: str, ttl: int | None, at: datetime) -> dict:
    spec: dict = {"template": {"spec": {"containers": [{"name": "c", "image": "busybox"}]}}}
    if ttl is not None:
        spec["ttlSecondsAfterFinished"] = ttl
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name}, "spec": spec,
            "status": {"conditions": [{"type": "Complete", "status": "True",
                                       "lastTransitionTime": format_rfc3339(at)}]}}


def test_ttl_deletes_finished_jobs_when_their_time_is_up():
    async def main() -> None:
        now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
        clock = [now]
        async with Harness(TTLAfterFinishedController, now=lambda: clock[0]) as h:
            await h.client.create(JOBS, finished_job("due", 60, now - timedelta(seconds=61)))
            await h.client.create(JOBS, finished_job("later", 60, now - timedelta(seconds=30)))
            await h.client.create(JOBS, finished_job("keep", None, now - timedelta(days=1)))
            await h.settle()
            assert [j["metadata"]["name"] for j in h.objects("jobs")] == ["keep", "later"]
            clock[0] = now + timedelta(seconds=31)
            h.ctrl.queue.add("default/later")
            await h.settle()
            assert [j["metadata"]["name"] for j in h.objects("jobs")] == ["keep"]
    asyncio.run(main())


def test_ttl_seconds_left():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert ttlafterfinished.seconds_left(finished_job("j", 10, now - timedelta(seconds=4)), now) == 6
    running = {"spec": {"ttlSecondsAfterFinished": 0}, "metadata": {}, "status": {}}
    assert ttlafterfinished.seconds_left(running, now) is None
