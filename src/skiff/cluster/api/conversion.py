"""Conversion between the served versions of one kind.

autoscaling/v1 and autoscaling/v2 HorizontalPodAutoscalers share storage, as do core/v1
and events.k8s.io/v1 Events in Kubernetes. `convert(obj, to)` gives an object in the
version the request named, whatever version it was written in. What v1 has no field for
is kept in the `autoscaling.alpha.kubernetes.io/*` annotations, as Kubernetes does, so a
round trip loses nothing.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from skiff.cluster.api.registry import Resource

Obj = dict[str, Any]
_METRICS = "autoscaling.alpha.kubernetes.io/metrics"
_CURRENT = "autoscaling.alpha.kubernetes.io/current-metrics"
_BEHAVIOR = "autoscaling.alpha.kubernetes.io/behavior"
_CONDITIONS = "autoscaling.alpha.kubernetes.io/conditions"


def convert(obj: Obj, to: Resource) -> Obj:
    """`obj` as `to.group_version` (a copy when it changes; the same object when it does not)."""
    if obj.get("apiVersion") == to.group_version or not obj.get("apiVersion"):
        return obj
    if to.kind == "HorizontalPodAutoscaler":
        return hpa_to_v1(obj) if to.version == "v1" else hpa_to_v2(obj)
    if to.kind == "Event":
        return event_to_new(obj) if to.group == "events.k8s.io" else event_to_core(obj)
    return obj


def _is_cpu_utilization(metric: Obj) -> bool:
    resource = metric.get("resource") or {}
    return (metric.get("type") == "Resource" and resource.get("name") == "cpu"
            and (resource.get("target") or {}).get("type") == "Utilization")


def hpa_to_v1(obj: Obj) -> Obj:
    out = copy.deepcopy(obj)
    out["apiVersion"] = "autoscaling/v1"
    spec = out.setdefault("spec", {})
    annotations = dict((out.get("metadata") or {}).get("annotations") or {})
    metrics = spec.pop("metrics", None) or []
    others = []
    for metric in metrics:
        if _is_cpu_utilization(metric) and "targetCPUUtilizationPercentage" not in spec:
            spec["targetCPUUtilizationPercentage"] = metric["resource"]["target"].get("averageUtilization")
        else:
            others.append(metric)
    if others:
        annotations[_METRICS] = json.dumps(others, separators=(",", ":"))
    behavior = spec.pop("behavior", None)
    if behavior:
        annotations[_BEHAVIOR] = json.dumps(behavior, separators=(",", ":"))
    status = out.get("status")
    if isinstance(status, dict):
        current = status.pop("currentMetrics", None) or []
        rest = []
        for metric in current:
            res = metric.get("resource") or {}
            if metric.get("type") == "Resource" and res.get("name") == "cpu" \
                    and (res.get("current") or {}).get("averageUtilization") is not None:
                status["currentCPUUtilizationPercentage"] = res["current"]["averageUtilization"]
            else:
                rest.append(metric)
        if rest:
            annotations[_CURRENT] = json.dumps(rest, separators=(",", ":"))
        conditions = status.pop("conditions", None)
        if conditions:
            annotations[_CONDITIONS] = json.dumps(conditions, separators=(",", ":"))
        status.setdefault("currentReplicas", 0)
        status.setdefault("desiredReplicas", 0)
    if annotations:
        out.setdefault("metadata", {})["annotations"] = annotations
    return out


def hpa_to_v2(obj: Obj) -> Obj:
    out = copy.deepcopy(obj)
    out["apiVersion"] = "autoscaling/v2"
    spec = out.setdefault("spec", {})
    meta = out.setdefault("metadata", {})
    annotations = dict(meta.get("annotations") or {})
    metrics: list[Any] = []
    target = spec.pop("targetCPUUtilizationPercentage", None)
    if target is not None:
        metrics.append({"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Utilization", "averageUtilization": target}}})
    if _METRICS in annotations:
        metrics += json.loads(annotations.pop(_METRICS))
    if metrics:
        spec["metrics"] = metrics
    if _BEHAVIOR in annotations:
        spec["behavior"] = json.loads(annotations.pop(_BEHAVIOR))
    status = out.get("status")
    if isinstance(status, dict):
        current: list[Any] = []
        cpu = status.pop("currentCPUUtilizationPercentage", None)
        if cpu is not None:
            current.append({"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": cpu}}})
        if _CURRENT in annotations:
            current += json.loads(annotations.pop(_CURRENT))
        if current:
            status["currentMetrics"] = current
        if _CONDITIONS in annotations:
            status["conditions"] = json.loads(annotations.pop(_CONDITIONS))
    else:
        annotations.pop(_CURRENT, None)
        annotations.pop(_CONDITIONS, None)
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    return out


# core/v1 field -> events.k8s.io/v1 field
_EVENT_FIELDS = (("involvedObject", "regarding"), ("message", "note"), ("source", "deprecatedSource"),
                 ("firstTimestamp", "deprecatedFirstTimestamp"), ("lastTimestamp", "deprecatedLastTimestamp"),
                 ("count", "deprecatedCount"), ("reportingComponent", "reportingController"))


def event_to_new(obj: Obj) -> Obj:
    out = copy.deepcopy(obj)
    out["apiVersion"] = "events.k8s.io/v1"
    for old, new in _EVENT_FIELDS:
        if old in out:
            out[new] = out.pop(old)
    return out


def event_to_core(obj: Obj) -> Obj:
    out = copy.deepcopy(obj)
    out["apiVersion"] = "v1"
    for old, new in _EVENT_FIELDS:
        if new in out:
            out[old] = out.pop(new)
    return out
