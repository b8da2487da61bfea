"""An in-memory, revision-ordered buffer of recent events that many watchers follow.

One writer appends committed events in revision order; any number of readers keep a
cursor (the last revision they saw) and read what came after it. Fan-out costs one
wake-up per reader per batch, not one queue put per reader per event, which is what lets
a thousand watchers share one backend watch.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_right
from collections.abc import AsyncIterator

from skiff.cluster.storage.interface import Compacted, Event, KeyValue


class RingTooOld(Compacted):
    """The cursor is older than the oldest event the ring still holds.

    A Compacted (410) to whoever cannot look further back; the SQLite store catches it and
    reads the missing stretch from its log instead.
    """

    def __init__(self, revision: int, oldest: int):
        super().__init__(revision, oldest)
        self.oldest = oldest


class EventRing:
    def __init__(self, start_revision: int, capacity: int | None = 10_000):
        # The ring holds every event with revision > self.base.
        self.base = start_revision
        self.revision = start_revision
        self.capacity = capacity
        self._events: list[Event] = []
        self._revs: list[int] = []
        self._changed: asyncio.Future[None] | None = None
        self._closed: BaseException | None = None

    def append(self, events: list[Event]) -> None:
        """Add events (revision-ordered, all newer than self.revision) and wake readers."""
        if not events:
            return
        for ev in events:
            self._events.append(ev)
            self._revs.append(ev.kv.mod_revision)
        self.revision = self._revs[-1]
        if self.capacity is not None and len(self._events) > 2 * self.capacity:
            self.trim_before(self._revs[len(self._revs) - self.capacity])
        self._wake()

    def trim_before(self, revision: int) -> None:
        """Forget events with revision < `revision` (the ring then holds all events > revision-1)."""
        cut = bisect_right(self._revs, revision - 1)
        del self._events[:cut]
        del self._revs[:cut]
        self.base = max(self.base, min(revision - 1, self.revision))

    def read_after(self, revision: int) -> list[Event]:
        if revision < self.base:
            raise RingTooOld(revision, self.base)
        i = bisect_right(self._revs, revision)
        return self._events[i:]

    def close(self, exc: BaseException) -> None:
        """Stop every reader: the next wait raises `exc`."""
        self._closed = exc
        self._wake()

    def _wake(self) -> None:
        fut, self._changed = self._changed, None
        if fut is not None and not fut.done():
            fut.set_result(None)

    async def wait_after(self, revision: int, timeout: float | None = None) -> bool:
        """Wait until the ring is newer than `revision`; False on timeout."""
        while self.revision <= revision:
            if self._closed is not None:
                raise self._closed
            if self._changed is None:
                self._changed = asyncio.get_running_loop().create_future()
            try:
                await asyncio.wait_for(asyncio.shield(self._changed), timeout)
            except TimeoutError:
                return False
        if self._closed is not None:
            raise self._closed
        return True

    async def follow(
        self, prefix: str, from_revision: int, progress_interval: float = 0.0
    ) -> AsyncIterator[Event]:
        """Every event under `prefix` after `from_revision`, forever.

        With `progress_interval`, an idle reader gets a BOOKMARK event (kv.mod_revision =
        the revision through which it has seen everything) at that interval.
        """
        async for batch in self.follow_batches(prefix, from_revision, progress_interval):
            for ev in batch:
                yield ev

    async def follow_batches(
        self, prefix: str, from_revision: int, progress_interval: float = 0.0
    ) -> AsyncIterator[list[Event]]:
        """As `follow`, in lists: whatever arrived since the reader's last step in one go, so
        a thousand watchers of a burst resume once per batch, not once per event."""
        rev = from_revision
        while True:
            head = self.revision  # the batch holds every event up to head (no await between)
            batch = [ev for ev in self.read_after(rev) if ev.kv.key.startswith(prefix)]
            rev = max(rev, head)
            if batch:
                yield batch
            if self._closed is not None:
                raise self._closed
            got = await self.wait_after(rev, progress_interval or None)
            if not got:
                yield [bookmark(prefix, rev)]


def bookmark(prefix: str, revision: int) -> Event:
    return Event("BOOKMARK", KeyValue(prefix, b"", 0, revision), None)
