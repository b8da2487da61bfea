"""The node lifecycle controller's decisions, as pure functions of objects and a clock.

A node is healthy while its kubelet renews its Lease in kube-node-lease (or posts its Ready
condition) within the grace period; past it the node's conditions become Unknown. The node's
observed Ready status then decides its taints (unreachable for Unknown, not-ready for False),
and each pod on a NoExecute-tainted node is due for eviction once its toleration expires.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from skiff.cluster.apimachinery.meta import now_rfc3339, parse_rfc3339
from skiff.cluster.scheduler.plugins.tainttoleration import tolerates

Obj = dict[str, Any]

UNREACHABLE = "node.kubernetes.io/unreachable"
NOT_READY = "node.kubernetes.io/not-ready"
MANAGED_KEYS = (UNREACHABLE, NOT_READY)
# the conditions a kubelet owns, which the controller sets Unknown when the kubelet goes silent
KUBELET_CONDITIONS = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")
STOPPED = ("NodeStatusUnknown", "Kubelet stopped posting node status.")
NEVER = ("NodeStatusNeverUpdated", "Kubelet never posted node status.")
ZONE_LABELS = ("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone")


def _time(text: str | None) -> datetime | None:
    try:
        return parse_rfc3339(text) if text else None
    except ValueError:
        return None


def condition(node: Obj, kind: str) -> Obj | None:
    return next((c for c in (node.get("status") or {}).get("conditions") or [] if c.get("type") == kind), None)


def last_heartbeat(node: Obj, lease: Obj | None) -> datetime | None:
    """The latest sign of life: the Lease's renewTime, the Ready condition's heartbeat, or (for a
    node never heard from) its creation, so a new node gets a full grace period."""
    times = [_time((lease or {}).get("spec", {}).get("renewTime")),
             _time((condition(node, "Ready") or {}).get("lastHeartbeatTime")),
             _time(node.get("metadata", {}).get("creationTimestamp"))]
    known = [t for t in times if t is not None]
    return max(known) if known else None


def is_stale(node: Obj, lease: Obj | None, now: datetime, grace: float) -> bool:
    seen = last_heartbeat(node, lease)
    return seen is None or (now - seen).total_seconds() > grace


def unknown_conditions(node: Obj, now: datetime) -> list[Obj] | None:
    """The node's conditions with the kubelet's ones set Unknown; None when they already are."""
    stamp = now_rfc3339(now)
    out = [dict(c) for c in (node.get("status") or {}).get("conditions") or []]
    changed = False
    for kind in KUBELET_CONDITIONS:
        cond = next((c for c in out if c.get("type") == kind), None)
        if cond is None:
            out.append({"type": kind, "status": "Unknown", "reason": NEVER[0], "message": NEVER[1],
                        "lastHeartbeatTime": stamp, "lastTransitionTime": stamp})
            changed = True
        elif cond.get("status") != "Unknown":
            cond.update(status="Unknown", reason=STOPPED[0], message=STOPPED[1], lastTransitionTime=stamp)
            changed = True
    return out if changed else None


def observed_ready(node: Obj) -> str:
    """True, False or Unknown, as the node's Ready condition says (Unknown when missing)."""
    return (condition(node, "Ready") or {}).get("status") or "Unknown"


def wanted_taints(ready: str) -> list[tuple[str, str]]:
    """(key, effect) pairs the controller keeps on a node in this Ready state."""
    key = {"Unknown": UNREACHABLE, "False": NOT_READY}.get(ready)
    return [(key, "NoSchedule"), (key, "NoExecute")] if key else []


def reconcile_taints(taints: list[Obj], wanted: list[tuple[str, str]], now: datetime,
                     allow_no_execute: bool = True) -> list[Obj] | None:
    """The node's taints with the managed ones made `wanted`, others untouched; None if unchanged.
    A new NoExecute taint is added only when `allow_no_execute` (the per-zone rate limiter)."""
    keep = [t for t in taints if t.get("key") not in MANAGED_KEYS or (t.get("key"), t.get("effect")) in wanted]
    have = {(t.get("key"), t.get("effect")) for t in keep}
    for key, effect in wanted:
        if (key, effect) in have:
            continue
        if effect == "NoExecute":
            if not allow_no_execute:
                continue
            keep.append({"key": key, "effect": effect, "timeAdded": now_rfc3339(now)})
        else:
            keep.append({"key": key, "effect": effect})
    return None if keep == taints else keep


def needs_no_execute(taints: list[Obj], wanted: list[tuple[str, str]]) -> bool:
    have = {(t.get("key"), t.get("effect")) for t in taints}
    return any(effect == "NoExecute" and (key, effect) not in have for key, effect in wanted)


def eviction_time(pod: Obj, taints: list[Obj], now: datetime) -> datetime | None:
    """When the taint manager deletes this pod: at once if some NoExecute taint is not tolerated,
    else when the shortest tolerationSeconds runs out (counted from the taint's timeAdded);
    None if it tolerates every NoExecute taint for ever (or there is none)."""
    tolerations = (pod.get("spec") or {}).get("tolerations") or []
    due: datetime | None = None
    for taint in taints:
        if taint.get("effect") != "NoExecute":
            continue
        matching = [t for t in tolerations if tolerates(t, taint)]
        if not matching:
            return now
        limits = [t["tolerationSeconds"] for t in matching if t.get("tolerationSeconds") is not None]
        if not limits:
            continue
        start = _time(taint.get("timeAdded")) or now
        at = start + timedelta(seconds=max(0, min(int(s) for s in limits)))
        due = at if due is None else min(due, at)
    return due


def pod_ready_false(pod: Obj, now: datetime) -> list[Obj] | None:
    """The pod's conditions with Ready set False (kube's MarkPodsNotReady); None if not Ready."""
    conds = [dict(c) for c in (pod.get("status") or {}).get("conditions") or []]
    ready = next((c for c in conds if c.get("type") == "Ready"), None)
    if ready is None or ready.get("status") == "False":
        return None
    ready.update(status="False", lastTransitionTime=now_rfc3339(now))
    return conds


def zone_of(node: Obj) -> str:
    labels = node.get("metadata", {}).get("labels") or {}
    return next((labels[k] for k in ZONE_LABELS if labels.get(k)), "")


class RateLimiter:
    """A token bucket (kube's flowcontrol.NewTokenBucketRateLimiter with burst 1): `rate` tokens a
    second; rate <= 0 never allows."""

    def __init__(self, rate: float, clock: Callable[[], float], burst: int = 1):
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.tokens = float(burst)
        self.last = clock()

    def try_accept(self) -> bool:
        now = self.clock()
        if self.rate > 0:
            self.tokens = min(float(self.burst), self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.rate > 0 and self.tokens >= 1:
            self.tokens -= 1
            return True
        return False
