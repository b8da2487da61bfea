"""The windowed algorithm (answers per signature in lists, refreshed from the cache's change feed)
chooses as the plain one does: same candidates, a best-scoring node, the same rotation."""

import random

from skiff.cluster.scheduler.algorithm import Algorithm
from skiff.cluster.scheduler.framework import CycleState, Snapshot
from skiff.cluster.scheduler.window import ChangeFeed, ranges
from tests.unit.scheduler.fakes import cluster, framework, node, pod


def test_change_feed_lists_names_changed_after_a_mark():
    feed = ChangeFeed()
    assert feed.mark == 0 and feed.since(0) == []
    feed.touched("a", 1)
    feed.touched("b", 2)
    mark = feed.mark
    feed.touched("a", 3)  # a moves behind b
    assert feed.since(mark) == ["a"]
    assert sorted(feed.since(0)) == ["a", "b"]
    assert feed.mark == 3


def test_ranges_wrap_at_the_end():
    assert ranges(2, 3, 10) == [(2, 5)]
    assert ranges(8, 4, 10) == [(8, 10), (0, 2)]


def reference(algo: Algorithm, cache, p):
    """The plain path's candidates and best scores for the same rotation point."""
    plain = Algorithm(algo.fw, algo.percentage)
    plain.next_start = algo.next_start
    snap = Snapshot(cache.snapshot().nodes, cache.image_nodes, cache.affinity_index)  # no change feed
    state = CycleState()
    algo.fw.run_pre_filter(state, p, snap)
    feasible, statuses = plain.find_feasible(state, p, snap)
    scores = algo.fw.run_score(CycleState(), p, feasible, snap) if feasible else {}
    return feasible, statuses, scores, plain.next_start


def test_windowed_choices_match_the_plain_path_while_the_cluster_changes():
    rng = random.Random(11)
    nodes = [node(f"n{i:03d}", cpu=str(rng.choice([2, 4, 8])), memory=f"{rng.choice([4, 8, 16])}Gi",
                  taints=[{"key": "k", "effect": rng.choice(["NoSchedule", "PreferNoSchedule"])}] if i % 7 == 0 else [],
                  labels={"zone": "a" if i % 2 else "b"})
             for i in range(150)]
    cache = cluster(*nodes)
    algo = Algorithm(framework(), rng=random.Random(1))
    kinds = [dict(cpu="300m", memory="300Mi"), dict(cpu="1", memory="1Gi"),
             dict(cpu="200m", nodeSelector={"zone": "a"}),
             dict(cpu="100m", tolerations=[{"key": "k", "operator": "Exists"}])]
    for i in range(300):
        p = pod(f"p{i}", **rng.choice(kinds))
        feasible, statuses, scores, next_start = reference(algo, cache, p)
        if not feasible:
            break
        result = algo.schedule(CycleState(), p, cache.snapshot())
        assert (result.feasible, result.evaluated) == (len(feasible), len(feasible) + len(statuses))
        assert algo.next_start == next_start
        assert scores.get(result.node, scores and max(scores.values())) == max(scores.values())
        cache.assume(p, result.node)
        if i % 25 == 0:  # a bound pod goes away, freeing its node
            victim = f"default/p{rng.randrange(i + 1)}"
            cache.remove_pod(victim)
    assert len(algo.filter_windows) == len(kinds)


def test_a_node_that_fills_up_leaves_the_candidates():
    cache = cluster(*[node(f"n{i}", cpu="1") for i in range(3)])
    algo = Algorithm(framework(), rng=random.Random(2))
    placed = []
    for i in range(3):
        p = pod(f"p{i}", cpu="600m")
        placed.append(algo.schedule(CycleState(), p, cache.snapshot()).node)
        cache.assume(p, placed[-1])
    assert sorted(placed) == ["n0", "n1", "n2"]  # each fits once: the window sees every change


def test_every_cache_change_to_a_node_is_in_the_feed():
    cache = cluster(node("a"), node("b"))
    mark = cache.changes.mark
    p = pod("p", cpu="100m")
    cache.assume(p, "a")
    assert cache.changes.since(mark) == ["a"]
    mark = cache.changes.mark
    cache.forget(p.key)
    cache.set_pod(pod("q", node_name="b"))
    assert sorted(cache.changes.since(mark)) == ["a", "b"]
    mark = cache.changes.mark
    cache.set_node(node("b", cpu="8"))
    assert cache.changes.since(mark) == ["b"]
    for name in ("a", "b"):
        assert cache.changes.latest[name] == cache.nodes[name].generation
