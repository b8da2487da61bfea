"""InterPodAffinity: required pod affinity / anti-affinity (the incoming pod's and, symmetrically,
the existing pods' anti-affinity) filter by topology domain; preferred terms score.

Term namespaces: `namespaces`, else the owner's namespace; a `namespaceSelector` is matched
against the namespace's kubernetes.io/metadata.name label (the one label every namespace has).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from skiff.cluster.apimachinery.selectors import LabelSelector
from skiff.cluster.scheduler.framework import (
    MAX_NODE_SCORE,
    OK,
    SKIP,
    CycleState,
    Snapshot,
    Status,
    unschedulable,
)
from skiff.cluster.scheduler.nodeinfo import NodeInfo, PodInfo

AFFINITY_REASON = "node(s) didn't match pod affinity rules"
ANTI_AFFINITY_REASON = "node(s) didn't match pod anti-affinity rules"
EXISTING_ANTI_REASON = "node(s) didn't satisfy existing pods anti-affinity rules"
HARD_POD_AFFINITY_WEIGHT = 1
REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"


class Term:
    """One PodAffinityTerm of an owner pod, parsed once."""

    def __init__(self, term: dict[str, Any], owner: PodInfo):
        self.topology_key = term.get("topologyKey") or ""
        self.selector = LabelSelector.from_object(term.get("labelSelector"))
        self.namespaces = set(term.get("namespaces") or [])
        ns_sel = term.get("namespaceSelector")
        self.ns_selector = LabelSelector.from_object(ns_sel) if ns_sel is not None else None
        if not self.namespaces and self.ns_selector is None:
            self.namespaces = {owner.namespace}

    def matches(self, pod: PodInfo) -> bool:
        if pod.namespace not in self.namespaces and not (
                self.ns_selector is not None
                and self.ns_selector.matches({"kubernetes.io/metadata.name": pod.namespace})):
            return False
        return self.selector.matches(pod.labels)


def terms(pod: PodInfo, kind: str, when: str) -> list[Term]:
    return [Term(t, pod) for t in (pod.affinity.get(kind) or {}).get(when) or []]


def weighted(pod: PodInfo, kind: str) -> list[tuple[int, Term]]:
    return [(int(w.get("weight") or 0), Term(w.get("podAffinityTerm") or {}, pod))
            for w in (pod.affinity.get(kind) or {}).get(PREFERRED) or []]


def all_pods(snapshot: Snapshot):
    for node in snapshot.nodes:
        for pod in node.pods.values():
            yield pod, node


class InterPodAffinity:
    name = "InterPodAffinity"
    weight = 2

    def pre_filter(self, state: CycleState, pod: PodInfo, snapshot: Snapshot) -> Status:
        existing: set[tuple[str, str]] = set()
        for other, node in snapshot.affinity_pods():
            for term in terms(other, "podAntiAffinity", REQUIRED):
                value = node.labels.get(term.topology_key)
                if value is not None and term.matches(pod):
                    existing.add((term.topology_key, value))
        affinity, anti = terms(pod, "podAffinity", REQUIRED), terms(pod, "podAntiAffinity", REQUIRED)
        affinity_counts: list[dict[str, int]] = [defaultdict(int) for _ in affinity]
        anti_counts: list[dict[str, int]] = [defaultdict(int) for _ in anti]
        if affinity or anti:
            for other, node in all_pods(snapshot):
                for t, counts in zip(affinity + anti, affinity_counts + anti_counts, strict=True):
                    value = node.labels.get(t.topology_key)
                    if value is not None and t.matches(other):
                        counts[value] += 1
        if not existing and not affinity and not anti:
            return Status(SKIP)
        self_match = all(t.matches(pod) for t in affinity)
        state[self.name] = (existing, affinity, affinity_counts, anti, anti_counts, self_match)
        return OK

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status:
        existing, affinity, affinity_counts, anti, anti_counts, self_match = state[self.name]
        for key, value in existing:
            if node.labels.get(key) == value:
                return unschedulable(EXISTING_ANTI_REASON)
        for t, counts in zip(anti, anti_counts, strict=True):
            value = node.labels.get(t.topology_key)
            if value is not None and counts.get(value):
                return unschedulable(ANTI_AFFINITY_REASON)
        for t, counts in zip(affinity, affinity_counts, strict=True):
            value = node.labels.get(t.topology_key)
            if value is None or not counts.get(value):
                # the first pod of a group that selects itself may go anywhere the key exists
                if value is not None and self_match and not any(affinity_counts):
                    continue
                return unschedulable(AFFINITY_REASON, resolvable=False)
        return OK

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo], snapshot: Snapshot) -> Status:
        mine = ([(w, t) for w, t in weighted(pod, "podAffinity")]
                + [(-w, t) for w, t in weighted(pod, "podAntiAffinity")])
        others = snapshot.affinity_pods()
        if not mine and not others:
            return Status(SKIP)
        scores: dict[tuple[str, str], int] = defaultdict(int)
        if mine:
            for other, node in all_pods(snapshot):
                for w, t in mine:
                    value = node.labels.get(t.topology_key)
                    if value is not None and t.matches(other):
                        scores[(t.topology_key, value)] += w
        for other, node in others:  # symmetry: existing pods' terms that select the incoming pod
            theirs = ([(HARD_POD_AFFINITY_WEIGHT, t) for t in terms(other, "podAffinity", REQUIRED)]
                      + weighted(other, "podAffinity") + [(-w, t) for w, t in weighted(other, "podAntiAffinity")])
            for w, t in theirs:
                value = node.labels.get(t.topology_key)
                if value is not None and t.matches(pod):
                    scores[(t.topology_key, value)] += w
        keys = {k for k, _ in scores}
        state[self.name + "/score"] = (scores, keys)
        return OK

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        scores, keys = state[self.name + "/score"]
        return sum(scores.get((k, node.labels[k]), 0) for k in keys if k in node.labels)

    def normalize(self, state: CycleState, pod: PodInfo, scores: list[int]) -> None:
        low, high = min(scores, default=0), max(scores, default=0)
        scores[:] = [MAX_NODE_SCORE * (s - low) // (high - low) if high > low else 0 for s in scores]
