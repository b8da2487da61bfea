"""Pure Job arithmetic (kube's job controller, without the I/O): what the pods say about a Job,
how many pods it wants, which completion indexes are left, when it has failed or finished, and
how long the pod-failure back-off still holds new pods back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from skiff.cluster.apimachinery.meta import parse_rfc3339

Obj = dict[str, Any]
INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index"
INDEX_ENV = "JOB_COMPLETION_INDEX"
BACKOFF_BASE = 10.0  # kube's DefaultJobPodFailureBackOff
BACKOFF_MAX = 360.0  # kube's MaxJobPodFailureBackOff


@dataclass
class PodCounts:
    active: list[Obj] = field(default_factory=list)
    succeeded: list[Obj] = field(default_factory=list)
    failed: list[Obj] = field(default_factory=list)
    restarts: int = 0  # container restarts of active pods (restartPolicy OnFailure counts them as failures)
    ready: int = 0


def phase(pod: Obj) -> str:
    return (pod.get("status") or {}).get("phase") or "Pending"


def classify(pods: list[Obj]) -> PodCounts:
    out = PodCounts()
    for p in pods:
        ph = phase(p)
        if ph == "Succeeded":
            out.succeeded.append(p)
        elif ph == "Failed":
            out.failed.append(p)
        elif not (p.get("metadata") or {}).get("deletionTimestamp"):
            out.active.append(p)
            statuses = (p.get("status") or {}).get("containerStatuses") or []
            out.restarts += sum(int(s.get("restartCount") or 0) for s in statuses)
            if any(c.get("type") == "Ready" and c.get("status") == "True"
                   for c in (p.get("status") or {}).get("conditions") or []):
                out.ready += 1
    return out


def is_indexed(job: Obj) -> bool:
    return (job.get("spec") or {}).get("completionMode") == "Indexed"


def completion_index(pod: Obj) -> int | None:
    value = ((pod.get("metadata") or {}).get("annotations") or {}).get(INDEX_ANNOTATION)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def succeeded_indexes(pods: list[Obj], completions: int) -> set[int]:
    return {i for p in pods if (i := completion_index(p)) is not None and 0 <= i < completions}


def format_indexes(indexes: set[int]) -> str:
    """status.completedIndexes: sorted, runs as `a-b`, comma separated ("1,3-5")."""
    out: list[str] = []
    run: list[int] = []
    for i in sorted(indexes):
        if run and i == run[-1] + 1:
            run.append(i)
            continue
        if run:
            out.append(_run_text(run))
        run = [i]
    if run:
        out.append(_run_text(run))
    return ",".join(out)


def _run_text(run: list[int]) -> str:
    return str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}"


def parse_indexes(text: str | None) -> set[int]:
    out: set[int] = set()
    for part in (text or "").split(","):
        if not part:
            continue
        lo, _, hi = part.partition("-")
        out.update(range(int(lo), int(hi or lo) + 1))
    return out


def wanted_active(job: Obj, succeeded: int, active: int = 0) -> int:
    """kube's manageJob: parallelism, capped by what is left to complete; without completions,
    once one has succeeded the running ones finish and no new ones start."""
    spec = job.get("spec") or {}
    parallelism = int(spec.get("parallelism", 1) if spec.get("parallelism") is not None else 1)
    completions = spec.get("completions")
    if completions is None:
        return active if succeeded > 0 else parallelism
    return max(0, min(parallelism, int(completions) - succeeded))


def pending_indexes(completions: int, done: set[int], active: list[Obj], count: int) -> list[int]:
    """The lowest `count` indexes neither succeeded nor running."""
    running = {i for p in active if (i := completion_index(p)) is not None}
    return [i for i in range(completions) if i not in done and i not in running][:max(count, 0)]


def is_complete(job: Obj, succeeded: int, active: int, done_indexes: set[int]) -> bool:
    spec = job.get("spec") or {}
    completions = spec.get("completions")
    if is_indexed(job):
        return completions is not None and len(done_indexes) >= int(completions)
    if completions is None:
        return succeeded > 0 and active == 0
    return succeeded >= int(completions)


def finished_condition(job: Obj) -> str | None:
    """"Complete" or "Failed" once the Job has that condition True."""
    for c in (job.get("status") or {}).get("conditions") or []:
        if c.get("type") in ("Complete", "Failed") and c.get("status") == "True":
            return str(c["type"])
    return None


def failure_reason(job: Obj, failures: int, start: datetime | None, now: datetime) -> tuple[str, str] | None:
    """(reason, message) when the Job must fail: past backoffLimit or activeDeadlineSeconds."""
    spec = job.get("spec") or {}
    limit = int(spec.get("backoffLimit", 6) if spec.get("backoffLimit") is not None else 6)
    if failures > limit:
        return "BackoffLimitExceeded", "Job has reached the specified backoff limit"
    deadline = spec.get("activeDeadlineSeconds")
    if deadline is not None and start is not None and (now - start).total_seconds() >= int(deadline):
        return "DeadlineExceeded", "Job was active longer than specified deadline"
    return None


def seconds_until_deadline(job: Obj, start: datetime | None, now: datetime) -> float | None:
    deadline = (job.get("spec") or {}).get("activeDeadlineSeconds")
    if deadline is None or start is None:
        return None
    return max(0.0, int(deadline) - (now - start).total_seconds())


def finish_time(pod: Obj) -> datetime | None:
    """When a failed pod stopped: the latest container finishedAt, else its last condition change."""
    status = pod.get("status") or {}
    stamps = [t for s in status.get("containerStatuses") or []
              if (t := ((s.get("state") or {}).get("terminated") or {}).get("finishedAt"))]
    stamps += [c["lastTransitionTime"] for c in status.get("conditions") or [] if c.get("lastTransitionTime")]
    if not stamps:
        return None
    return max(parse_rfc3339(t) for t in stamps)


def backoff_remaining(failed: list[Obj], restarts: int, now: datetime) -> float:
    """Seconds before a replacement pod may be created: 10 s doubling per failure, up to 6 min,
    counted from the latest failure (kube's pod-failure back-off)."""
    failures = len(failed) + restarts
    if failures == 0:
        return 0.0
    delay = min(BACKOFF_BASE * 2 ** (failures - 1), BACKOFF_MAX)
    times = [t for p in failed if (t := finish_time(p)) is not None]
    if not times:
        return 0.0
    return max(0.0, delay - (now - max(times)).total_seconds())


def condition(kind: str, reason: str, message: str, stamp: str) -> Obj:
    return {"type": kind, "status": "True", "reason": reason, "message": message,
            "lastProbeTime": stamp, "lastTransitionTime": stamp}


def pod_for_index(pod: Obj, job_name: str, index: int | None) -> Obj:
    """Indexed mode: the completion index as annotation, label, env and hostname (`job-N`)."""
    if index is None:
        return pod
    meta = pod["metadata"]
    meta["generateName"] = f"{job_name}-{index}-"
    meta.setdefault("annotations", {})[INDEX_ANNOTATION] = str(index)
    meta.setdefault("labels", {})[INDEX_ANNOTATION] = str(index)
    spec = pod["spec"]
    spec.setdefault("hostname", f"{job_name}-{index}")
    for kind in ("initContainers", "containers"):
        containers = []
        for c in spec.get(kind) or []:
            c = dict(c)
            c["env"] = [e for e in c.get("env") or [] if e.get("name") != INDEX_ENV] + [
                {"name": INDEX_ENV, "valueFrom": {"fieldRef": {"apiVersion": "v1",
                                                               "fieldPath": f"metadata.annotations['{INDEX_ANNOTATION}']"}}}]
            containers.append(c)
        if containers:
            spec[kind] = containers
    return pod
