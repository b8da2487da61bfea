"""The Job controller: run pods until `completions` succeed (NonIndexed, or one per index in
Indexed mode), at most `parallelism` at a time; fail the Job past backoffLimit (with the
pod-failure back-off between replacements) or activeDeadlineSeconds; write status and the
Complete/Failed conditions. The arithmetic lives in `jobstate`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from skiff.cluster.apimachinery.meta import format_rfc3339, parse_rfc3339
from skiff.cluster.apimachinery.selectors import LabelSelector
from skiff.cluster.client.errors import StatusError
from skiff.cluster.client.informers import split_key
from skiff.cluster.controllers import jobstate, podutil
from skiff.cluster.controllers.base import PODS, Controller, ControllerContext, object_path
from skiff.cluster.controllers.expectations import Expectations

log = logging.getLogger("skiff.controllers.job")
JOBS = "/apis/batch/v1/jobs"
Obj = dict


class JobController(Controller):
    name = "job-controller"
    workers = 5

    def __init__(self, ctx: ControllerContext, now: Callable[[], datetime] = lambda: datetime.now(UTC)):
        super().__init__(ctx)
        self.now = now
        self.expectations = Expectations()
        self.jobs = self.informer(JOBS)
        self.pods = self.informer(PODS)
        self.jobs.add_handler(self.enqueue, lambda old, new: self.enqueue(new), self._job_deleted)
        self.pods.add_handler(self._pod_added, self._pod_updated, self._pod_deleted)

    def _job_key(self, pod: Obj) -> str | None:
        ref = podutil.controller_ref(pod)
        if ref is None or ref.get("kind") != "Job":
            return None
        return f"{pod['metadata'].get('namespace', '')}/{ref.get('name')}"

    def _pod_added(self, pod: Obj) -> None:
        if (key := self._job_key(pod)) is not None:
            self.expectations.creation_observed(key)
            self.queue.add(key)

    def _pod_updated(self, old: Obj, new: Obj) -> None:
        if (key := self._job_key(new)) is not None:
            if new["metadata"].get("deletionTimestamp") and not old["metadata"].get("deletionTimestamp"):
                self.expectations.deletion_observed(key)
            self.queue.add(key)

    def _pod_deleted(self, pod: Obj) -> None:
        if (key := self._job_key(pod)) is not None:
            if not pod["metadata"].get("deletionTimestamp"):
                self.expectations.deletion_observed(key)
            self.queue.add(key)

    def _job_deleted(self, job: Obj) -> None:
        self.expectations.delete(f"{job['metadata'].get('namespace', '')}/{job['metadata']['name']}")

    def _owned_pods(self, job: Obj) -> list[Obj]:
        ns, uid = job["metadata"]["namespace"], job["metadata"]["uid"]
        raw = (job.get("spec") or {}).get("selector")  # the API server sets it; a bare Job uses the uid alone
        selector = LabelSelector.from_object(raw) if raw else LabelSelector.everything()
        return [p for p in self.pods.list(ns)
                if (ref := podutil.controller_ref(p)) is not None and ref.get("uid") == uid
                and selector.matches(p["metadata"].get("labels"))]

    # --- reconcile ------------------------------------------------------------------------------
    async def reconcile(self, key: str) -> None:
        job = self.jobs.get(key)
        if job is None or job["metadata"].get("deletionTimestamp"):
            return
        pods = self._owned_pods(job)
        counts = jobstate.classify(pods)
        spec, status = job.get("spec") or {}, dict(job.get("status") or {})
        now = self.now()
        if jobstate.finished_condition(job):
            await self._delete_pods(key, counts.active)  # a finished Job keeps no running pods
            return
        suspended = bool(spec.get("suspend"))
        if not status.get("startTime") and not suspended:
            status["startTime"] = format_rfc3339(now)
        start = parse_rfc3339(status["startTime"]) if status.get("startTime") else None
        completions = spec.get("completions")
        done = (jobstate.succeeded_indexes(counts.succeeded, int(completions)) | jobstate.parse_indexes(
            status.get("completedIndexes"))) if jobstate.is_indexed(job) and completions is not None else set()
        restart_failures = counts.restarts if (spec.get("template") or {}).get("spec", {}).get(
            "restartPolicy") == "OnFailure" else 0
        # counters never go down: pods that pod GC removed still count
        failures = max(len(counts.failed) + restart_failures, int(status.get("failed") or 0))
        succeeded = len(done) if jobstate.is_indexed(job) else max(len(counts.succeeded),
                                                                     int(status.get("succeeded") or 0))
        stamp = format_rfc3339(now)
        conditions = [c for c in status.get("conditions") or [] if c.get("type") not in ("Complete", "Failed")]
        failure = jobstate.failure_reason(job, failures, start, now)
        if failure is not None:
            await self._delete_pods(key, counts.active)
            conditions += [jobstate.condition("FailureTarget", *failure, stamp),
                           jobstate.condition("Failed", *failure, stamp)]
            counts.active = []
        elif jobstate.is_complete(job, succeeded, len(counts.active), done):
            await self._delete_pods(key, counts.active)
            counts.active = []
            conditions += [jobstate.condition(kind, "CompletionsReached", "Reached expected number of succeeded pods",
                                              stamp) for kind in ("SuccessCriteriaMet", "Complete")]
            status["completionTime"] = stamp
        elif suspended:
            await self._delete_pods(key, counts.active)
            counts.active = []
        elif self.expectations.satisfied(key):
            await self._manage(key, job, counts, done, now)
        conditions = _dedupe_conditions(conditions)
        status.update({"active": len(counts.active), "succeeded": succeeded, "failed": failures,
                       "ready": counts.ready})
        if conditions:
            status["conditions"] = conditions
        if jobstate.is_indexed(job):
            status["completedIndexes"] = jobstate.format_indexes(done)
        status["terminating"] = sum(1 for p in pods if p["metadata"].get("deletionTimestamp")
                                    and jobstate.phase(p) not in ("Succeeded", "Failed"))
        await self._write_status(job, status)
        if failure is None and (wait := jobstate.seconds_until_deadline(job, start, now)) is not None:
            self.queue.add_after(key, wait + 0.05)

    async def _manage(self, key: str, job: Obj, counts: jobstate.PodCounts, done: set[int], now: datetime) -> None:
        want = jobstate.wanted_active(job, len(done) if jobstate.is_indexed(job) else
                                      max(len(counts.succeeded), int((job.get("status") or {}).get("succeeded") or 0)),
                                      len(counts.active))
        active = counts.active
        if len(active) > want:
            extra = podutil.pods_to_delete(active, len(active) - want, now)
            await self._delete_pods(key, extra)
            return
        missing = want - len(active)
        if missing <= 0:
            return
        wait = jobstate.backoff_remaining(counts.failed, 0, now)
        if wait > 0:
            self.queue.add_after(key, wait + 0.05)
            return
        if jobstate.is_indexed(job):
            completions = int((job.get("spec") or {}).get("completions") or 0)
            indexes: list[int | None] = list(jobstate.pending_indexes(completions, done, active, missing))
        else:
            indexes = [None] * missing
        await self._create_pods(key, job, indexes)

    async def _create_pods(self, key: str, job: Obj, indexes: list[int | None]) -> None:
        if not indexes:
            return
        ns, name = job["metadata"]["namespace"], job["metadata"]["name"]
        template = (job.get("spec") or {}).get("template") or {}
        self.expectations.expect(key, adds=len(indexes))
        bodies = [jobstate.pod_for_index(podutil.pod_from_template(template, job, ns), name, i) for i in indexes]
        created = 0
        pos = 0
        for size in podutil.slow_start_batches(len(bodies)):
            batch, pos = bodies[pos:pos + size], pos + size
            results = await asyncio.gather(*(self.client.create(object_path(PODS, ns, None), b) for b in batch),
                                           return_exceptions=True)
            failures = [r for r in results if isinstance(r, BaseException)]
            created += len(batch) - len(failures)
            if failures:
                self.expectations.lower(key, adds=len(bodies) - created)
                raise failures[0]

    async def _delete_pods(self, key: str, pods: list[Obj]) -> None:
        if not pods:
            return
        self.expectations.expect(key, deletes=len(pods))
        results = await asyncio.gather(
            *(self.client.delete(object_path(PODS, p["metadata"]["namespace"], p["metadata"]["name"]))
              for p in pods), return_exceptions=True)
        for r in results:
            if isinstance(r, BaseException):
                self.expectations.lower(key, deletes=1)
                if not (isinstance(r, StatusError) and r.code == 404):
                    raise r

    async def _write_status(self, job: Obj, status: Obj) -> None:
        old = job.get("status") or {}
        if status == old:
            return
        ns, name = split_key(f"{job['metadata']['namespace']}/{job['metadata']['name']}")
        patch = {"status": {k: status.get(k) for k in set(old) | set(status)}}
        try:
            await self.client.merge_patch(object_path(JOBS, ns, name, "status"), patch)
        except StatusError as e:
            if e.code != 404:
                raise


def _dedupe_conditions(conditions: list[Obj]) -> list[Obj]:
    """One condition per type, the first (oldest) kept so transition times do not move."""
    seen: set[str] = set()
    out = []
    for c in conditions:
        if c.get("type") not in seen:
            seen.add(c.get("type", ""))
            out.append(c)
    return out
