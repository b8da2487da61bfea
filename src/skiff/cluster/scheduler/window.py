"""Node-local plugins' answers for one pod signature, in lists aligned with the snapshot's nodes.

A run of similar pods (a Deployment's replicas) asks the same questions of the same nodes
cycle after cycle; only the node the previous pod went to has changed. The cache records
every node change in a `ChangeFeed` (node name -> generation, in the order of the latest
change), so a window re-asks just the nodes changed since it last looked, and a cycle whose
nodes are all known to pass reads its candidates and their scores as list slices.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from skiff.cluster.scheduler.framework import OK, Snapshot, Status


class ChangeFeed:
    """Node names in the order of their latest change, with the node's generation after it."""

    def __init__(self) -> None:
        self.latest: dict[str, int] = {}

    def touched(self, name: str, generation: int) -> None:
        self.latest.pop(name, None)
        self.latest[name] = generation

    @property
    def mark(self) -> int:
        """The newest generation recorded: a window refreshed now has seen everything up to it."""
        return next(reversed(self.latest.values()), 0)

    def since(self, mark: int) -> list[str]:
        """Names changed after `mark` (generations grow, so the newest entries come last)."""
        out = []
        for name, generation in reversed(self.latest.items()):
            if generation <= mark:
                break
            out.append(name)
        return out


def ranges(start: int, count: int, n: int) -> list[tuple[int, int]]:
    """The node indices start, start+1, ... (count of them, wrapping at n) as half-open ranges."""
    end = start + count
    return [(start, end)] if end <= n else [(start, n), (0, end - n)]


class FilterWindow:
    """Filter statuses per node index (None: not asked yet), how many are unknown, and the
    indices that fail."""

    def __init__(self, snapshot: Snapshot, mark: int):
        n = len(snapshot.nodes)
        self.snapshot = snapshot
        self.mark = mark
        self.status: list[Status | None] = [None] * n
        self.unknown = n
        self.failing: set[int] = set()

    @property
    def pending(self) -> bool:
        """Whether some node is not known to pass."""
        return bool(self.unknown or self.failing)

    def put(self, i: int, st: Status) -> None:
        if self.status[i] is None:
            self.unknown -= 1
        self.status[i] = st
        if st is OK:
            self.failing.discard(i)
        else:
            self.failing.add(i)

    def refresh(self, feed: ChangeFeed, ask: Callable[[int], Status]) -> None:
        """Re-ask the nodes that changed since the last refresh (those already asked)."""
        index = self.snapshot.index
        for name in feed.since(self.mark):
            i = index.get(name)
            if i is not None and self.status[i] is not None:
                self.put(i, ask(i))
        self.mark = feed.mark


class ScoreWindow:
    """Raw scores per node index, with the weighted sum of the scorers that need no normalizing
    (`plain`) and one column per normalizing scorer, so a window of nodes is a few slices."""

    def __init__(self, snapshot: Snapshot, mark: int, plain: list[tuple[int, int]], normalized: list[int]):
        n = len(snapshot.nodes)
        self.snapshot = snapshot
        self.mark = mark
        self.weights = plain  # (scorer position, weight) of the scorers summed as they are
        self.normalized = normalized  # scorer positions of the normalizing scorers
        self.raw: list[tuple[int, ...] | None] = [None] * n
        self.plain: list[int] = [0] * n
        self.columns: list[list[int]] = [[0] * n for _ in normalized]
        # per normalized column, how many nodes score non-zero: none (no preferred terms, no
        # soft taints anywhere) means the column is constant and changes no ranking
        self.nonzero: list[int] = [0] * len(normalized)

    def put(self, i: int, raw: tuple[int, ...]) -> None:
        self.raw[i] = raw
        self.plain[i] = sum(raw[j] * w for j, w in self.weights)
        for k, j in enumerate(self.normalized):
            column = self.columns[k]
            old, new = column[i], raw[j]
            if old != new:
                self.nonzero[k] += (new != 0) - (old != 0)
                column[i] = new

    def refresh(self, feed: ChangeFeed, ask: Callable[[int], tuple[int, ...]]) -> None:
        index = self.snapshot.index
        for name in feed.since(self.mark):
            i = index.get(name)
            if i is not None and self.raw[i] is not None:
                self.put(i, ask(i))
        self.mark = feed.mark

    def fill(self, lo: int, hi: int, ask: Callable[[int], tuple[int, ...]]) -> None:
        """Ask the nodes lo..hi-1 not asked yet."""
        if None in self.raw[lo:hi]:
            for i in range(lo, hi):
                if self.raw[i] is None:
                    self.put(i, ask(i))

    @staticmethod
    def cut(values: list[Any], spans: list[tuple[int, int]]) -> list[Any]:
        (lo, hi), *rest = spans
        if not rest:
            return values[lo:hi]
        return values[lo:hi] + values[rest[0][0]:rest[0][1]]
