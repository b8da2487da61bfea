"""The scheduling framework: one protocol per extension point and the plugin list that runs them.

A plugin implements any of the protocols below; `Framework` sorts its plugins by the points
they implement (checked structurally) and runs each point in plugin-list order, as
kube-scheduler's framework runtime does. Filter statuses carry Kubernetes' reason strings,
which the failure message counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from skiff.cluster.scheduler.nodeinfo import NodeInfo, PodInfo

SUCCESS, ERROR, UNSCHEDULABLE, UNRESOLVABLE, WAIT, SKIP = (
    "Success", "Error", "Unschedulable", "UnschedulableAndUnresolvable", "Wait", "Skip")
MAX_NODE_SCORE = 100


@dataclass
class Status:
    code: str = SUCCESS
    reasons: list[str] = field(default_factory=list)
    plugin: str = ""

    @property
    def ok(self) -> bool:
        return self.code == SUCCESS

    @property
    def message(self) -> str:
        return ", ".join(self.reasons)


OK = Status()


def unschedulable(*reasons: str, resolvable: bool = True) -> Status:
    return Status(UNSCHEDULABLE if resolvable else UNRESOLVABLE, list(reasons))


class CycleState(dict[str, Any]):
    """Per-cycle data plugins compute once (pre-filter, pre-score) and read per node; `filters`
    and `scorers` are the plugins not skipped this cycle."""

    filters: list[Any]
    scorers: list[Any]


class Snapshot:
    """The nodes as one cycle sees them. `nodes` keeps the cache's order, stable between cycles."""

    def __init__(self, nodes: Sequence[NodeInfo], image_nodes: dict[str, int] | None = None,
                 affinity_index: dict[str, str] | None = None,
                 nominated: dict[str, dict[str, PodInfo]] | None = None, changes: Any = None):
        self.nodes = list(nodes)
        self.index = {n.name: i for i, n in enumerate(self.nodes)}
        self.changes = changes  # the cache's window.ChangeFeed: which nodes changed since when
        # node -> unbound pods preemption nominated to it (the cache's own dict: stays current)
        self.nominated = nominated if nominated is not None else {}
        self.affinity_index = affinity_index  # pod key -> node, for pods with pod (anti-)affinity
        if image_nodes is None:
            image_nodes = {}
            for n in self.nodes:
                for image in n.images:
                    image_nodes[image] = image_nodes.get(image, 0) + 1
        self.image_nodes = image_nodes  # image -> number of nodes holding it
        self.by_name = {n.name: n for n in self.nodes}
        self._affinity: list[tuple[PodInfo, NodeInfo]] | None = None

    def get(self, name: str) -> NodeInfo | None:
        return self.by_name.get(name)

    def refresh(self) -> None:
        """A new cycle over the same nodes: per-cycle derived lists are recomputed."""
        self._affinity = None

    def affinity_pods(self) -> list[tuple[PodInfo, NodeInfo]]:
        """Pods carrying pod (anti-)affinity terms, with their nodes (computed once per snapshot)."""
        if self._affinity is None:
            if self.affinity_index is None:
                self._affinity = [(p, n) for n in self.nodes if n.affinity_pods for p in n.affinity_pods.values()]
            else:  # from the cache's index: no walk over every node
                self._affinity = [(n.affinity_pods[k], n) for k, name in self.affinity_index.items()
                                  if (n := self.by_name.get(name)) is not None and k in n.affinity_pods]
        return self._affinity


@runtime_checkable
class QueueSortPlugin(Protocol):
    def less(self, a: Any, b: Any) -> bool: ...


@runtime_checkable
class PreFilterPlugin(Protocol):
    def pre_filter(self, state: CycleState, pod: PodInfo, snapshot: Snapshot) -> Status: ...


@runtime_checkable
class FilterPlugin(Protocol):
    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status: ...


@runtime_checkable
class PostFilterPlugin(Protocol):
    def post_filter(self, state: CycleState, pod: PodInfo, snapshot: Snapshot,
                    statuses: dict[str, Status]) -> tuple[str, Status]: ...


@runtime_checkable
class PreScorePlugin(Protocol):
    def pre_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo], snapshot: Snapshot) -> Status: ...


@runtime_checkable
class ScorePlugin(Protocol):
    weight: int

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int: ...


@runtime_checkable
class ScoreNormalizer(Protocol):
    def normalize(self, state: CycleState, pod: PodInfo, scores: list[int]) -> None: ...


@runtime_checkable
class ReservePlugin(Protocol):
    def reserve(self, state: CycleState, pod: PodInfo, node: str) -> Status: ...

    def unreserve(self, state: CycleState, pod: PodInfo, node: str) -> None: ...


@runtime_checkable
class PermitPlugin(Protocol):
    def permit(self, state: CycleState, pod: PodInfo, node: str) -> Status: ...


@runtime_checkable
class PreBindPlugin(Protocol):
    async def pre_bind(self, state: CycleState, pod: PodInfo, node: str) -> Status: ...


@runtime_checkable
class BindPlugin(Protocol):
    async def bind(self, state: CycleState, pod: PodInfo, node: str) -> Status: ...


def default_normalize(scores: list[int], reverse: bool = False) -> None:
    """Scale to 0..100 by the highest score, in place (kube's DefaultNormalizeScore)."""
    top = max(scores, default=0)
    if top == 0:
        scores[:] = [MAX_NODE_SCORE if reverse else 0] * len(scores)
    elif reverse:
        scores[:] = [MAX_NODE_SCORE - MAX_NODE_SCORE * s // top for s in scores]
    else:
        scores[:] = [MAX_NODE_SCORE * s // top for s in scores]


class Framework:
    def __init__(self, plugins: Sequence[Any]):
        self.plugins = list(plugins)

        def having(proto: type) -> list[Any]:
            return [p for p in self.plugins if isinstance(p, proto)]

        sorters = having(QueueSortPlugin)
        if len(sorters) != 1:
            raise ValueError("exactly one queue sort plugin must be enabled")
        self.queue_sort = sorters[0]
        self.pre_filters = having(PreFilterPlugin)
        self.filters = having(FilterPlugin)
        self.post_filters = having(PostFilterPlugin)
        self.pre_scores = having(PreScorePlugin)
        self.scorers = having(ScorePlugin)
        self.normalizers = {p.name for p in self.scorers if isinstance(p, ScoreNormalizer)}  # type: ignore[attr-defined]
        self.reservers = having(ReservePlugin)
        self.permits = having(PermitPlugin)
        self.pre_binds = having(PreBindPlugin)
        self.binders = having(BindPlugin)

    def plugin(self, name: str) -> Any:
        return next((p for p in self.plugins if getattr(p, "name", "") == name), None)

    def run_pre_filter(self, state: CycleState, pod: PodInfo, snapshot: Snapshot) -> Status:
        """Runs the pre-filters; the filters of plugins that answered Skip are left out this cycle."""
        skipped = set()
        for p in self.pre_filters:
            st = p.pre_filter(state, pod, snapshot)
            if st.code == SKIP:
                skipped.add(p.name)
                continue
            if not st.ok:
                st.plugin = p.name
                return st
        state.filters = [p for p in self.filters if p.name not in skipped]
        return OK

    def run_filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status:
        for p in state.filters:
            st = p.filter(state, pod, node)
            if st.code != SUCCESS:
                st.plugin = p.name
                return st
        return OK

    def run_post_filter(self, state: CycleState, pod: PodInfo, snapshot: Snapshot,
                        statuses: dict[str, Status]) -> tuple[str, Status]:
        last = unschedulable()
        for p in self.post_filters:
            nominated, st = p.post_filter(state, pod, snapshot, statuses)
            if st.ok:
                return nominated, st
            last = st
        return "", last

    def run_pre_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo], snapshot: Snapshot) -> None:
        """Runs the pre-scores; scorers of plugins that answered Skip are left out this cycle."""
        skipped = set()
        for p in self.pre_scores:
            if p.pre_score(state, pod, nodes, snapshot).code == SKIP:
                skipped.add(p.name)
        state.scorers = [p for p in self.scorers if p.name not in skipped]

    @staticmethod
    def raw_scores(state: CycleState, pod: PodInfo, node: NodeInfo) -> tuple[int, ...]:
        return tuple(p.score(state, pod, node) for p in state.scorers)

    def combine(self, state: CycleState, pod: PodInfo, names: list[str], raws: list[tuple[int, ...]]) -> dict[str, int]:
        """Normalize each scorer's column over the nodes, then the weighted sum per node."""
        totals = [0] * len(names)
        if state.scorers:
            for p, column in zip(state.scorers, zip(*raws, strict=True), strict=True):
                scores = list(column)
                if p.name in self.normalizers:
                    p.normalize(state, pod, scores)
                w = p.weight
                totals = [t + s * w for t, s in zip(totals, scores, strict=True)]
        return dict(zip(names, totals, strict=True))

    def run_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo], snapshot: Snapshot) -> dict[str, int]:
        """Total weighted score per node name."""
        self.run_pre_score(state, pod, nodes, snapshot)
        return self.combine(state, pod, [n.name for n in nodes], [self.raw_scores(state, pod, n) for n in nodes])

    @staticmethod
    def node_local(plugins: list[Any]) -> bool:
        """True when every plugin's answer depends only on the pod and the one node (memoizable)."""
        return all(getattr(p, "node_local", False) for p in plugins)

    def run_reserve(self, state: CycleState, pod: PodInfo, node: str) -> Status:
        for i, p in enumerate(self.reservers):
            st = p.reserve(state, pod, node)
            if not st.ok:
                for q in reversed(self.reservers[:i + 1]):
                    q.unreserve(state, pod, node)
                st.plugin = p.name
                return st
        return OK

    def run_unreserve(self, state: CycleState, pod: PodInfo, node: str) -> None:
        for p in reversed(self.reservers):
            p.unreserve(state, pod, node)

    def run_permit(self, state: CycleState, pod: PodInfo, node: str) -> Status:
        for p in self.permits:
            st = p.permit(state, pod, node)
            if not st.ok:
                st.plugin = p.name
                return st
        return OK

    async def run_pre_bind(self, state: CycleState, pod: PodInfo, node: str) -> Status:
        for p in self.pre_binds:
            st = await p.pre_bind(state, pod, node)
            if not st.ok:
                st.plugin = p.name
                return st
        return OK

    async def run_bind(self, state: CycleState, pod: PodInfo, node: str) -> Status:
        for p in self.binders:
            st = await p.bind(state, pod, node)
            if st.code != SKIP:
                st.plugin = p.name
                return st
        return Status(ERROR, ["no bind plugin bound the pod"])
