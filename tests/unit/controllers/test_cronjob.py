"""The CronJob controller against the fake client, with an injected clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from skiff.cluster.controllers.cronjob import SCHEDULED_ANNOTATION, CronJobController, job_name
from tests.unit.controllers.harness import Harness

CJ = "/apis/batch/v1/namespaces/default/cronjobs"
JOBS = "/apis/batch/v1/namespaces/default/jobs"


class Clock:
    def __init__(self) -> None:
        # from just after the last whole minute, so the fake's real creation time lies before it
        self.t = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(seconds=1)

    def __call__(self) -> datetime:
        return self.t


def cronjob(name: str = "tick", schedule: str = "* * * * *", **spec) -> dict:
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name},
            "spec": {"schedule": schedule, "jobTemplate": {"metadata": {"labels": {"from": name}}, "spec": {
                "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}},
                **spec}}


async def tick(h: Harness, clock: Clock, minutes: int = 1) -> None:
    clock.t += timedelta(minutes=minutes)
    h.ctrl.queue.add("default/tick")
    await h.settle()


async def finish(h: Harness, name: str, kind: str = "Complete") -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    await h.client.merge_patch(f"{JOBS}/{name}/status", {"status": {
        "startTime": stamp, "completionTime": stamp if kind == "Complete" else None,
        "conditions": [{"type": kind, "status": "True"}]}})


def job_names(h: Harness) -> list[str]:
    return [j["metadata"]["name"] for j in h.objects("jobs")]


def test_fires_once_per_scheduled_minute_with_the_scheduled_name():
    async def main() -> None:
        clock = Clock()
        async with Harness(CronJobController, now=clock) as h:
            await h.client.create(CJ, cronjob())
            await h.settle()
            assert job_names(h) == []  # nothing was due yet
            await tick(h, clock)
            scheduled = clock.t.replace(second=0)
            assert job_names(h) == [job_name({"metadata": {"name": "tick"}}, scheduled)]
            job = h.objects("jobs")[0]
            assert job["metadata"]["ownerReferences"][0]["kind"] == "CronJob"
            assert job["metadata"]["labels"] == {"from": "tick"}
            assert job["metadata"]["annotations"][SCHEDULED_ANNOTATION].endswith("Z")
            status = h.objects("cronjobs")[0]["status"]
            assert status["lastScheduleTime"] == scheduled.strftime("%Y-%m-%dT%H:%M:%SZ")
            assert [r["name"] for r in status["active"]] == job_names(h)
            h.ctrl.queue.add("default/tick")  # the same minute again: no second Job
            await h.settle()
            assert len(h.client.writes("create", "jobs")) == 1
    asyncio.run(main())


def test_forbid_skips_while_one_runs_and_replace_swaps_it():
    async def main() -> None:
        clock = Clock()
        async with Harness(CronJobController, now=clock) as h:
            await h.client.create(CJ, cronjob(concurrencyPolicy="Forbid"))
            await tick(h, clock)
            first = job_names(h)
            await tick(h, clock)
            assert job_names(h) == first
            await h.client.merge_patch(CJ + "/tick", {"spec": {"concurrencyPolicy": "Replace"}})
            await tick(h, clock)
            assert len(job_names(h)) == 1 and job_names(h) != first
    asyncio.run(main())


def test_suspend_and_starting_deadline():
    async def main() -> None:
        clock = Clock()
        async with Harness(CronJobController, now=clock) as h:
            await h.client.create(CJ, cronjob(suspend=True, startingDeadlineSeconds=30))
            await tick(h, clock, 5)
            assert job_names(h) == []
            await h.client.merge_patch(CJ + "/tick", {"spec": {"suspend": False}})
            clock.t += timedelta(seconds=40)  # the last scheduled minute is now 41 s old: missed
            h.ctrl.queue.add("default/tick")
            await h.settle()
            assert job_names(h) == []
            clock.t += timedelta(seconds=20)  # 1 s past the next minute: in time
            h.ctrl.queue.add("default/tick")
            await h.settle()
            assert len(job_names(h)) == 1
    asyncio.run(main())


def test_history_limits_delete_the_oldest_finished_jobs():
    async def main() -> None:
        clock = Clock()
        async with Harness(CronJobController, now=clock) as h:
            await h.client.create(CJ, cronjob(successfulJobsHistoryLimit=2, failedJobsHistoryLimit=1))
            made = []
            for _ in range(4):
                await tick(h, clock)
                made.append(job_names(h)[-1] if job_names(h)[-1] not in made else
                            sorted(set(job_names(h)) - set(made))[0])
                await finish(h, made[-1])
            for _ in range(2):
                await tick(h, clock)
                new = sorted(set(job_names(h)) - set(made))[0]
                made.append(new)
                await finish(h, new, "Failed")
            h.ctrl.queue.add("default/tick")
            await h.settle()
            assert sorted(job_names(h)) == sorted([made[2], made[3], made[5]])
            assert h.objects("cronjobs")[0]["status"].get("lastSuccessfulTime")
    asyncio.run(main())
