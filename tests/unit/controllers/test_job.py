"""The Job controller against the fake client, and its pure arithmetic."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from skiff.cluster.apimachinery.meta import format_rfc3339
from skiff.cluster.controllers import jobstate
from skiff.cluster.controllers.job import JobController
from tests.unit.controllers.harness import Harness

JOBS = "/apis/batch/v1/namespaces/default/jobs"
PODS = "/api/v1/namespaces/default/pods"


def job(name: str = "pi", **spec) -> dict:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"template": {"metadata": {"labels": {"job-name": name}},
                                  "spec": {"restartPolicy": "Never",
                                           "containers": [{"name": "c", "image": "busybox"}]}}, **spec}}


class Clock:
    def __init__(self) -> None:
        self.t = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.t


async def finish(h: Harness, pods: list[dict], phase: str, at: datetime | None = None) -> None:
    stamp = format_rfc3339(at or datetime.now(UTC))
    for p in pods:
        await h.client.merge_patch(f"{PODS}/{p['metadata']['name']}/status", {"status": {
            "phase": phase, "containerStatuses": [{"name": "c", "state": {"terminated": {
                "exitCode": 0 if phase == "Succeeded" else 1, "finishedAt": stamp}}}]}})


def live(h: Harness) -> list[dict]:
    return [p for p in h.objects("pods") if jobstate.phase(p) not in ("Succeeded", "Failed")]


def test_five_completions_two_at_a_time_then_complete():
    async def main() -> None:
        async with Harness(JobController) as h:
            await h.client.create(JOBS, job(completions=5, parallelism=2))
            await h.settle()
            for expected_done in (2, 4):
                running = live(h)
                assert len(running) == 2
                await finish(h, running, "Succeeded")
                await h.settle()
                assert h.objects("jobs")[0]["status"]["succeeded"] == expected_done
            running = live(h)
            assert len(running) == 1  # only one completion left
            await finish(h, running, "Succeeded")
            await h.settle()
            status = h.objects("jobs")[0]["status"]
            assert status["succeeded"] == 5 and status["active"] == 0
            assert [c["type"] for c in status["conditions"]] == ["SuccessCriteriaMet", "Complete"]
            assert status["completionTime"] and status["startTime"]
            assert len(h.client.writes("create", "pods")) == 5
    asyncio.run(main())


def test_backoff_limit_fails_the_job_and_waits_between_failures():
    async def main() -> None:
        clock = Clock()
        async with Harness(JobController, now=clock) as h:
            await h.client.create(JOBS, job(backoffLimit=1))
            await h.settle()
            await finish(h, live(h), "Failed", at=clock.t)
            await h.settle()
            assert live(h) == []  # held back: the first failure waits 10 s
            clock.t += timedelta(seconds=11)
            h.ctrl.queue.add("default/pi")
            await h.settle()
            assert len(live(h)) == 1
            await finish(h, live(h), "Failed", at=clock.t)
            await h.settle()
            status = h.objects("jobs")[0]["status"]
            failed = [c for c in status["conditions"] if c["type"] == "Failed"][0]
            assert failed["reason"] == "BackoffLimitExceeded" and status["failed"] == 2
            assert live(h) == [] and len(h.client.writes("create", "pods")) == 2
    asyncio.run(main())


def test_active_deadline_fails_the_job_and_deletes_its_pods():
    async def main() -> None:
        clock = Clock()
        async with Harness(JobController, now=clock) as h:
            await h.client.create(JOBS, job(activeDeadlineSeconds=30, parallelism=2, completions=4))
            await h.settle()
            assert len(live(h)) == 2
            clock.t += timedelta(seconds=31)
            h.ctrl.queue.add("default/pi")
            await h.settle()
            status = h.objects("jobs")[0]["status"]
            assert [c["reason"] for c in status["conditions"] if c["type"] == "Failed"] == ["DeadlineExceeded"]
            assert h.objects("pods") == []
    asyncio.run(main())


def test_indexed_job_gives_each_pod_its_index():
    async def main() -> None:
        async with Harness(JobController) as h:
            await h.client.create(JOBS, job(completions=3, parallelism=3, completionMode="Indexed"))
            await h.settle()
            pods = live(h)
            indexes = sorted(jobstate.completion_index(p) for p in pods)
            assert indexes == [0, 1, 2]
            p0 = next(p for p in pods if jobstate.completion_index(p) == 0)
            assert p0["metadata"]["name"].startswith("pi-0-") and p0["spec"]["hostname"] == "pi-0"
            env = p0["spec"]["containers"][0]["env"]
            assert env[0]["name"] == "JOB_COMPLETION_INDEX"
            await finish(h, [p for p in pods if jobstate.completion_index(p) != 1], "Succeeded")
            await h.settle()
            assert h.objects("jobs")[0]["status"]["completedIndexes"] == "0,2"
            # index 1 fails; its replacement carries the same index
            await finish(h, [p for p in pods if jobstate.completion_index(p) == 1], "Failed",
                         at=datetime.now(UTC) - timedelta(seconds=20))
            await h.settle()
            again = live(h)
            assert [jobstate.completion_index(p) for p in again] == [1]
            await finish(h, again, "Succeeded")
            await h.settle()
            status = h.objects("jobs")[0]["status"]
            assert status["completedIndexes"] == "0-2" and status["succeeded"] == 3
            assert jobstate.finished_condition(h.objects("jobs")[0]) == "Complete"
    asyncio.run(main())


def test_without_completions_one_success_finishes_once_the_rest_stop():
    async def main() -> None:
        async with Harness(JobController) as h:
            await h.client.create(JOBS, job(parallelism=2))
            await h.settle()
            a, b = live(h)
            await finish(h, [a], "Succeeded")
            await h.settle()
            assert len(live(h)) == 1 and jobstate.finished_condition(h.objects("jobs")[0]) is None
            await finish(h, [b], "Succeeded")
            await h.settle()
            assert jobstate.finished_condition(h.objects("jobs")[0]) == "Complete"
    asyncio.run(main())


def test_suspend_deletes_active_pods_and_resume_recreates():
    async def main() -> None:
        async with Harness(JobController) as h:
            await h.client.create(JOBS, job(parallelism=2, completions=2))
            await h.settle()
            await h.client.merge_patch(JOBS + "/pi", {"spec": {"suspend": True}})
            await h.settle()
            assert h.objects("pods") == []
            await h.client.merge_patch(JOBS + "/pi", {"spec": {"suspend": False}})
            await h.settle()
            assert len(live(h)) == 2
    asyncio.run(main())


def test_pure_helpers():
    assert jobstate.format_indexes({0, 1, 2, 4, 6, 7}) == "0-2,4,6-7"
    assert jobstate.parse_indexes("0-2,4,6-7") == {0, 1, 2, 4, 6, 7}
    assert jobstate.format_indexes(set()) == ""
    assert jobstate.wanted_active({"spec": {"parallelism": 3, "completions": 4}}, 2) == 2
    assert jobstate.wanted_active({"spec": {"parallelism": 0, "completions": 4}}, 0) == 0
    assert jobstate.wanted_active({"spec": {}}, 0) == 1
    now = datetime(2026, 1, 1, tzinfo=UTC)
    failed = [{"status": {"phase": "Failed", "containerStatuses": [
        {"state": {"terminated": {"finishedAt": format_rfc3339(now - timedelta(seconds=5))}}}]}}] * 3
    assert jobstate.backoff_remaining(failed, 0, now) == 35.0  # 10 * 2**2 - 5
    assert jobstate.backoff_remaining(failed * 10, 0, now) == 355.0  # capped at 6 minutes
    assert jobstate.failure_reason({"spec": {"backoffLimit": 0}}, 1, None, now)[0] == "BackoffLimitExceeded"
    assert jobstate.failure_reason({"spec": {}}, 6, None, now) is None
