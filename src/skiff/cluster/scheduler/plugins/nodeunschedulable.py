"""NodeUnschedulable: cordoned nodes (spec.unschedulable) take only pods tolerating the
node.kubernetes.io/unschedulable:NoSchedule taint."""

from __future__ import annotations

from skiff.cluster.scheduler.framework import OK, CycleState, Status, unschedulable
from skiff.cluster.scheduler.nodeinfo import NodeInfo, PodInfo
from skiff.cluster.scheduler.plugins.tainttoleration import tolerated

REASON = "node(s) were unschedulable"
TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}


class NodeUnschedulable:
    name = "NodeUnschedulable"
    node_local = True  # its answers depend on the pod and the one node only

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status:
        if node.unschedulable and not tolerated(pod.spec.get("tolerations") or [], TAINT):
            return unschedulable(REASON, resolvable=False)
        return OK
