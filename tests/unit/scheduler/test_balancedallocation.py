from skiff.cluster.scheduler.framework import CycleState
from skiff.cluster.scheduler.plugins.balancedallocation import NodeResourcesBalancedAllocation, balance_score
from tests.unit.scheduler.fakes import info, node, pod


def test_even_use_scores_highest():
    plugin = NodeResourcesBalancedAllocation()
    even = info(node("even", cpu="4", memory="4Gi"))
    p = pod("p", cpu="2", memory="2Gi")
    lopsided = pod("q", cpu="2", memory="100Mi")
    assert plugin.score(CycleState(), p, even) == 100
    assert plugin.score(CycleState(), lopsided, even) < 100


def test_balance_score():
    assert balance_score([0.5, 0.5]) == 100
    assert balance_score([1.0, 0.0]) == 50
    assert balance_score([2.0, 0.0]) == 50  # fractions are capped at 1
