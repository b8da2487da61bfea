"""TaintToleration: NoSchedule/NoExecute taints a pod does not tolerate filter the node out;
untolerated PreferNoSchedule taints lower its score."""

from __future__ import annotations

from typing import Any

from skiff.cluster.scheduler.framework import OK, CycleState, Status, default_normalize, unschedulable
from skiff.cluster.scheduler.nodeinfo import NodeInfo, PodInfo


def tolerates(toleration: dict[str, Any], taint: dict[str, Any]) -> bool:
    """v1.Toleration.ToleratesTaint."""
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    if key and key != taint.get("key"):
        return False
    op = toleration.get("operator") or "Equal"
    if op == "Exists":
        return True
    if op == "Equal":
        return (toleration.get("value") or "") == (taint.get("value") or "")
    return False


def tolerated(tolerations: list[dict[str, Any]], taint: dict[str, Any]) -> bool:
    return any(tolerates(t, taint) for t in tolerations)


def untolerated_reason(taint: dict[str, Any]) -> str:
    return f"node(s) had untolerated taint {{{taint.get('key', '')}: {taint.get('value', '')}}}"


class TaintToleration:
    name = "TaintToleration"
    node_local = True  # its answers depend on the pod and the one node only
    weight = 3

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status:
        if not node.taints:
            return OK
        tolerations = pod.spec.get("tolerations") or []
        for taint in node.taints:
            if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerated(tolerations, taint):
                return unschedulable(untolerated_reason(taint), resolvable=False)
        return OK

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        if not node.taints:
            return 0
        prefer = [t for t in pod.spec.get("tolerations") or [] if t.get("effect") in (None, "", "PreferNoSchedule")]
        return sum(1 for taint in node.taints
                   if taint.get("effect") == "PreferNoSchedule" and not tolerated(prefer, taint))

    def normalize(self, state: CycleState, pod: PodInfo, scores: list[int]) -> None:
        default_normalize(scores, reverse=True)
