"""NodeAffinity: spec.nodeSelector and required node affinity filter; preferred terms score.

Terms are ORed; inside a term, matchExpressions (on labels) and matchFields (metadata.name)
are ANDed, with the operators In, NotIn, Exists, DoesNotExist, Gt and Lt.
"""

from __future__ import annotations

from typing import Any

from skiff.cluster.scheduler.framework import (
    OK,
    SKIP,
    CycleState,
    Snapshot,
    Status,
    default_normalize,
    unschedulable,
)
from skiff.cluster.scheduler.nodeinfo import NodeInfo, PodInfo

REASON = "node(s) didn't match Pod's node affinity/selector"


def requirement_matches(expr: dict[str, Any], values: dict[str, str]) -> bool:
    key, op, wanted = expr.get("key", ""), expr.get("operator", ""), expr.get("values") or []
    present = key in values
    if op == "In":
        return present and values[key] in wanted
    if op == "NotIn":
        return not present or values[key] not in wanted
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt") and present and len(wanted) == 1:
        try:
            have, bound = int(values[key]), int(wanted[0])
        except ValueError:
            return False
        return have > bound if op == "Gt" else have < bound
    return False


def term_matches(term: dict[str, Any], node: NodeInfo) -> bool:
    exprs, fields = term.get("matchExpressions") or [], term.get("matchFields") or []
    if not exprs and not fields:
        return False  # an empty term matches no node
    if not all(requirement_matches(e, node.labels) for e in exprs):
        return False
    return all(requirement_matches(f, {"metadata.name": node.name}) for f in fields)


def required_matches(pod: PodInfo, node: NodeInfo) -> bool:
    """nodeSelector and requiredDuringSchedulingIgnoredDuringExecution both hold."""
    for k, v in (pod.spec.get("nodeSelector") or {}).items():
        if node.labels.get(k) != v:
            return False
    required = ((pod.affinity.get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution"))
    if required is None:
        return True
    return any(term_matches(t, node) for t in required.get("nodeSelectorTerms") or [])


class NodeAffinity:
    name = "NodeAffinity"
    node_local = True  # its answers depend on the pod and the one node only
    weight = 2

    def pre_filter(self, state: CycleState, pod: PodInfo, snapshot: Snapshot) -> Status:
        required = (pod.affinity.get("nodeAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution")
        return OK if pod.spec.get("nodeSelector") or required is not None else Status(SKIP)

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status:
        return OK if required_matches(pod, node) else unschedulable(REASON, resolvable=False)

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo], snapshot: Snapshot) -> Status:
        preferred = (pod.affinity.get("nodeAffinity") or {}).get("preferredDuringSchedulingIgnoredDuringExecution")
        return OK if preferred else Status(SKIP)

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        preferred = ((pod.affinity.get("nodeAffinity") or {})
                     .get("preferredDuringSchedulingIgnoredDuringExecution") or [])
        return sum(int(p.get("weight") or 0) for p in preferred
                   if int(p.get("weight") or 0) and term_matches(p.get("preference") or {}, node))

    def normalize(self, state: CycleState, pod: PodInfo, scores: list[int]) -> None:
        default_normalize(scores)
