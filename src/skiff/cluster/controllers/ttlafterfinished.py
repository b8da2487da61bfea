"""The TTL-after-finished controller: a finished Job (Complete or Failed) with
spec.ttlSecondsAfterFinished is deleted, with its pods (background propagation), that many
seconds after it finished."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from skiff.cluster.apimachinery.meta import parse_rfc3339
from skiff.cluster.client.errors import StatusError
from skiff.cluster.controllers import jobstate
from skiff.cluster.controllers.base import Controller, ControllerContext, object_path
from skiff.cluster.controllers.job import JOBS

Obj = dict[str, Any]


def finished_at(job: Obj) -> datetime | None:
    """When the Job's Complete/Failed condition became True (completionTime for Complete)."""
    kind = jobstate.finished_condition(job)
    if kind is None:
        return None
    for c in (job.get("status") or {}).get("conditions") or []:
        if c.get("type") == kind and c.get("lastTransitionTime"):
            return parse_rfc3339(c["lastTransitionTime"])
    stamp = (job.get("status") or {}).get("completionTime")
    return parse_rfc3339(stamp) if stamp else None


def seconds_left(job: Obj, now: datetime) -> float | None:
    """None: not ours to delete (no TTL, not finished, being deleted); else seconds to wait."""
    ttl = (job.get("spec") or {}).get("ttlSecondsAfterFinished")
    if ttl is None or (job.get("metadata") or {}).get("deletionTimestamp"):
        return None
    done = finished_at(job)
    if done is None:
        return None
    return max(0.0, int(ttl) - (now - done).total_seconds())


class TTLAfterFinishedController(Controller):
    name = "ttl-after-finished-controller"

    def __init__(self, ctx: ControllerContext, now: Callable[[], datetime] = lambda: datetime.now(UTC)):
        super().__init__(ctx)
        self.now = now
        self.jobs = self.informer(JOBS)
        self.jobs.add_handler(self.enqueue, lambda old, new: self.enqueue(new))

    async def reconcile(self, key: str) -> None:
        job = self.jobs.get(key)
        if job is None:
            return
        left = seconds_left(job, self.now())
        if left is None:
            return
        if left > 0:
            self.queue.add_after(key, left + 0.05)
            return
        meta = job["metadata"]
        # kube re-reads the Job before deleting: the TTL may have changed meanwhile
        try:
            fresh = await self.client.get(object_path(JOBS, meta["namespace"], meta["name"]))
        except StatusError as e:
            if e.code == 404:
                return
            raise
        left = seconds_left(fresh, self.now())
        if left is None or left > 0:
            self.enqueue(fresh)
            return
        try:
            await self.client.delete(object_path(JOBS, meta["namespace"], meta["name"]), {
                "propagationPolicy": "Background", "preconditions": {"uid": meta["uid"]}})
        except StatusError as e:
            if e.code not in (404, 409):
                raise
