"""Pure Deployment logic: template hashes, revisions, surge/unavailable arithmetic, the rolling
update's scale steps, status and conditions (kube's deployment/util and rolling.go, as data)."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from skiff.cluster.apimachinery.meta import format_rfc3339, parse_rfc3339

Obj = dict[str, Any]
HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
CHANGE_CAUSE = "kubernetes.io/change-cause"
# annotations of the Deployment never copied onto its ReplicaSets
_NOT_COPIED = {"kubectl.kubernetes.io/last-applied-configuration", REVISION, REVISION_HISTORY, DESIRED_REPLICAS,
               MAX_REPLICAS}
_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def fnv32a(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def template_hash(template: Obj, collision_count: int | None = None) -> str:
    """The pod-template-hash: FNV-32a of the template (and collision count), in the safe alphabet."""
    data = json.dumps(_drop_nulls(template), sort_keys=True, separators=(",", ":")).encode()
    if collision_count:
        data += str(collision_count).encode()
    return "".join(_SAFE_ALPHABET[int(c) % len(_SAFE_ALPHABET)] for c in str(fnv32a(data)))


def _drop_nulls(value: Any) -> Any:
    """null and absent are the same field to the API (kubectl sends `creationTimestamp: null`)."""
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def without_hash(template: Obj) -> Obj:
    t = _drop_nulls(template or {})
    labels = (t.get("metadata") or {}).get("labels")
    if labels:
        labels.pop(HASH_LABEL, None)
    return t


def same_template(rs_template: Obj, deploy_template: Obj) -> bool:
    return without_hash(rs_template) == without_hash(deploy_template)


def revision(obj: Obj) -> int:
    try:
        return int(((obj.get("metadata") or {}).get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def replicas(obj: Obj) -> int:
    return int((obj.get("spec") or {}).get("replicas", 1) or 0)


def status_of(obj: Obj, field: str) -> int:
    return int((obj.get("status") or {}).get(field) or 0)


def resolve_int_or_percent(value: Any, total: int, round_up: bool) -> int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    text = str(value)
    if text.endswith("%"):
        scaled = int(text[:-1]) * total / 100
        return math.ceil(scaled) if round_up else math.floor(scaled)
    return int(text)


def surge_and_unavailable(deployment: Obj) -> tuple[int, int]:
    """maxSurge (rounded up) and maxUnavailable (rounded down); never both zero."""
    spec = deployment.get("spec") or {}
    strategy = spec.get("strategy") or {}
    if strategy.get("type") == "Recreate":
        return 0, 0
    ru = strategy.get("rollingUpdate") or {}
    desired = replicas(deployment)
    surge = resolve_int_or_percent(ru.get("maxSurge", "25%"), desired, True)
    unavailable = resolve_int_or_percent(ru.get("maxUnavailable", "25%"), desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, min(unavailable, desired) if desired else unavailable


def new_rs_replicas(deployment: Obj, all_rss: list[Obj], new_rs: Obj | None) -> int:
    """How big the new ReplicaSet may be now (rolling: bounded by maxSurge over all ReplicaSets)."""
    desired = replicas(deployment)
    if ((deployment.get("spec") or {}).get("strategy") or {}).get("type") == "Recreate":
        return desired
    current_new = replicas(new_rs) if new_rs else 0
    if current_new >= desired:
        return desired
    surge, _ = surge_and_unavailable(deployment)
    total = sum(replicas(rs) for rs in all_rss)
    if total >= desired + surge:
        return current_new
    return current_new + min(desired + surge - total, desired - current_new)


def by_creation(rss: list[Obj]) -> list[Obj]:
    return sorted(rss, key=lambda rs: ((rs.get("metadata") or {}).get("creationTimestamp") or "",
                                       rs["metadata"]["name"]))


def old_scale_downs(deployment: Obj, all_rss: list[Obj], old_rss: list[Obj], new_rs: Obj | None) -> dict[str, int]:
    """The rolling update's scale-downs of old ReplicaSets: name -> new replicas.

    First unhealthy old pods go (they do not lower availability), then healthy ones, only as
    far as availability stays at replicas - maxUnavailable."""
    desired = replicas(deployment)
    _, max_unavailable = surge_and_unavailable(deployment)
    min_available = desired - max_unavailable
    if sum(replicas(rs) for rs in old_rss) == 0:
        return {}
    all_pods = sum(replicas(rs) for rs in all_rss)
    new_unavailable = (replicas(new_rs) - status_of(new_rs, "availableReplicas")) if new_rs else 0
    budget = all_pods - min_available - new_unavailable
    if budget <= 0:
        return {}
    target = {rs["metadata"]["name"]: replicas(rs) for rs in old_rss}
    cleaned = 0
    for rs in by_creation(old_rss):  # unhealthy first
        name = rs["metadata"]["name"]
        if cleaned >= budget or target[name] == 0:
            continue
        unhealthy = target[name] - status_of(rs, "availableReplicas")
        if unhealthy <= 0:
            continue
        step = min(unhealthy, budget - cleaned)
        target[name] -= step
        cleaned += step
    # then healthy pods, as far as what stays available allows (unhealthy ones were not available)
    left = sum(status_of(rs, "availableReplicas") for rs in all_rss) - min_available
    for rs in by_creation(old_rss):
        name = rs["metadata"]["name"]
        if left <= 0:
            break
        step = min(target[name], left)
        target[name] -= step
        left -= step
    return {name: n for name, n in target.items() if n != replicas(next(r for r in old_rss
                                                                          if r["metadata"]["name"] == name))}


def proportional_scale(deployment: Obj, active: list[Obj], new_rs: Obj | None) -> dict[str, int]:
    """A replicas change mid-rollout: spread the difference over the active ReplicaSets by size."""
    desired = replicas(deployment)
    surge, _ = surge_and_unavailable(deployment)
    allowed = desired + surge
    current = sum(replicas(rs) for rs in active)
    diff = allowed - current
    if not active or diff == 0:
        return {}
    ordered = sorted(active, key=lambda rs: (-replicas(rs), rs["metadata"].get("creationTimestamp") or ""),
                     reverse=diff < 0)
    target = {rs["metadata"]["name"]: replicas(rs) for rs in active}
    added = 0
    for rs in ordered:
        name = rs["metadata"]["name"]
        share = (replicas(rs) * diff // current) if current else 0
        if diff < 0:
            share = -min(-share, target[name])
        target[name] += share
        added += share
    # the remainder goes to the newest (largest) first
    leftover = diff - added
    head = new_rs["metadata"]["name"] if new_rs is not None else ordered[0]["metadata"]["name"]
    target[head] = max(target[head] + leftover, 0)
    return {n: v for n, v in target.items() if v != replicas(next(r for r in active if r["metadata"]["name"] == n))}


def copied_annotations(deployment: Obj) -> dict[str, str]:
    return {k: v for k, v in ((deployment.get("metadata") or {}).get("annotations") or {}).items()
            if k not in _NOT_COPIED}


def is_complete(deployment: Obj, status: Obj) -> bool:
    desired = replicas(deployment)
    return (status.get("updatedReplicas", 0) == desired and status.get("replicas", 0) == desired
            and status.get("availableReplicas", 0) == desired
            and status.get("observedGeneration", 0) >= (deployment.get("metadata") or {}).get("generation", 0))


def condition(status: Obj, kind: str) -> Obj | None:
    return next((c for c in status.get("conditions") or [] if c.get("type") == kind), None)


def set_condition(conditions: list[Obj], kind: str, state: str, reason: str, message: str, now: datetime) -> list[Obj]:
    """Replace a condition; lastTransitionTime moves only when status changes, lastUpdateTime always
    (except when nothing at all changed, which keeps the old one)."""
    stamp = format_rfc3339(now)
    old = next((c for c in conditions if c.get("type") == kind), None)
    if old is not None and old.get("status") == state and old.get("reason") == reason \
            and old.get("message") == message:
        return conditions
    new = {"type": kind, "status": state, "lastUpdateTime": stamp,
           "lastTransitionTime": old["lastTransitionTime"] if old is not None and old.get("status") == state
           and old.get("lastTransitionTime") else stamp, "reason": reason, "message": message}
    return [c for c in conditions if c.get("type") != kind] + [new] if old is None else \
        [new if c.get("type") == kind else c for c in conditions]


def deadline_exceeded(deployment: Obj, status: Obj, now: datetime) -> bool:
    deadline = (deployment.get("spec") or {}).get("progressDeadlineSeconds")
    cond = condition(status, "Progressing")
    if deadline is None or cond is None:
        return False
    if cond.get("reason") == "NewReplicaSetAvailable":
        return False
    if cond.get("reason") == "ProgressDeadlineExceeded":
        return True
    last = cond.get("lastUpdateTime")
    if not last:
        return False
    return (now - parse_rfc3339(last)).total_seconds() > int(deadline)
