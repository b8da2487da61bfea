"""One scheduling cycle's algorithm: filter nodes (stopping once enough are feasible), score
them, pick the best; or a FitError whose message is Kubernetes' "0/N nodes are available: ...".
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from skiff.cluster.scheduler.framework import OK, CycleState, Framework, Snapshot, Status
from skiff.cluster.scheduler.nodeinfo import NodeInfo, PodInfo

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
        self.memo_size = 0

    def _trim(self) -> None:
        if self.memo_size > self.MEMO_LIMIT:
            self.filter_memo.clear()
            self.score_memo.clear()
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
