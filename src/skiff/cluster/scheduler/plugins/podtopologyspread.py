"""PodTopologySpread: spec.topologySpreadConstraints. DoNotSchedule constraints filter nodes
whose domain would exceed maxSkew over the least-loaded domain; ScheduleAnyway ones score.

Counted: pods in the pod's namespace matching the constraint's selector, on nodes that carry
every constraint's key and match the pod's node affinity/selector (nodeAffinityPolicy Honor,
nodeTaintsPolicy Ignore, the defaults). No cluster-level default constraints.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from skiff.cluster.apimachinery.selectors import LabelSelector
from skiff.cluster.scheduler.framework import (
    MAX_NODE_SCORE,
    OK,
    SKIP,
    CycleState,
    Snapshot,
    Status,
    unschedulable,
)
from skiff.cluster.scheduler.nodeinfo import NodeInfo, PodInfo
from skiff.cluster.scheduler.plugins.nodeaffinity import required_matches

REASON = "node(s) didn't match pod topology spread constraints"
MISSING_LABEL_REASON = "node(s) didn't match pod topology spread constraints (missing required label)"


class Constraint:
    def __init__(self, c: dict[str, Any], pod: PodInfo):
        self.max_skew = int(c.get("maxSkew") or 1)
        self.key = c.get("topologyKey") or ""
        self.hard = (c.get("whenUnsatisfiable") or "DoNotSchedule") == "DoNotSchedule"
        self.selector = LabelSelector.from_object(c.get("labelSelector"))
        self.min_domains = int(c.get("minDomains") or 1)
        self.self_match = 1 if self.selector.matches(pod.labels) else 0


def count(constraints: list[Constraint], pod: PodInfo, snapshot: Snapshot) -> list[dict[str, int]]:
    """Matching pods per domain value, for each constraint, over the eligible nodes."""
    counts: list[dict[str, int]] = [defaultdict(int) for _ in constraints]
    for node in snapshot.nodes:
        if not all(c.key in node.labels for c in constraints) or not required_matches(pod, node):
            continue
        for c, per in zip(constraints, counts, strict=True):
            value = node.labels[c.key]
            per[value] += sum(1 for p in node.pods.values()
                              if p.namespace == pod.namespace and not p.terminating and c.selector.matches(p.labels))
    return counts


def constraints_of(pod: PodInfo, hard: bool) -> list[Constraint]:
    cs = [Constraint(c, pod) for c in pod.spec.get("topologySpreadConstraints") or []]
    return [c for c in cs if c.hard == hard]


class PodTopologySpread:
    name = "PodTopologySpread"
    weight = 2

    def pre_filter(self, state: CycleState, pod: PodInfo, snapshot: Snapshot) -> Status:
        constraints = constraints_of(pod, hard=True)
        if not constraints:
            return Status(SKIP)
        state[self.name] = (constraints, count(constraints, pod, snapshot))
        return OK

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status:
        constraints, counts = state[self.name]
        for c, per in zip(constraints, counts, strict=True):
            value = node.labels.get(c.key)
            if value is None:
                return unschedulable(MISSING_LABEL_REASON, resolvable=False)
            lowest = min(per.values(), default=0) if len(per) >= c.min_domains else 0
            if per.get(value, 0) + c.self_match - lowest > c.max_skew:
                return unschedulable(REASON)
        return OK

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo], snapshot: Snapshot) -> Status:
        constraints = constraints_of(pod, hard=False)
        if not constraints:
            return Status(SKIP)
        state[self.name + "/score"] = (constraints, count(constraints, pod, snapshot))
        return OK

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        constraints, counts = state[self.name + "/score"]
        return sum(per.get(node.labels.get(c.key, ""), 0) + c.self_match
                   for c, per in zip(constraints, counts, strict=True))

    def normalize(self, state: CycleState, pod: PodInfo, scores: list[int]) -> None:
        """Fewer matching pods in the domain scores higher (kube: max+min-s over max)."""
        low, high = min(scores, default=0), max(scores, default=0)
        scores[:] = [MAX_NODE_SCORE * (high + low - s) // high if high else MAX_NODE_SCORE for s in scores]
