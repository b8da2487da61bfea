"""NodeName: a pod that names its node (spec.nodeName) fits only there."""

from __future__ import annotations

from skiff.cluster.scheduler.framework import OK, SKIP, CycleState, Snapshot, Status, unschedulable
from skiff.cluster.scheduler.nodeinfo import NodeInfo, PodInfo

REASON = "node(s) didn't match the requested node name"


class NodeName:
    name = "NodeName"
    node_local = True  # its answers depend on the pod and the one node only

    def pre_filter(self, state: CycleState, pod: PodInfo, snapshot: Snapshot) -> Status:
        return OK if pod.node_name else Status(SKIP)

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status:
        wanted = pod.node_name
        if wanted and wanted != node.name:
            return unschedulable(REASON, resolvable=False)
        return OK
