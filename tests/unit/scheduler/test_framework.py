import asyncio

import pytest

from skiff.cluster.scheduler.framework import (
    OK,
    SKIP,
    CycleState,
    Framework,
    Snapshot,
    Status,
    default_normalize,
    unschedulable,
)
from skiff.cluster.scheduler.plugins.queuesort import PrioritySort
from tests.unit.scheduler.fakes import info, node, pod


class Recorder:
    def __init__(self, name, fail_reserve=False, skip=False):
        self.name = name
        self.weight = 2
        self.calls = []
        self.fail_reserve = fail_reserve
        self.skip = skip

    def pre_filter(self, state, p, snapshot):
        self.calls.append("pre_filter")
        return Status(SKIP) if self.skip else OK

    def filter(self, state, p, n):
        self.calls.append(f"filter {n.name}")
        return unschedulable("nope") if n.name == "bad" else OK

    def score(self, state, p, n):
        return 10 if n.name == "good" else 5

    def reserve(self, state, p, n):
        self.calls.append("reserve")
        return unschedulable("full") if self.fail_reserve else OK

    def unreserve(self, state, p, n):
        self.calls.append("unreserve")

    async def bind(self, state, p, n):
        self.calls.append(f"bind {n}")
        return OK


def test_points_are_found_by_protocol():
    r = Recorder("r")
    fw = Framework([PrioritySort(), r])
    assert fw.pre_filters == [r] and fw.filters == [r] and fw.scorers == [r] and fw.binders == [r]
    assert fw.reservers == [r] and fw.permits == [] and fw.post_filters == []
    with pytest.raises(ValueError):
        Framework([r])


def test_filter_status_names_the_plugin_and_skip_leaves_it_out():
    r = Recorder("r")
    fw = Framework([PrioritySort(), r])
    state = CycleState()
    fw.run_pre_filter(state, pod("p"), Snapshot([]))
    st = fw.run_filter(state, pod("p"), info(node("bad")))
    assert st.plugin == "r" and st.reasons == ["nope"]
    skipper = Recorder("s", skip=True)
    fw = Framework([PrioritySort(), skipper])
    state = CycleState()
    fw.run_pre_filter(state, pod("p"), Snapshot([]))
    assert fw.run_filter(state, pod("p"), info(node("bad"))).ok


def test_scores_are_weighted():
    fw = Framework([PrioritySort(), Recorder("r")])
    nodes = [info(node("good")), info(node("meh"))]
    assert fw.run_score(CycleState(), pod("p"), nodes, Snapshot(nodes)) == {"good": 20, "meh": 10}


def test_failed_reserve_unreserves_and_bind_runs():
    ok, bad = Recorder("ok"), Recorder("bad", fail_reserve=True)
    fw = Framework([PrioritySort(), ok, bad])
    st = fw.run_reserve(CycleState(), pod("p"), "n")
    assert not st.ok and st.plugin == "bad"
    assert ok.calls[-1] == "unreserve" and bad.calls[-1] == "unreserve"
    assert asyncio.run(fw.run_bind(CycleState(), pod("p"), "n")).ok and ok.calls[-1] == "bind n"


def test_default_normalize():
    s = [0, 5, 10]
    default_normalize(s)
    assert s == [0, 50, 100]
    s = [0, 5, 10]
    default_normalize(s, reverse=True)
    assert s == [100, 50, 0]
    s = [0, 0]
    default_normalize(s, reverse=True)
    assert s == [100, 100]
