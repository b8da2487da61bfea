from skiff.cluster.scheduler.framework import SKIP, CycleState, Snapshot
from skiff.cluster.scheduler.plugins.nodename import REASON, NodeName
from tests.unit.scheduler.fakes import info, node, pod


def test_only_the_named_node():
    plugin = NodeName()
    p = pod("p", node_name="b")
    assert plugin.filter(CycleState(), p, info(node("b"))).ok
    st = plugin.filter(CycleState(), p, info(node("a")))
    assert st.reasons == [REASON] and st.code == "UnschedulableAndUnresolvable"
    assert plugin.pre_filter(CycleState(), pod("q"), Snapshot([])).code == SKIP
