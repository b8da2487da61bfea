"""NodeResourcesFit: requests (extended resources, init containers and overhead included) must
fit the node's allocatable; scores nodes by LeastAllocated (cpu and memory, weight 1 each)."""

from __future__ import annotations

from skiff.cluster.scheduler.framework import MAX_NODE_SCORE, OK, CycleState, Status, unschedulable
from skiff.cluster.scheduler.nodeinfo import CPU, MEMORY, PODS, NodeInfo, PodInfo

TOO_MANY_PODS = "Too many pods"


def insufficient(pod: PodInfo, node: NodeInfo) -> list[str]:
    """Kubernetes' reasons, in its order: pods first, then each resource that does not fit."""
    reasons = []
    if len(node.pods) + 1 > node.allocatable.get(PODS, 0):
        reasons.append(TOO_MANY_PODS)
    requested, alloc = node.requested, node.allocatable
    for name in sorted(pod.requests, key=lambda n: (n not in (CPU, MEMORY), n != CPU, n)):
        want = pod.requests[name]
        if want and want > alloc.get(name, 0) - requested.get(name, 0):
            reasons.append(f"Insufficient {name}")
    return reasons


def least_allocated(requested: int, capacity: int) -> int:
    if capacity == 0 or requested > capacity:
        return 0
    return (capacity - requested) * MAX_NODE_SCORE // capacity


class NodeResourcesFit:
    name = "NodeResourcesFit"
    node_local = True  # its answers depend on the pod and the one node only
    weight = 1

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status:
        reasons = insufficient(pod, node)
        return unschedulable(*reasons) if reasons else OK

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        cpu = least_allocated(node.non_zero_cpu + pod.non_zero[0], node.allocatable.get(CPU, 0))
        mem = least_allocated(node.non_zero_mem + pod.non_zero[1], node.allocatable.get(MEMORY, 0))
        return (cpu + mem) // 2
