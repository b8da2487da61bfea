from skiff.cluster.scheduler.framework import SKIP, CycleState, Snapshot
from skiff.cluster.scheduler.plugins.podtopologyspread import MISSING_LABEL_REASON, REASON, PodTopologySpread
from tests.unit.scheduler.fakes import info, node, pod

plugin = PodTopologySpread()


def spread(max_skew=1, when="DoNotSchedule", key="zone", **extra):
    return {"topologySpreadConstraints": [{"maxSkew": max_skew, "topologyKey": key, "whenUnsatisfiable": when,
                                           "labelSelector": {"matchLabels": {"app": "web"}}, **extra}]}


def web(name, **kw):
    return pod(name, labels={"app": "web"}, **kw)


def zones():
    a = info(node("a", labels={"zone": "z1"}), web("w1"), web("w2"))
    b = info(node("b", labels={"zone": "z2"}), web("w3"))
    c = info(node("c"))  # no zone label
    return a, b, c


def test_max_skew_and_missing_label():
    a, b, c = zones()
    p = web("new", **spread())
    state = CycleState()
    plugin.pre_filter(state, p, Snapshot([a, b, c]))
    assert plugin.filter(state, p, a).reasons == [REASON]  # z1 would have 3 against z2's 1
    assert plugin.filter(state, p, b).ok
    st = plugin.filter(state, p, c)
    assert st.reasons == [MISSING_LABEL_REASON] and st.code == "UnschedulableAndUnresolvable"


def test_larger_skew_allows_it():
    a, b, c = zones()
    p = web("new", **spread(max_skew=2))
    state = CycleState()
    plugin.pre_filter(state, p, Snapshot([a, b, c]))
    assert plugin.filter(state, p, a).ok


def test_schedule_anyway_scores_instead():
    a, b, c = zones()
    p = web("new", **spread(when="ScheduleAnyway"))
    snap = Snapshot([a, b])
    assert plugin.pre_filter(CycleState(), p, snap).code == SKIP
    state = CycleState()
    assert plugin.pre_score(state, p, [a, b], snap).ok
    scores = [plugin.score(state, p, a), plugin.score(state, p, b)]
    plugin.normalize(state, p, scores)
    assert scores[1] > scores[0]


def test_min_domains_counts_missing_domains_as_empty():
    a = info(node("a", labels={"zone": "z1"}), web("w1"))
    p = web("new", **spread(minDomains=2))
    state = CycleState()
    plugin.pre_filter(state, p, Snapshot([a]))
    assert plugin.filter(state, p, a).reasons == [REASON]  # 1 + 1 - 0 > 1
