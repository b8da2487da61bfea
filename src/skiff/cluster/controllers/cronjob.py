"""The CronJob controller: at each time the schedule names (in spec.timeZone), a Job from
jobTemplate named `<cronjob>-<minutes since the epoch>`, subject to suspend,
startingDeadlineSeconds and concurrencyPolicy (Allow, Forbid, Replace); status.active,
lastScheduleTime and lastSuccessfulTime; finished Jobs beyond successfulJobsHistoryLimit (3) and
failedJobsHistoryLimit (1) deleted oldest first.

Like kube's, the controller fires the latest missed time since lastScheduleTime (or the
CronJob's creation), so the clock is injectable (`now`) and a sync wakes itself for the next
time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from skiff.cluster.apimachinery.meta import format_rfc3339, parse_rfc3339
from skiff.cluster.client.errors import StatusError
from skiff.cluster.controllers import cron, jobstate, podutil
from skiff.cluster.controllers.base import Controller, ControllerContext, object_path
from skiff.cluster.controllers.job import JOBS
from skiff.common.errors import InvalidArgument

log = logging.getLogger("skiff.controllers.cronjob")
CRONJOBS = "/apis/batch/v1/cronjobs"
SCHEDULED_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"
Obj = dict[str, Any]


def job_name(cronjob: Obj, scheduled: datetime) -> str:
    return f"{cronjob['metadata']['name']}-{int(scheduled.timestamp()) // 60}"


def job_from_template(cronjob: Obj, scheduled: datetime) -> Obj:
    template = (cronjob.get("spec") or {}).get("jobTemplate") or {}
    tmeta = template.get("metadata") or {}
    meta: Obj = {"name": job_name(cronjob, scheduled), "labels": dict(tmeta.get("labels") or {}),
                 "annotations": {**(tmeta.get("annotations") or {}),
                                 SCHEDULED_ANNOTATION: scheduled.astimezone(UTC).isoformat().replace("+00:00", "Z")},
                 "ownerReferences": [podutil.owner_ref(cronjob)]}
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": dict(template.get("spec") or {})}


def job_ref(job: Obj) -> Obj:
    meta = job["metadata"]
    return {"apiVersion": "batch/v1", "kind": "Job", "namespace": meta.get("namespace"), "name": meta["name"],
            "uid": meta["uid"], "resourceVersion": meta.get("resourceVersion")}


def history_to_delete(jobs: list[Obj], spec: Obj) -> list[Obj]:
    """Finished Jobs beyond the history limits, oldest first."""
    out = []
    for kind, field, default in (("Complete", "successfulJobsHistoryLimit", 3),
                                 ("Failed", "failedJobsHistoryLimit", 1)):
        limit = spec.get(field, default)
        limit = default if limit is None else int(limit)
        done = sorted((j for j in jobs if jobstate.finished_condition(j) == kind),
                      key=lambda j: ((j.get("status") or {}).get("startTime") or j["metadata"].get(
                          "creationTimestamp") or "", j["metadata"]["name"]))
        out += done[:max(0, len(done) - limit)]
    return out


class CronJobController(Controller):
    name = "cronjob-controller"

    def __init__(self, ctx: ControllerContext, now: Callable[[], datetime] = lambda: datetime.now(UTC)):
        super().__init__(ctx)
        self.now = now
        self.cronjobs = self.informer(CRONJOBS)
        self.jobs = self.informer(JOBS)
        self.cronjobs.add_handler(self.enqueue, lambda old, new: self.enqueue(new))
        self.jobs.add_handler(self._job, lambda old, new: self._job(new), self._job)

    def _job(self, job: Obj) -> None:
        ref = podutil.controller_ref(job)
        if ref is not None and ref.get("kind") == "CronJob":
            self.queue.add(f"{job['metadata'].get('namespace', '')}/{ref.get('name')}")

    async def reconcile(self, key: str) -> None:
        cj = self.cronjobs.get(key)
        if cj is None or cj["metadata"].get("deletionTimestamp"):
            return
        ns, uid = cj["metadata"]["namespace"], cj["metadata"]["uid"]
        spec, old_status = cj.get("spec") or {}, cj.get("status") or {}
        status = dict(old_status)
        jobs = [j for j in self.jobs.list(ns) if (r := podutil.controller_ref(j)) is not None and r.get("uid") == uid]
        active = [j for j in jobs if jobstate.finished_condition(j) is None and not j["metadata"].get(
            "deletionTimestamp")]
        succeeded = [j["status"]["completionTime"] for j in jobs
                     if jobstate.finished_condition(j) == "Complete" and (j.get("status") or {}).get("completionTime")]
        if succeeded:
            latest = max(succeeded)
            if latest > (status.get("lastSuccessfulTime") or ""):
                status["lastSuccessfulTime"] = latest
        for old in history_to_delete(jobs, spec):
            await self._delete_job(ns, old["metadata"]["name"])
        try:
            schedule = cron.parse(spec.get("schedule") or "")
            tz = cron.zone(spec.get("timeZone"))
        except InvalidArgument as e:
            log.warning("cronjob %s: unparseable schedule %r: %s", key, spec.get("schedule"), e)
            await self._write_status(cj, status, active)
            return
        now = self.now()
        if not spec.get("suspend"):
            created = await self._maybe_start(cj, schedule, tz, status, active, now)
            if created is not None:
                active.append(created)
        await self._write_status(cj, status, active)
        nxt = schedule.next_after(now.astimezone(tz))
        if nxt is not None:
            self.queue.add_after(key, max(0.0, (nxt - now).total_seconds()) + 0.1)

    async def _maybe_start(self, cj: Obj, schedule: cron.Schedule, tz: Any, status: Obj, active: list[Obj],
                           now: datetime) -> Obj | None:
        spec = cj.get("spec") or {}
        last = status.get("lastScheduleTime") or cj["metadata"].get("creationTimestamp")
        earliest = parse_rfc3339(last) if last else now
        deadline = spec.get("startingDeadlineSeconds")
        if deadline is not None:
            earliest = max(earliest, now - timedelta(seconds=int(deadline)))
        scheduled, missed = cron.times_between(schedule, earliest, now, tz)
        if scheduled is None:
            return None
        if missed > 100:
            log.warning("cronjob %s/%s: too many missed start times (> 100); starting the latest",
                        cj["metadata"]["namespace"], cj["metadata"]["name"])
        policy = spec.get("concurrencyPolicy") or "Allow"
        if active and policy == "Forbid":
            return None  # kube: this run is skipped, not queued
        if active and policy == "Replace":
            for j in active:
                await self._delete_job(cj["metadata"]["namespace"], j["metadata"]["name"])
            active.clear()
        ns = cj["metadata"]["namespace"]
        try:
            job = await self.client.create(object_path(JOBS, ns, None), job_from_template(cj, scheduled))
        except StatusError as e:
            if e.code != 409:
                raise
            job = await self.client.get(object_path(JOBS, ns, job_name(cj, scheduled)))  # made by an earlier pass
        status["lastScheduleTime"] = format_rfc3339(scheduled.astimezone(UTC))
        return job

    async def _delete_job(self, ns: str, name: str) -> None:
        try:
            await self.client.delete(object_path(JOBS, ns, name), {"propagationPolicy": "Background"})
        except StatusError as e:
            if e.code != 404:
                raise

    async def _write_status(self, cj: Obj, status: Obj, active: list[Obj]) -> None:
        refs = sorted((job_ref(j) for j in active), key=lambda r: r["name"])
        if refs:
            status["active"] = refs
        else:
            status.pop("active", None)
        old = cj.get("status") or {}
        old_names = [r.get("name") for r in old.get("active") or []]
        if ({k: v for k, v in old.items() if k != "active"} == {k: v for k, v in status.items() if k != "active"}
                and old_names == [r["name"] for r in refs]):
            return
        patch = {"status": {k: status.get(k) for k in set(old) | set(status)}}
        meta = cj["metadata"]
        try:
            await self.client.merge_patch(object_path(CRONJOBS, meta["namespace"], meta["name"], "status"), patch)
        except StatusError as e:
            if e.code != 404:
                raise
