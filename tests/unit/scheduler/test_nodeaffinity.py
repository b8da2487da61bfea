from skiff.cluster.scheduler.framework import SKIP, CycleState, Snapshot
from skiff.cluster.scheduler.plugins.nodeaffinity import REASON, NodeAffinity, required_matches
from tests.unit.scheduler.fakes import info, node, pod

plugin = NodeAffinity()


def required(*terms):
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}}}


def expr(key, op, *values):
    e = {"key": key, "operator": op}
    if values:
        e["values"] = list(values)
    return e


SSD = info(node("ssd", labels={"disk": "ssd", "cores": "8"}))
HDD = info(node("hdd", labels={"disk": "hdd", "cores": "2"}))


def test_node_selector():
    p = pod("p", nodeSelector={"disk": "ssd"})
    assert plugin.filter(CycleState(), p, SSD).ok
    st = plugin.filter(CycleState(), p, HDD)
    assert st.reasons == [REASON] and st.code == "UnschedulableAndUnresolvable"


def test_operators():
    cases = [(expr("disk", "In", "ssd", "nvme"), {"ssd"}), (expr("disk", "NotIn", "ssd"), {"hdd"}),
             (expr("disk", "Exists"), {"ssd", "hdd"}), (expr("gpu", "DoesNotExist"), {"ssd", "hdd"}),
             (expr("cores", "Gt", "4"), {"ssd"}), (expr("cores", "Lt", "4"), {"hdd"}),
             (expr("gpu", "Gt", "1"), set())]
    for e, want in cases:
        p = pod("p", affinity=required({"matchExpressions": [e]}))
        assert {n.name for n in (SSD, HDD) if required_matches(p, n)} == want, e


def test_terms_are_ored_expressions_anded_and_match_fields():
    p = pod("p", affinity=required({"matchExpressions": [expr("disk", "In", "ssd"), expr("cores", "Lt", "4")]},
                                   {"matchFields": [expr("metadata.name", "In", "hdd")]}))
    assert not required_matches(p, SSD)  # first term: cores 8 is not < 4
    assert required_matches(p, HDD)  # second term: by name
    empty = pod("e", affinity=required({}))
    assert not required_matches(empty, SSD)


def test_selector_and_affinity_both_hold():
    p = pod("p", nodeSelector={"disk": "ssd"}, affinity=required({"matchExpressions": [expr("cores", "Lt", "4")]}))
    assert not required_matches(p, SSD) and not required_matches(p, HDD)


def test_preferred_terms_score_and_skip():
    p = pod("p", affinity={"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 80, "preference": {"matchExpressions": [expr("disk", "In", "ssd")]}},
        {"weight": 20, "preference": {"matchExpressions": [expr("cores", "Exists")]}}]}})
    scores = [plugin.score(CycleState(), p, SSD), plugin.score(CycleState(), p, HDD)]
    assert scores == [100, 20]
    plugin.normalize(CycleState(), p, scores)
    assert scores == [100, 20]
    assert plugin.pre_score(CycleState(), pod("q"), [], Snapshot([])).code == SKIP
    assert plugin.pre_filter(CycleState(), pod("q"), Snapshot([])).code == SKIP
