"""NodePorts: a pod's hostPorts must be free on the node (0.0.0.0 conflicts with every address)."""

from __future__ import annotations

from skiff.cluster.scheduler.framework import OK, SKIP, CycleState, Snapshot, Status, unschedulable
from skiff.cluster.scheduler.nodeinfo import NodeInfo, PodInfo

REASON = "node(s) didn't have free ports for the requested pod ports"
ANY = "0.0.0.0"


def conflicts(pod: PodInfo, node: NodeInfo) -> bool:
    for ip, proto, port in pod.ports:
        used = node.used_ports.get((proto, port))
        if used and (ip == ANY or ANY in used or ip in used):
            return True
    return False


class NodePorts:
    name = "NodePorts"
    node_local = True  # its answers depend on the pod and the one node only

    def pre_filter(self, state: CycleState, pod: PodInfo, snapshot: Snapshot) -> Status:
        return OK if pod.ports else Status(SKIP)

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status:
        if pod.ports and conflicts(pod, node):
            return unschedulable(REASON)
        return OK
