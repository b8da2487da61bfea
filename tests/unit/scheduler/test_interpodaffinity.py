from skiff.cluster.scheduler.framework import CycleState, Snapshot
from skiff.cluster.scheduler.plugins.interpodaffinity import (
    AFFINITY_REASON,
    ANTI_AFFINITY_REASON,
    EXISTING_ANTI_REASON,
    InterPodAffinity,
)
from tests.unit.scheduler.fakes import info, node, pod

plugin = InterPodAffinity()
HOST = "kubernetes.io/hostname"
ZONE = "zone"


def term(labels, key=HOST, **extra):
    return {"labelSelector": {"matchLabels": labels}, "topologyKey": key, **extra}


def required(kind, *terms):
    return {kind: {"requiredDuringSchedulingIgnoredDuringExecution": list(terms)}}


def run(p, *nodes):
    snap = Snapshot(list(nodes))
    state = CycleState()
    plugin.pre_filter(state, p, snap)
    return {n.name: plugin.filter(state, p, n) for n in nodes}


def test_required_affinity_follows_the_matching_pod_by_zone():
    db = pod("db", labels={"app": "db"})
    a = info(node("a", labels={ZONE: "z1"}), db)
    b = info(node("b", labels={ZONE: "z1"}))
    c = info(node("c", labels={ZONE: "z2"}))
    p = pod("web", affinity=required("podAffinity", term({"app": "db"}, ZONE)))
    res = run(p, a, b, c)
    assert res["a"].ok and res["b"].ok
    assert res["c"].reasons == [AFFINITY_REASON] and res["c"].code == "UnschedulableAndUnresolvable"


def test_first_pod_of_a_self_selecting_group_goes_anywhere():
    p = pod("w0", labels={"app": "w"}, affinity=required("podAffinity", term({"app": "w"})))
    res = run(p, info(node("a")), info(node("b")))
    assert all(s.ok for s in res.values())


def test_required_anti_affinity_and_the_existing_pods_side():
    web0 = pod("web0", labels={"app": "web"}, affinity=required("podAntiAffinity", term({"app": "web"})))
    a, b = info(node("a"), web0), info(node("b"))
    web1 = pod("web1", labels={"app": "web"}, affinity=required("podAntiAffinity", term({"app": "web"})))
    res = run(web1, a, b)
    assert res["a"].reasons == [EXISTING_ANTI_REASON] and res["b"].ok
    # a pod without terms is still kept off by the existing pod's anti-affinity
    plain = pod("plain", labels={"app": "web"})
    assert run(plain, a, b)["a"].reasons == [EXISTING_ANTI_REASON]
    # and the incoming pod's own anti-affinity against a pod that has none
    other = pod("cache", labels={"app": "cache"})
    c = info(node("c"), other)
    p = pod("p", affinity=required("podAntiAffinity", term({"app": "cache"})))
    assert run(p, c, b)["c"].reasons == [ANTI_AFFINITY_REASON]


def test_namespaces_of_terms():
    db = pod("db", ns="other", labels={"app": "db"})
    a = info(node("a"), db)
    same_ns = pod("p", affinity=required("podAntiAffinity", term({"app": "db"})))
    assert run(same_ns, a)["a"].ok  # the term looks in the pod's own namespace
    listed = pod("q", affinity=required("podAntiAffinity", term({"app": "db"}, namespaces=["other"])))
    assert not run(listed, a)["a"].ok
    everywhere = pod("r", affinity=required("podAntiAffinity", term({"app": "db"}, namespaceSelector={})))
    assert not run(everywhere, a)["a"].ok


def test_preferred_terms_score():
    cache = pod("cache", labels={"app": "cache"})
    a, b = info(node("a"), cache), info(node("b"))
    p = pod("p", affinity={"podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 50, "podAffinityTerm": term({"app": "cache"})}]}})
    state = CycleState()
    snap = Snapshot([a, b])
    assert plugin.pre_score(state, p, [a, b], snap).ok
    scores = [plugin.score(state, p, a), plugin.score(state, p, b)]
    plugin.normalize(state, p, scores)
    assert scores == [100, 0]
    anti = pod("q", affinity={"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 50, "podAffinityTerm": term({"app": "cache"})}]}})
    state = CycleState()
    plugin.pre_score(state, anti, [a, b], snap)
    scores = [plugin.score(state, anti, a), plugin.score(state, anti, b)]
    plugin.normalize(state, anti, scores)
    assert scores == [0, 100]
