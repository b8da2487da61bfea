from skiff.cluster.scheduler.algorithm import Algorithm, FitError
from skiff.cluster.scheduler.framework import CycleState
from skiff.cluster.scheduler.plugins.defaultpreemption import VICTIMS
from tests.unit.scheduler.fakes import cluster, framework, node, pod


def preempt(cache, p):
    fw = framework()
    state = CycleState()
    snap = cache.snapshot()
    try:
        Algorithm(fw).schedule(state, p, snap)
    except FitError as fit:
        nominated, st = fw.run_post_filter(state, p, snap, fit.statuses)
        return nominated, st, [v.name for v in state.get(VICTIMS) or []], fit
    raise AssertionError("the pod fitted")


def test_lowest_priority_victims_and_reprieve():
    cache = cluster(node("a", cpu="2"), pods=(
        pod("low", cpu="1", priority=1, node_name="a"), pod("mid", cpu="1", priority=5, node_name="a")))
    nominated, st, victims, _ = preempt(cache, pod("vip", cpu="1", priority=10))
    assert st.ok and nominated == "a"
    assert victims == ["low"]  # mid is reprieved: one cpu is enough


def test_node_with_lower_priority_victims_is_chosen():
    cache = cluster(node("a", cpu="1"), node("b", cpu="1"), pods=(
        pod("x", cpu="1", priority=5, node_name="a"), pod("y", cpu="1", priority=1, node_name="b")))
    nominated, _, victims, _ = preempt(cache, pod("vip", cpu="1", priority=10))
    assert (nominated, victims) == ("b", ["y"])


def test_fewer_victims_when_priorities_tie():
    cache = cluster(node("a", cpu="2"), node("b", cpu="2"), pods=(
        pod("a1", cpu="1", priority=1, node_name="a"), pod("a2", cpu="1", priority=1, node_name="a"),
        pod("b1", cpu="2", priority=1, node_name="b")))
    nominated, _, victims, _ = preempt(cache, pod("vip", cpu="2", priority=10))
    assert (nominated, victims) == ("b", ["b1"])


def test_messages_when_preemption_cannot_help():
    cache = cluster(node("a", cpu="1"), node("b", labels={"x": "y"}), pods=(
        pod("same", cpu="1", priority=10, node_name="a"),))
    nominated, st, _, fit = preempt(cache, pod("p", cpu="1", priority=10, nodeSelector={"x": "z"}))
    fit.post_filter_msg = st.message
    assert nominated == ""
    assert str(fit) == ("0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. "
                        "preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.")
    cache = cluster(node("a", cpu="1"), node("b", cpu="500m"), pods=(
        pod("same", cpu="1", priority=10, node_name="a"), pod("small", cpu="100m", node_name="b")))
    _, st, _, _ = preempt(cache, pod("q", cpu="1", priority=10))
    assert st.message == ("preemption: 0/2 nodes are available: 1 Insufficient cpu, "
                          "1 No preemption victims found for incoming pod.")


def test_preemption_policy_never():
    cache = cluster(node("a", cpu="1"), pods=(pod("low", cpu="1", node_name="a"),))
    _, st, _, _ = preempt(cache, pod("p", cpu="1", priority=10, preemptionPolicy="Never"))
    assert st.message == "preemption: not eligible due to preemptionPolicy=Never."
