"""The in-memory Store: the reference semantics, for unit tests and `memory://`.

Keeps every revision of every key until compaction, so reads at old revisions and
watches from old revisions behave exactly as on SQLite and etcd.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import AsyncIterator

from skiff.cluster.storage.cas import guaranteed_update
from skiff.cluster.storage.interface import (
    ADDED,
    DELETED,
    MODIFIED,
    Compacted,
    Event,
    FutureRevision,
    KeyExists,
    KeyNotFound,
    KeyValue,
    ListResult,
    RevisionConflict,
    StoreClosed,
    UpdateFn,
)
from skiff.cluster.storage.ring import EventRing


class MemoryStore:
    def __init__(self) -> None:
        self._rev = 1  # an empty etcd is at revision 1 too
        self._compacted = 0
        # key -> [(revision, KeyValue or None for a deletion)], oldest first
        self._history: dict[str, list[tuple[int, KeyValue | None]]] = {}
        self._keys: list[str] = []  # every key with history, sorted
        self._latest: dict[str, KeyValue] = {}
        self._ring = EventRing(self._rev, capacity=None)
        self._closed = False

    # reads

    def _check_read_revision(self, revision: int) -> int:
        if revision <= 0:
            return self._rev
        if revision < self._compacted:
            raise Compacted(revision, self._compacted)
        if revision > self._rev:
            raise FutureRevision(revision, self._rev)
        return revision

    def _at(self, key: str, revision: int) -> KeyValue | None:
        hist = self._history.get(key)
        if not hist:
            return None
        i = bisect_right(hist, revision, key=lambda h: h[0])
        return hist[i - 1][1] if i else None

    async def get(self, key: str, revision: int = 0) -> KeyValue:
        self._check_open()
        if revision <= 0:
            kv = self._latest.get(key)
        else:
            kv = self._at(key, self._check_read_revision(revision))
        if kv is None:
            raise KeyNotFound(key)
        return kv

    async def list(
        self, prefix: str, *, revision: int = 0, limit: int = 0, start_after: str = ""
    ) -> ListResult:
        self._check_open()
        rev = self._check_read_revision(revision)
        start = bisect_right(self._keys, start_after) if start_after >= prefix else bisect_left(self._keys, prefix)
        items: list[KeyValue] = []
        for key in self._keys[start:]:
            if not key.startswith(prefix):
                break
            kv = self._latest.get(key) if rev == self._rev else self._at(key, rev)
            if kv is None:
                continue
            if limit and len(items) == limit:
                return ListResult(items, rev, True)
            items.append(kv)
        return ListResult(items, rev, False)

    async def count(self, prefix: str) -> int:
        self._check_open()
        start = bisect_left(self._keys, prefix)
        n = 0
        for key in self._keys[start:]:
            if not key.startswith(prefix):
                break
            n += key in self._latest
        return n

    async def current_revision(self) -> int:
        return self._rev

    # writes

    def _record(self, key: str, kv: KeyValue | None, event: Event) -> None:
        self._rev = event.kv.mod_revision
        hist = self._history.get(key)
        if hist is None:
            hist = self._history[key] = []
            insort(self._keys, key)
        hist.append((self._rev, kv))
        if kv is None:
            self._latest.pop(key, None)
        else:
            self._latest[key] = kv
        self._ring.append([event])

    async def create(self, key: str, value: bytes) -> KeyValue:
        self._check_open()
        if key in self._latest:
            raise KeyExists(key)
        rev = self._rev + 1
        kv = KeyValue(key, bytes(value), rev, rev)
        self._record(key, kv, Event(ADDED, kv, None))
        return kv

    async def update(self, key: str, value: bytes, expected_mod_revision: int) -> KeyValue:
        self._check_open()
        cur = self._latest.get(key)
        if cur is None:
            raise KeyNotFound(key)
        if cur.mod_revision != expected_mod_revision:
            raise RevisionConflict(key, expected_mod_revision, cur)
        kv = KeyValue(key, bytes(value), cur.create_revision, self._rev + 1)
        self._record(key, kv, Event(MODIFIED, kv, cur))
        return kv

    async def guaranteed_update(self, key: str, fn: UpdateFn, *, ignore_not_found: bool = False) -> KeyValue:
        return await guaranteed_update(self, key, fn, ignore_not_found=ignore_not_found)

    async def delete(self, key: str, expected_mod_revision: int = 0) -> KeyValue:
        self._check_open()
        cur = self._latest.get(key)
        if cur is None:
            raise KeyNotFound(key)
        if expected_mod_revision and cur.mod_revision != expected_mod_revision:
            raise RevisionConflict(key, expected_mod_revision, cur)
        gone = KeyValue(key, cur.value, cur.create_revision, self._rev + 1)
        self._record(key, None, Event(DELETED, gone, cur))
        return gone

    # watch and maintenance

    def watch(self, prefix: str, from_revision: int) -> AsyncIterator[Event]:
        return self._watch(prefix, from_revision if from_revision > 0 else self._rev)

    async def _watch(self, prefix: str, from_revision: int) -> AsyncIterator[Event]:
        self._check_open()
        if from_revision < self._compacted:
            raise Compacted(from_revision, self._compacted)
        async for ev in self._ring.follow(prefix, from_revision):
            yield ev

    async def compact(self, revision: int) -> None:
        """Forget history older than `revision`; reads at `revision` and later still work."""
        self._check_open()
        revision = min(revision, self._rev)
        if revision <= self._compacted:
            return
        for key in list(self._history):
            hist = self._history[key]
            i = bisect_right(hist, revision, key=lambda h: h[0])
            # keep the entry in force at `revision` unless it is a deletion
            keep_from = i - 1 if i and hist[i - 1][1] is not None else i
            if keep_from > 0:
                del hist[:keep_from]
            if not hist:
                del self._history[key]
                self._keys.pop(bisect_left(self._keys, key))
        self._compacted = revision
        self._ring.trim_before(revision + 1)

    async def close(self) -> None:
        self._closed = True
        self._ring.close(StoreClosed())

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosed()
