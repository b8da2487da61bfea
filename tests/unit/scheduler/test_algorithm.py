import random

import pytest

from skiff.cluster.scheduler.algorithm import Algorithm, FitError, num_feasible_nodes_to_find
from skiff.cluster.scheduler.framework import CycleState, Framework
from skiff.cluster.scheduler.plugins.registry import default_plugins
from tests.unit.scheduler.fakes import cluster, framework, node, pod


def test_percentage_of_nodes_to_score():
    assert num_feasible_nodes_to_find(50) == 50
    assert num_feasible_nodes_to_find(100) == 100
    assert num_feasible_nodes_to_find(1000) == 420  # 50 - 1000/125 = 42 %
    assert num_feasible_nodes_to_find(5000) == 500  # 10 %
    assert num_feasible_nodes_to_find(6000) == 300  # the 5 % floor
    assert num_feasible_nodes_to_find(150, percentage=10) == 100  # never under 100
    assert num_feasible_nodes_to_find(1000, percentage=100) == 1000


def schedule(cache, p, algo=None):
    algo = algo or Algorithm(framework(), rng=random.Random(1))
    return algo.schedule(CycleState(), p, cache.snapshot())


def test_seed_message_for_a_selector_nothing_matches():
    cache = cluster(node("a"), node("b", cpu="1", labels={"zone": "x"}), node("c", cpu="1", labels={"zone": "x"}))
    with pytest.raises(FitError) as e:
        schedule(cache, pod("p", cpu="2", nodeSelector={"zone": "x"}))
    assert str(e.value) == ("0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, "
                            "2 Insufficient cpu.")


def test_no_nodes():
    with pytest.raises(FitError) as e:
        schedule(cluster(), pod("p"))
    assert str(e.value) == "no nodes available to schedule pods"


def test_least_allocated_wins_and_results_do_not_depend_on_memo():
    busy = node("busy")
    cache = cluster(busy, node("idle"), pods=(pod("x", cpu="3", node_name="busy"),))
    algo = Algorithm(framework(), rng=random.Random(1))
    assert schedule(cache, pod("p", cpu="100m"), algo).node == "idle"
    cache.set_pod(pod("y", cpu="3900m", node_name="idle"))  # idle is now the fuller one
    assert schedule(cache, pod("q", cpu="100m"), algo).node == "busy"


def test_rotation_over_many_nodes_and_feasible_limit():
    cache = cluster(*[node(f"n{i:04d}") for i in range(1000)])
    algo = Algorithm(framework(), rng=random.Random(1))
    result = schedule(cache, pod("p"), algo)
    assert result.feasible == 420 and result.evaluated == 420
    assert algo.next_start == 420


def test_ties_are_broken_among_the_best():
    algo = Algorithm(Framework(default_plugins(None)), rng=random.Random(3))
    seen = {algo.select_host({"a": 5, "b": 5, "c": 1}) for _ in range(50)}
    assert seen == {"a", "b"}


def test_memoized_scores_rank_nodes_as_the_plain_framework_does():
    rng = random.Random(7)
    nodes = [node(f"n{i}", cpu=str(rng.choice([2, 4, 8])), memory=f"{rng.choice([4, 8, 16])}Gi",
                  taints=[{"key": "k", "effect": "PreferNoSchedule"}] if i % 3 == 0 else [])
             for i in range(30)]
    placed = tuple(pod(f"x{i}", cpu=f"{rng.randint(1, 9) * 100}m", memory=f"{rng.randint(1, 9) * 100}Mi",
                       node_name=f"n{rng.randrange(30)}") for i in range(40))
    cache = cluster(*nodes, pods=placed)
    algo = Algorithm(framework(), rng=random.Random(1))
    for i in range(5):
        p = pod(f"p{i}", cpu="300m", memory="300Mi")
        snap = cache.snapshot()
        state = CycleState()
        algo.fw.run_pre_filter(state, p, snap)
        feasible, _ = algo.find_feasible(state, p, snap)
        plain = algo.fw.run_score(CycleState(), p, feasible, snap)
        for _ in range(2):  # the second round is answered from the memo
            memo = algo.score(state, p, feasible, snap)
            best = max(memo.values())
            assert {n for n, s in memo.items() if s == best} == {n for n, s in plain.items() if s == max(plain.values())}
        cache.assume(p, algo.select_host(memo))


def test_room_is_held_for_a_pod_nominated_with_higher_priority():
    cache = cluster(node("a", cpu="1"), node("b", cpu="1"))
    vip = pod("vip", cpu="800m", priority=100)
    cache.set_nominated(vip, "a")
    algo = Algorithm(framework(), rng=random.Random(1))
    assert schedule(cache, pod("low", cpu="500m"), algo).node == "b"  # a is held for vip
    assert schedule(cache, vip, algo).feasible == 2  # its own nomination does not hold it back
    cache.clear_nomination("default/vip")
    snap = cache.snapshot()
    assert snap.nominated == {}
