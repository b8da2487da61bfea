from skiff.cluster.scheduler.framework import CycleState
from skiff.cluster.scheduler.plugins.tainttoleration import TaintToleration, tolerates
from tests.unit.scheduler.fakes import info, node, pod

plugin = TaintToleration()
DB = {"key": "dedicated", "value": "db", "effect": "NoSchedule"}


def test_untolerated_no_schedule_taint_in_kubernetes_wording():
    st = plugin.filter(CycleState(), pod("p"), info(node("n", taints=[DB])))
    assert st.reasons == ["node(s) had untolerated taint {dedicated: db}"]
    assert st.code == "UnschedulableAndUnresolvable"


def test_tolerations_equal_exists_and_effects():
    assert tolerates({"key": "dedicated", "operator": "Equal", "value": "db", "effect": "NoSchedule"}, DB)
    assert not tolerates({"key": "dedicated", "operator": "Equal", "value": "web"}, DB)
    assert tolerates({"key": "dedicated", "operator": "Exists"}, DB)
    assert tolerates({"operator": "Exists"}, DB)  # empty key with Exists tolerates everything
    assert not tolerates({"key": "dedicated", "operator": "Exists", "effect": "NoExecute"}, DB)


def test_no_execute_filters_prefer_no_schedule_only_scores():
    noexec = info(node("x", taints=[{"key": "k", "effect": "NoExecute"}]))
    assert not plugin.filter(CycleState(), pod("p"), noexec).ok
    soft = info(node("s", taints=[{"key": "k", "value": "v", "effect": "PreferNoSchedule"}]))
    clean = info(node("c"))
    assert plugin.filter(CycleState(), pod("p"), soft).ok
    scores = [plugin.score(CycleState(), pod("p"), soft), plugin.score(CycleState(), pod("p"), clean)]
    plugin.normalize(CycleState(), pod("p"), scores)
    assert scores == [0, 100]
    tolerant = pod("t", tolerations=[{"key": "k", "operator": "Exists", "effect": "PreferNoSchedule"}])
    assert plugin.score(CycleState(), tolerant, soft) == 0
