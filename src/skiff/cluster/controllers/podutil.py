"""Pure facts about pods and owners that the workload controllers share."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from skiff.cluster.apimachinery.meta import parse_rfc3339

Obj = dict[str, Any]
_PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}


def is_active(pod: Obj) -> bool:
    """Counts towards replicas: not finished and not being deleted."""
    phase = (pod.get("status") or {}).get("phase")
    return phase not in ("Succeeded", "Failed") and not (pod.get("metadata") or {}).get("deletionTimestamp")


def ready_condition(pod: Obj) -> Obj | None:
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return c
    return None


def is_ready(pod: Obj) -> bool:
    c = ready_condition(pod)
    return c is not None and c.get("status") == "True"


def ready_since(pod: Obj) -> datetime | None:
    c = ready_condition(pod)
    if c is None or c.get("status") != "True" or not c.get("lastTransitionTime"):
        return None
    return parse_rfc3339(c["lastTransitionTime"])


def is_available(pod: Obj, min_ready_seconds: int, now: datetime) -> bool:
    """Ready for at least minReadySeconds (a pod ready without a transition time counts as available)."""
    if not is_ready(pod):
        return False
    if min_ready_seconds <= 0:
        return True
    since = ready_since(pod)
    return since is None or (now - since).total_seconds() >= min_ready_seconds


def seconds_until_available(pod: Obj, min_ready_seconds: int, now: datetime) -> float | None:
    since = ready_since(pod)
    if since is None or min_ready_seconds <= 0:
        return None
    left = min_ready_seconds - (now - since).total_seconds()
    return left if left > 0 else None


def controller_ref(obj: Obj) -> Obj | None:
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def owner_ref(owner: Obj, block: bool = True) -> Obj:
    meta = owner["metadata"]
    return {"apiVersion": owner.get("apiVersion", ""), "kind": owner.get("kind", ""), "name": meta["name"],
            "uid": meta["uid"], "controller": True, "blockOwnerDeletion": block}


def _restarts(pod: Obj) -> int:
    return max((int(s.get("restartCount") or 0) for s in (pod.get("status") or {}).get("containerStatuses") or []),
               default=0)


def deletion_rank(pod: Obj, now: datetime) -> tuple:
    """Sort key: the pods worth least come first (kube's ActivePods ordering):
    unscheduled, then Pending < Unknown < Running, not ready, ready for less time, more restarts, newer."""
    spec, status, meta = pod.get("spec") or {}, pod.get("status") or {}, pod.get("metadata") or {}
    since = ready_since(pod)
    ready_for = (now - since).total_seconds() if since is not None else 0.0
    created = meta.get("creationTimestamp") or ""
    return (1 if spec.get("nodeName") else 0,
            _PHASE_RANK.get(status.get("phase") or "Pending", 0),
            1 if is_ready(pod) else 0,
            ready_for,
            -_restarts(pod),
            _negated(created))


def _negated(stamp: str) -> tuple[int, ...]:
    """Newer timestamps sort first: negate each character code (RFC 3339 strings order as times)."""
    return tuple(-ord(c) for c in stamp)


def pods_to_delete(pods: list[Obj], count: int, now: datetime) -> list[Obj]:
    return sorted(pods, key=lambda p: deletion_rank(p, now))[:max(count, 0)]


def pod_from_template(template: Obj, owner: Obj, namespace: str) -> Obj:
    """The pod a replica controller creates: the template's labels/annotations/spec, `<owner>-` names."""
    tmeta = template.get("metadata") or {}
    meta: Obj = {"generateName": owner["metadata"]["name"] + "-", "namespace": namespace,
                 "labels": dict(tmeta.get("labels") or {}), "ownerReferences": [owner_ref(owner)]}
    if tmeta.get("annotations"):
        meta["annotations"] = dict(tmeta["annotations"])
    if tmeta.get("finalizers"):
        meta["finalizers"] = list(tmeta["finalizers"])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": dict(template.get("spec") or {})}


def slow_start_batches(count: int, initial: int = 1) -> list[int]:
    """Batch sizes 1, 2, 4, ... summing to count: a failing create stops the rest (kube's slowStartBatch)."""
    out, size, left = [], initial, count
    while left > 0:
        n = min(size, left)
        out.append(n)
        left -= n
        size *= 2
    return out
