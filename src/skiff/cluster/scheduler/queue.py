"""The scheduling queue: active (a heap ordered by the queue-sort plugin), backoff (pods waiting
out their retry delay) and unschedulable (pods parked until the cluster changes).

As kube-scheduler's PriorityQueue: a failed pod goes to unschedulable, unless a cluster event
arrived while it was being scheduled (then to backoff, since that event may have helped); a
cluster event moves every unschedulable pod to backoff or, once its delay is over, to active;
pods parked longer than `max_unschedulable` are retried anyway.
"""

from __future__ import annotations

import asyncio
import heapq
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from skiff.cluster.scheduler.nodeinfo import PodInfo

INITIAL_BACKOFF = 1.0  # seconds, doubling per failed attempt
MAX_BACKOFF = 10.0
MAX_UNSCHEDULABLE = 300.0  # podMaxInUnschedulablePodsDuration


@dataclass(eq=False)
class QueuedPodInfo:
    pod: PodInfo
    timestamp: float  # when it (re-)entered the queue; the queue sort's tie-breaker
    attempts: int = 0
    first_attempt: float | None = None
    unschedulable_plugins: set[str] = field(default_factory=set)

    @property
    def key(self) -> str:
        return self.pod.key


class _Entry:
    __slots__ = ("info", "less")

    def __init__(self, info: QueuedPodInfo, less: Callable[[Any, Any], bool]):
        self.info, self.less = info, less

    def __lt__(self, other: _Entry) -> bool:
        return self.less(self.info, other.info)


class SchedulingQueue:
    def __init__(self, less: Callable[[Any, Any], bool], clock: Callable[[], float] = time.monotonic):
        self.less = less
        self.clock = clock
        self._heap: list[_Entry] = []
        self.active: dict[str, QueuedPodInfo] = {}
        self.backoff: dict[str, QueuedPodInfo] = {}
        self.unschedulable: dict[str, QueuedPodInfo] = {}
        self.in_flight: set[str] = set()
        self.scheduling_cycle = 0
        self.move_request_cycle = -1
        self._wake = asyncio.Event()
        self.closed = False

    def __len__(self) -> int:
        return len(self.active) + len(self.backoff) + len(self.unschedulable)

    def _push_active(self, info: QueuedPodInfo) -> None:
        self.active[info.key] = info
        heapq.heappush(self._heap, _Entry(info, self.less))
        self._wake.set()

    def add(self, pod: PodInfo) -> None:
        """A new pending pod (or one seen again after a relist)."""
        key = pod.key
        if key in self.in_flight:
            return
        for sub in (self.backoff, self.unschedulable):
            old = sub.pop(key, None)
            if old is not None:
                old.pod = pod
                self._push_active(old)
                return
        old = self.active.get(key)
        if old is not None:
            old.pod = pod  # same heap entry, newer object
            return
        self._push_active(QueuedPodInfo(pod, self.clock()))

    def update(self, pod: PodInfo) -> None:
        """The pod object changed: an unschedulable pod may fit now, so it is retried."""
        key = pod.key
        for sub in (self.active, self.backoff):
            if key in sub:
                sub[key].pod = pod
                return
        info = self.unschedulable.pop(key, None)
        if info is not None:
            info.pod = pod
            self._to_backoff_or_active(info)
        elif key not in self.in_flight:
            self.add(pod)

    def delete(self, key: str) -> None:
        self.active.pop(key, None)  # its heap entry is skipped when popped
        self.backoff.pop(key, None)
        self.unschedulable.pop(key, None)

    def backoff_until(self, info: QueuedPodInfo) -> float:
        delay = min(INITIAL_BACKOFF * 2 ** max(info.attempts - 1, 0), MAX_BACKOFF)
        return info.timestamp + delay

    def _to_backoff_or_active(self, info: QueuedPodInfo) -> None:
        if self.backoff_until(info) > self.clock():
            self.backoff[info.key] = info
        else:
            self._push_active(info)

    def pop_nowait(self) -> QueuedPodInfo | None:
        while self._heap:
            info = heapq.heappop(self._heap).info
            if self.active.get(info.key) is not info:
                continue  # deleted or replaced since it was pushed
            del self.active[info.key]
            info.attempts += 1
            if info.first_attempt is None:
                info.first_attempt = self.clock()
            self.scheduling_cycle += 1
            self.in_flight.add(info.key)
            return info
        self._wake.clear()
        return None

    async def pop(self) -> QueuedPodInfo:
        while True:
            info = self.pop_nowait()
            if info is not None:
                return info
            if self.closed:
                raise asyncio.CancelledError
            await self._wake.wait()

    def done(self, key: str) -> None:
        """The pod left the scheduling cycle (bound, assumed or requeued)."""
        self.in_flight.discard(key)

    def add_unschedulable(self, info: QueuedPodInfo, cycle: int) -> None:
        """A pod that failed in scheduling cycle `cycle`."""
        self.in_flight.discard(info.key)
        info.timestamp = self.clock()
        if self.move_request_cycle >= cycle:
            self._to_backoff_or_active(info)
        else:
            self.unschedulable[info.key] = info

    def add_backoff(self, info: QueuedPodInfo) -> None:
        """A pod whose cycle erred (e.g. its binding failed): retried after its delay."""
        self.in_flight.discard(info.key)
        info.timestamp = self.clock()
        self.backoff[info.key] = info

    def move_all(self) -> None:
        """A cluster event (node added/changed, pod removed...) may make parked pods fit."""
        parked = list(self.unschedulable.values())
        self.unschedulable.clear()
        for info in parked:
            self._to_backoff_or_active(info)
        self.move_request_cycle = self.scheduling_cycle

    def flush(self) -> None:
        """Move finished back-offs to active, and retry pods parked too long (called each second)."""
        now = self.clock()
        for key, info in list(self.backoff.items()):
            if self.backoff_until(info) <= now:
                del self.backoff[key]
                self._push_active(info)
        for key, info in list(self.unschedulable.items()):
            if now - info.timestamp > MAX_UNSCHEDULABLE:
                del self.unschedulable[key]
                self._to_backoff_or_active(info)

    def close(self) -> None:
        self.closed = True
        self._wake.set()
