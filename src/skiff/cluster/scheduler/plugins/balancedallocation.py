"""NodeResourcesBalancedAllocation: prefer nodes whose cpu and memory use stay even after the pod."""

from __future__ import annotations

from skiff.cluster.scheduler.framework import MAX_NODE_SCORE, CycleState
from skiff.cluster.scheduler.nodeinfo import CPU, MEMORY, NodeInfo, PodInfo


def balance_score(fractions: list[float]) -> int:
    """(1 - standard deviation of the used fractions) * 100, as kube computes it."""
    if len(fractions) < 2:
        return MAX_NODE_SCORE
    fractions = [min(f, 1.0) for f in fractions]
    mean = sum(fractions) / len(fractions)
    std = (sum((f - mean) ** 2 for f in fractions) / len(fractions)) ** 0.5
    return int((1 - std) * MAX_NODE_SCORE)


class NodeResourcesBalancedAllocation:
    name = "NodeResourcesBalancedAllocation"
    node_local = True  # its answers depend on the pod and the one node only
    weight = 1

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        fractions = []
        for used, name in ((node.non_zero_cpu + pod.non_zero[0], CPU), (node.non_zero_mem + pod.non_zero[1], MEMORY)):
            cap = node.allocatable.get(name, 0)
            if cap:
                fractions.append(used / cap)
        return balance_score(fractions)
