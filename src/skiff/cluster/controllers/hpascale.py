"""The HorizontalPodAutoscaler's arithmetic (kube's replica calculator and behaviour), pure:

- per Resource metric: utilization = Σ usage / Σ requests of the pods with metrics (in %),
  ratio = utilization / target; within the 10 % tolerance nothing changes, else
  ceil(ratio × pods with metrics); AverageValue targets the same way on raw usage;
- the largest proposal over all metrics wins, clamped to [minReplicas, maxReplicas];
- stabilization: scaling down takes the highest recommendation of the last window (300 s by
  default), scaling up the lowest of its window (0 s by default);
- rate policies (Pods / Percent per periodSeconds, selectPolicy Max/Min/Disabled) bound how
  far one step may go, counting the scale events inside each policy's period.

autoscaling/v1 objects (targetCPUUtilizationPercentage) read as one CPU Utilization metric.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from skiff.cluster.apimachinery.quantity import parse_quantity

Obj = dict[str, Any]
TOLERANCE = 0.1
DOWN_WINDOW = 300.0
DEFAULT_UP = {"stabilizationWindowSeconds": 0, "selectPolicy": "Max",
              "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15},
                           {"type": "Pods", "value": 4, "periodSeconds": 15}]}
DEFAULT_DOWN = {"selectPolicy": "Max", "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]}


@dataclass(frozen=True)
class PodUsage:
    name: str
    usage: dict[str, float]  # cpu in cores, memory in bytes
    requests: dict[str, float]


def resource_targets(hpa: Obj) -> list[tuple[str, str, float]]:
    """[(resource, "Utilization" | "AverageValue", target)] from a v2 or v1 spec."""
    spec = hpa.get("spec") or {}
    if "targetCPUUtilizationPercentage" in spec or ("metrics" not in spec and hpa.get("apiVersion") ==
                                                     "autoscaling/v1"):
        return [("cpu", "Utilization", float(spec.get("targetCPUUtilizationPercentage") or 80))]
    out = []
    for m in spec.get("metrics") or []:
        if m.get("type") == "Resource":
            res = m.get("resource") or {}
            target = res.get("target") or {}
            if target.get("type") == "Utilization":
                out.append((res.get("name", "cpu"), "Utilization", float(target.get("averageUtilization") or 0)))
            elif target.get("type") == "AverageValue":
                out.append((res.get("name", "cpu"), "AverageValue",
                            float(parse_quantity(str(target.get("averageValue") or "0")))))
    if not out and "metrics" not in spec:
        out.append(("cpu", "Utilization", 80.0))  # v2 without metrics: kube's default
    return out


def proposal(current: int, pods: list[PodUsage], resource: str, kind: str, target: float) -> tuple[int, float]:
    """(replicas this metric wants, the current value: utilization % or average usage)."""
    measured = [p for p in pods if resource in p.usage]
    if not measured or target <= 0:
        return current, 0.0
    usage = sum(p.usage[resource] for p in measured)
    if kind == "Utilization":
        requests = sum(p.requests.get(resource, 0.0) for p in measured)
        if requests <= 0:
            return current, 0.0
        value = usage / requests * 100
    else:
        value = usage / len(measured)
    ratio = value / target
    if abs(1.0 - ratio) <= TOLERANCE:
        return current, value
    return math.ceil(ratio * len(measured)), value


def stabilize(recommendations: list[tuple[float, int]], now: float, desired: int, current: int,
              up_window: float, down_window: float) -> int:
    """kube's stabilizeRecommendationWithBehaviors over (time, replicas) history (newest included)."""
    up_floor, down_ceiling = desired, desired
    for at, replicas in recommendations:
        if now - at <= up_window:
            up_floor = min(up_floor, replicas)
        if now - at <= down_window:
            down_ceiling = max(down_ceiling, replicas)
    if desired > current:
        return max(current, up_floor)
    if desired < current:
        return min(current, down_ceiling)
    return current


def rate_limit(current: int, desired: int, events: list[tuple[float, int]], now: float, behavior: Obj,
               up: bool) -> int:
    """Bound one step by the policies; `events` are (time, replica change) of past scalings."""
    policies = behavior.get("policies") or []
    select = behavior.get("selectPolicy") or "Max"
    if select == "Disabled":
        return current
    limits = []
    for p in policies:
        period = float(p.get("periodSeconds") or 15)
        moved = sum(abs(d) for t, d in events if now - t < period and (d > 0) == up)
        base = current - moved if up else current + moved  # replicas at the start of the period
        value = float(p.get("value") or 0)
        if p.get("type") == "Pods":
            limits.append(base + value if up else base - value)
        else:
            limits.append(math.ceil(base * (1 + value / 100)) if up else math.floor(base * (1 - value / 100)))
    if not limits:
        return desired
    bound = (max(limits) if select == "Max" else min(limits)) if up else (
        min(limits) if select == "Max" else max(limits))
    # a limit never turns a scale-up into a scale-down (or the reverse)
    return min(desired, max(current, int(bound))) if up else max(desired, min(current, int(bound)))


def behavior_of(hpa: Obj, up: bool) -> Obj:
    given = ((hpa.get("spec") or {}).get("behavior") or {}).get("scaleUp" if up else "scaleDown") or {}
    default = DEFAULT_UP if up else DEFAULT_DOWN
    merged = {**default, **given}
    if "stabilizationWindowSeconds" not in given:
        merged["stabilizationWindowSeconds"] = 0 if up else DOWN_WINDOW
    return merged


def clamp(hpa: Obj, replicas: int) -> int:
    spec = hpa.get("spec") or {}
    low = int(spec.get("minReplicas") or 1)
    return max(low, min(int(spec.get("maxReplicas") or low), replicas))
