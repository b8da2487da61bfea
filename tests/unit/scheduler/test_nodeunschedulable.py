from skiff.cluster.scheduler.framework import CycleState
from skiff.cluster.scheduler.plugins.nodeunschedulable import REASON, NodeUnschedulable
from tests.unit.scheduler.fakes import info, node, pod


def test_cordoned_node_unless_tolerated():
    plugin = NodeUnschedulable()
    cordoned = info(node("c", unschedulable=True))
    assert plugin.filter(CycleState(), pod("p"), cordoned).reasons == [REASON]
    tolerant = pod("t", tolerations=[{"key": "node.kubernetes.io/unschedulable", "operator": "Exists",
                                      "effect": "NoSchedule"}])
    assert plugin.filter(CycleState(), tolerant, cordoned).ok
    assert plugin.filter(CycleState(), pod("p"), info(node("n"))).ok
