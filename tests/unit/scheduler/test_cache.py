from skiff.cluster.scheduler.scheduler import Scheduler
from tests.unit.scheduler.fakes import cluster, node, pod


def test_pod_totals_follow_adds_and_removes():
    cache = cluster(node("a"), pods=(pod("p", cpu="1", memory="1Gi", node_name="a"),))
    a = cache.nodes["a"]
    assert a.requested == {"cpu": 1000, "memory": 1024 ** 3}
    cache.remove_pod("default/p")
    assert a.requested == {"cpu": 0, "memory": 0} and not a.pods


def test_assume_then_confirm_or_forget():
    cache = cluster(node("a"), node("b"))
    p = pod("p", cpu="1")
    cache.assume(Scheduler._assumed(p, "a"), "a")
    assert cache.is_assumed("default/p") and "default/p" in cache.nodes["a"].pods
    cache.set_pod(pod("p", cpu="1", node_name="a"))  # the informer saw the binding
    assert not cache.is_assumed("default/p") and cache.nodes["a"].requested["cpu"] == 1000
    q = pod("q", cpu="1")
    cache.assume(Scheduler._assumed(q, "b"), "b")
    cache.forget("default/q")
    assert not cache.nodes["b"].pods


def test_pods_of_an_unknown_node_wait_for_it():
    cache = cluster(pods=(pod("p", cpu="1", node_name="later"),))
    assert cache.snapshot().nodes == []
    cache.set_node(node("later"))
    assert [n.name for n in cache.snapshot().nodes] == ["later"]
    assert cache.snapshot().nodes[0].requested["cpu"] == 1000


def test_generation_changes_on_every_change_and_never_repeats():
    cache = cluster(node("a"))
    g1 = cache.nodes["a"].generation
    cache.set_pod(pod("p", node_name="a"))
    g2 = cache.nodes["a"].generation
    cache.remove_pod("default/p")
    cache.remove_node("a")
    cache.set_node(node("a"))
    assert len({g1, g2, cache.nodes["a"].generation}) == 3


def test_image_counts():
    img = [{"names": ["docker.io/library/nginx:latest"], "sizeBytes": 1}]
    cache = cluster(node("a", images=img), node("b", images=img))
    assert cache.snapshot().image_nodes == {"docker.io/library/nginx:latest": 2}
    cache.remove_node("a")
    assert cache.snapshot().image_nodes == {"docker.io/library/nginx:latest": 1}


def test_confirm_keeps_the_assumed_pod_only_when_the_watch_agrees():
    cache = cluster(node("a"), node("b"))
    p = pod("p", cpu="1")
    cache.assume(Scheduler._assumed(p, "a"), "a")
    elsewhere = {"metadata": {"name": "p", "namespace": "default", "uid": p.uid}, "spec": {"nodeName": "b"}}
    assert not cache.confirm("default/p", elsewhere)
    bound = {"metadata": {"name": "p", "namespace": "default", "uid": p.uid}, "spec": {**p.spec, "nodeName": "a"}}
    assert cache.confirm("default/p", bound)
    assert not cache.is_assumed("default/p") and cache.nodes["a"].pods["default/p"].obj is bound
    assert not cache.confirm("default/p", bound)  # only assumed pods are confirmed
