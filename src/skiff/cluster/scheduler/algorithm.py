"""One scheduling cycle's algorithm: filter nodes (stopping once enough are feasible), score
them, pick the best; or a FitError whose message is Kubernetes' "0/N nodes are available: ...".
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from itertools import chain

from skiff.cluster.scheduler.framework import OK, CycleState, Framework, Snapshot, Status
from skiff.cluster.scheduler.nodeinfo import NodeInfo, PodInfo
from skiff.cluster.scheduler.window import FilterWindow, ScoreWindow, ranges

MIN_FEASIBLE_NODES = 100  # minFeasibleNodesToFind
MIN_FEASIBLE_PERCENTAGE = 5  # minFeasibleNodesPercentageToFind
NO_NODES = "no nodes available to schedule pods"


def num_feasible_nodes_to_find(num_all: int, percentage: int = 0) -> int:
    """percentageOfNodesToScore: 0 means adaptive (50 - nodes/125, at least 5%); never under 100."""
    if num_all < MIN_FEASIBLE_NODES:
        return num_all
    if percentage <= 0:
        percentage = max(50 - num_all // 125, MIN_FEASIBLE_PERCENTAGE)
    if percentage >= 100:
        return num_all
    return max(num_all * percentage // 100, MIN_FEASIBLE_NODES)


def histogram(statuses: dict[str, Status]) -> list[str]:
    """"N reason" strings sorted as strings, as kube's sortReasonsHistogram."""
    counts: dict[str, int] = {}
    for st in statuses.values():
        for reason in st.reasons:
            counts[reason] = counts.get(reason, 0) + 1
    return sorted(f"{n} {reason}" for reason, n in counts.items())


def nodes_available_message(num_all: int, statuses: dict[str, Status]) -> str:
    return f"0/{num_all} nodes are available: {', '.join(histogram(statuses))}."


@dataclass
class FitError(Exception):
    pod: PodInfo
    num_all: int
    statuses: dict[str, Status] = field(default_factory=dict)
    pre_filter_msg: str = ""
    post_filter_msg: str = ""

    @property
    def unschedulable_plugins(self) -> set[str]:
        return {st.plugin for st in self.statuses.values() if st.plugin}

    def __str__(self) -> str:
        if self.num_all == 0 and not self.statuses:
            return NO_NODES
        msg = f"0/{self.num_all} nodes are available:"
        if self.pre_filter_msg:
            msg += f" {self.pre_filter_msg}."
        else:
            msg += f" {', '.join(histogram(self.statuses))}."
        if self.post_filter_msg:
            msg += f" {self.post_filter_msg}"
        return msg


@dataclass
class ScheduleResult:
    node: str
    evaluated: int
    feasible: int


class Algorithm:
    """Filter and score as kube-scheduler does. Node-local plugins' answers are memoized per
    (pod signature, node) and reused while the node's generation is unchanged: a run of similar
    pods re-evaluates only the node the previous pod went to."""

    MEMO_LIMIT = 200_000

    def __init__(self, framework: Framework, percentage_of_nodes_to_score: int = 0, rng: random.Random | None = None):
        self.fw = framework
        self.percentage = percentage_of_nodes_to_score
        self.next_start = 0
        self.rng = rng or random.Random()
        # signature -> node name -> (node generation, answer)
        self.filter_memo: dict[bytes, dict[str, tuple[int, Status]]] = {}
        self.score_memo: dict[bytes, dict[str, tuple[int, tuple[int, ...], int]]] = {}
        # the same answers as lists over a snapshot's nodes (window.py), when the cache feeds changes
        self.filter_windows: dict[bytes, FilterWindow] = {}
        self.score_windows: dict[bytes, ScoreWindow] = {}
        self.memo_size = 0

    def _trim(self) -> None:
        if self.memo_size > self.MEMO_LIMIT:
            self.filter_memo.clear()
            self.score_memo.clear()
            self.filter_windows.clear()
            self.score_windows.clear()
            self.memo_size = 0

    def find_feasible(self, state: CycleState, pod: PodInfo, snapshot: Snapshot) -> tuple[list[NodeInfo],
                                                                                           dict[str, Status]]:
        nodes = snapshot.nodes
        statuses: dict[str, Status] = {}
        feasible: list[NodeInfo] = []
        run_filter = self.fw.run_filter
        nominated = (pod.obj.get("status") or {}).get("nominatedNodeName")
        if nominated:  # the node preemption freed is tried first
            node = snapshot.get(nominated)
            if node is not None and run_filter(state, pod, node).ok:
                return [node], statuses
        want = num_feasible_nodes_to_find(len(nodes), self.percentage)
        n = len(nodes)
        start = self.next_start % n
        order = nodes[start:] + nodes[:start]
        memo = self.filter_memo.setdefault(pod.signature, {}) if self.fw.node_local(state.filters) else None
        nominated = snapshot.nominated
        found, processed = 0, 0
        for node in order:  # the hot loop: kept to lookups and compares
            processed += 1
            if nominated and node.name in nominated:
                st = self.filter_with_nominated(state, pod, node, nominated[node.name])
            elif memo is not None:
                hit = memo.get(node.name)
                if hit is None or hit[0] != node.generation:
                    hit = memo[node.name] = (node.generation, run_filter(state, pod, node))
                    self.memo_size += 1
                st = hit[1]
            else:
                st = run_filter(state, pod, node)
            if st is OK:
                feasible.append(node)
                found += 1
                if found >= want:
                    break
            else:
                statuses[node.name] = st
        self.next_start = (start + processed) % n
        return feasible, statuses

    def filter_with_nominated(self, state: CycleState, pod: PodInfo, node: NodeInfo,
                              nominated: dict[str, PodInfo]) -> Status:
        """As kube: room held for pods nominated to the node with a priority not below ours."""
        holders = [p for k, p in nominated.items() if k != pod.key and p.priority >= pod.priority]
        if not holders:
            return self.fw.run_filter(state, pod, node)
        trial = node.clone()
        for p in holders:
            trial.add_pod(p)
        return self.fw.run_filter(state, pod, trial)

    def score(self, state: CycleState, pod: PodInfo, feasible: list[NodeInfo], snapshot: Snapshot) -> dict[str, int]:
        fw = self.fw
        fw.run_pre_score(state, pod, feasible, snapshot)
        if not fw.node_local(state.scorers):
            return fw.combine(state, pod, [n.name for n in feasible], [fw.raw_scores(state, pod, n) for n in feasible])
        # Memo entries hold the raw scores and the weighted sum of the scorers that need no
        # normalizing; a normalized column whose values are all equal adds the same to every
        # node, so it is left out (the ranking, hence the choice, is the same).
        scorers = state.scorers
        plain = [(i, p.weight) for i, p in enumerate(scorers) if p.name not in fw.normalizers]
        normalized = [(i, p) for i, p in enumerate(scorers) if p.name in fw.normalizers]
        sig = pod.signature + b"|" + ",".join(p.name for p in scorers).encode()
        memo = self.score_memo.setdefault(sig, {})
        entries: list[tuple[int, tuple[int, ...], int]] = []
        for node in feasible:
            hit = memo.get(node.name)
            if hit is None or hit[0] != node.generation:
                raw = fw.raw_scores(state, pod, node)
                hit = memo[node.name] = (node.generation, raw, sum(raw[i] * w for i, w in plain))
                self.memo_size += 1
            entries.append(hit)
        totals = [e[2] for e in entries]
        for i, p in normalized:
            column = [e[1][i] for e in entries]
            if min(column) == max(column):
                continue
            p.normalize(state, pod, column)
            w = p.weight
            totals = [t + c * w for t, c in zip(totals, column, strict=True)]
        return dict(zip((n.name for n in feasible), totals, strict=True))

    def schedule(self, state: CycleState, pod: PodInfo, snapshot: Snapshot) -> ScheduleResult:
        nodes = snapshot.nodes
        if not nodes:
            raise FitError(pod, 0)
        self._trim()
        st = self.fw.run_pre_filter(state, pod, snapshot)
        if not st.ok:
            statuses = {n.name: Status(st.code, list(st.reasons), st.plugin) for n in nodes}
            raise FitError(pod, len(nodes), statuses, pre_filter_msg=st.message)
        if snapshot.changes is not None and not snapshot.nominated and self.fw.node_local(state.filters):
            return self._schedule_windowed(state, pod, snapshot)
        feasible, statuses = self.find_feasible(state, pod, snapshot)
        if not feasible:
            raise FitError(pod, len(nodes), statuses)
        if len(feasible) == 1:
            return ScheduleResult(feasible[0].name, len(statuses) + 1, 1)
        scores = self.score(state, pod, feasible, snapshot)
        return ScheduleResult(self.select_host(scores), len(statuses) + len(feasible), len(feasible))

    def select_host(self, scores: dict[str, int]) -> str:
        """The highest score; ties broken uniformly at random (as kube's reservoir sampling)."""
        top = max(scores.values())
        return self.rng.choice([name for name, s in scores.items() if s == top])

    # --- the windowed path: the same choices, answers kept per signature in lists -----------

    def _filter_window(self, state: CycleState, pod: PodInfo, snapshot: Snapshot) -> FilterWindow:
        feed, nodes, run_filter = snapshot.changes, snapshot.nodes, self.fw.run_filter
        win = self.filter_windows.get(pod.signature)
        if win is None or win.snapshot is not snapshot:
            win = self.filter_windows[pod.signature] = FilterWindow(snapshot, feed.mark)
            self.memo_size += len(nodes)
        else:
            win.refresh(feed, lambda i: run_filter(state, pod, nodes[i]))
        return win

    def _schedule_windowed(self, state: CycleState, pod: PodInfo, snapshot: Snapshot) -> ScheduleResult:
        """find_feasible, score and select_host over a FilterWindow and a ScoreWindow."""
        nodes = snapshot.nodes
        n = len(nodes)
        win = self._filter_window(state, pod, snapshot)
        nominated = (pod.obj.get("status") or {}).get("nominatedNodeName")
        if nominated:  # the node preemption freed is tried first
            i = snapshot.index.get(nominated)
            if i is not None and self.fw.run_filter(state, pod, nodes[i]).ok:
                return ScheduleResult(nominated, 1, 1)
        want = num_feasible_nodes_to_find(n, self.percentage)
        start = self.next_start % n
        statuses: dict[str, Status] = {}
        if not win.pending:  # every node passes: the candidates are the next `want` nodes
            spans = ranges(start, want, n)
            self.next_start = (start + want) % n
            feasible_idx: list[int] | None = None
        else:
            status, run_filter = win.status, self.fw.run_filter
            feasible_idx = []
            processed = 0
            for i in chain(range(start, n), range(start)):
                processed += 1
                st = status[i]
                if st is None:
                    st = run_filter(state, pod, nodes[i])
                    win.put(i, st)
                if st is OK:
                    feasible_idx.append(i)
                    if len(feasible_idx) >= want:
                        break
                else:
                    statuses[nodes[i].name] = st
            self.next_start = (start + processed) % n
            if not feasible_idx:
                raise FitError(pod, n, statuses)
            spans = ranges(start, len(feasible_idx), n) if not statuses else []
        count = len(feasible_idx) if feasible_idx is not None else want
        if count == 1:
            i = feasible_idx[0] if feasible_idx is not None else start
            return ScheduleResult(nodes[i].name, len(statuses) + 1, 1)
        if not spans:  # failing nodes among the candidates: the general scoring
            assert feasible_idx is not None
            feasible = [nodes[i] for i in feasible_idx]
            scores = self.score(state, pod, feasible, snapshot)
            return ScheduleResult(self.select_host(scores), len(statuses) + count, count)
        feasible = ScoreWindow.cut(nodes, spans)
        self.fw.run_pre_score(state, pod, feasible, snapshot)
        if not self.fw.node_local(state.scorers):
            scores = self.fw.combine(state, pod, [x.name for x in feasible],
                                     [self.fw.raw_scores(state, pod, x) for x in feasible])
            return ScheduleResult(self.select_host(scores), len(statuses) + count, count)
        best = self._best_in(state, pod, snapshot, spans)
        return ScheduleResult(nodes[best].name, len(statuses) + count, count)

    def _best_in(self, state: CycleState, pod: PodInfo, snapshot: Snapshot, spans: list[tuple[int, int]]) -> int:
        """The index of the best-scoring node in spans (ties at random), from a ScoreWindow."""
        fw, nodes, scorers = self.fw, snapshot.nodes, state.scorers
        sig = pod.signature + b"|" + ",".join(p.name for p in scorers).encode()
        win = self.score_windows.get(sig)

        def ask(i: int) -> tuple[int, ...]:
            return fw.raw_scores(state, pod, nodes[i])

        if win is None or win.snapshot is not snapshot:
            plain = [(i, p.weight) for i, p in enumerate(scorers) if p.name not in fw.normalizers]
            normalized = [i for i, p in enumerate(scorers) if p.name in fw.normalizers]
            win = self.score_windows[sig] = ScoreWindow(snapshot, snapshot.changes.mark, plain, normalized)
            self.memo_size += len(nodes)
        else:
            win.refresh(snapshot.changes, ask)
        for lo, hi in spans:
            win.fill(lo, hi, ask)
        totals = win.cut(win.plain, spans)
        for k, j in enumerate(win.normalized):
            if not win.nonzero[k]:
                continue  # zero on every node
            values = win.cut(win.columns[k], spans)
            if min(values) == max(values):
                continue  # adds the same to every node: the ranking is unchanged
            p = scorers[j]
            p.normalize(state, pod, values)
            w = p.weight
            totals = [t + c * w for t, c in zip(totals, values, strict=True)]
        top = max(totals)
        ties = totals.count(top)
        pos = totals.index(top)
        # ties at random, as select_host: the k-th best position, each step a search in C
        # (cheaper than listing the best positions, measured with 1,000 nodes)
        for _ in range(self.rng.randrange(ties) if ties > 1 else 0):
            pos = totals.index(top, pos + 1)
        for lo, hi in spans:  # position in the window -> node index
            if pos < hi - lo:
                return lo + pos
            pos -= hi - lo
        raise AssertionError("position outside the window")
