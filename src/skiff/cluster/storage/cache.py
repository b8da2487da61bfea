"""The watch cache: the API server's in-memory copy of everything under one key root.

Like Kubernetes' cacher, it lists the root once, then follows it with a single backend
watch, keeping the newest state of every key and a ring of recent events. Lists and
watches are then served from memory and never each reach the backend:

- `list(prefix)` (revision 0) is a consistent read: it asks the backend for its current
  revision (cheap) and waits until the cache has caught up to it, then answers from memory.
  `min_revision=N` is Kubernetes' resourceVersion=N "not older than" read (N=0: whatever
  the cache has), answered from memory as soon as the cache reaches N.
- `list(prefix, revision=R)` (an exact read, e.g. a continue page) is answered from memory
  when the cache is at R, else by the backend.
- `watch(prefix, R)` follows the ring: every event after R in order, BOOKMARKs when idle if
  asked; R older than the ring raises `Compacted` (410, "too old resource version").
- `revision` is the revision through which the cache has applied every event: what a
  BOOKMARK may announce.

Writes pass straight to the backend; their events come back through the watch.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import logging
from bisect import bisect_left, bisect_right, insort
from collections.abc import AsyncIterator

from skiff.cluster.storage.interface import (
    DELETED,
    Compacted,
    Event,
    FutureRevision,
    KeyNotFound,
    KeyValue,
    ListResult,
    Store,
    StoreClosed,
    UpdateFn,
)
from skiff.cluster.storage.keys import prefix_end
from skiff.cluster.storage.ring import EventRing

log = logging.getLogger(__name__)

NOT_OLDER_THAN_WAIT = 3.0  # Kubernetes waits 3 s for a "not older than" revision, then 504
# A consistent read waits this long for the cache to reach the backend's revision; longer
# means writes outside the cached root moved the revision: the backend answers instead.
CONSISTENT_WAIT = 0.5


class CachedStore:
    def __init__(self, store: Store, root: str = "/registry/", capacity: int = 50_000):
        self.store = store
        self.root = root
        self.capacity = capacity
        self._objects: dict[str, KeyValue] = {}
        self._keys: list[str] = []
        self._ring = EventRing(0, capacity)
        self._task: asyncio.Task[None] | None = None
        self._ready: asyncio.Event | None = None
        self._written = 0  # the newest revision of a write made through this cache

    @property
    def revision(self) -> int:
        return self._ring.revision

    async def start(self) -> None:
        if self._ready is None:
            self._ready = asyncio.Event()
            await self._load()
            self._task = asyncio.create_task(self._follow(), name="watch-cache")
            self._ready.set()
        await self._ready.wait()

    async def _load(self) -> None:
        items: list[KeyValue] = []
        first = await self.store.list(self.root, limit=5000)
        items += first.items
        page = first
        while page.more:
            page = await self.store.list(self.root, revision=first.revision, limit=5000,
                                         start_after=page.items[-1].key)
            items += page.items
        self._objects = {kv.key: kv for kv in items}
        self._keys = [kv.key for kv in items]  # the backend lists in key order
        self._ring = EventRing(first.revision, self.capacity)

    async def _follow(self) -> None:
        backoff = 0.05
        relist: Compacted | None = None
        while True:
            try:
                if relist is not None:
                    # We lost history: start over, and tell every watcher to re-list (410).
                    old = self._ring
                    await self._load()
                    old.close(relist)
                    relist = None
                async for ev in self.store.watch(self.root, self._ring.revision):
                    self._apply(ev)
                    backoff = 0.05
            except asyncio.CancelledError:
                raise
            except Compacted as e:
                relist = Compacted(e.revision, e.compact_revision)
            except StoreClosed as e:
                self._ring.close(e)  # the backend is gone: so are our watches
                return
            except Exception as e:  # e.g. etcd restarting: resume from our revision
                log.warning("watch cache: backend watch failed (%s); resuming from %d", e, self._ring.revision)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)

    def _apply(self, ev: Event) -> None:
        key = ev.kv.key
        if ev.type == DELETED:
            if self._objects.pop(key, None) is not None:
                del self._keys[bisect_left(self._keys, key)]
        else:
            if key not in self._objects:
                insort(self._keys, key)
            self._objects[key] = ev.kv
        self._ring.append([ev])

    async def _catch_up(self, revision: int, timeout: float) -> bool:
        """Wait until the cache has applied `revision`; False if it did not within `timeout`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._ring.revision < revision:
            left = deadline - loop.time()
            if left <= 0 or not await self._ring.wait_after(self._ring.revision, left):
                return self._ring.revision >= revision
        return True

    def _from_memory(self, prefix: str, limit: int, start_after: str) -> ListResult:
        keys = self._keys
        i = bisect_right(keys, start_after) if start_after >= prefix else bisect_left(keys, prefix)
        items: list[KeyValue] = []
        for key in keys[i:]:
            if not key.startswith(prefix):
                break
            if limit and len(items) == limit:
                return ListResult(items, self._ring.revision, True)
            items.append(self._objects[key])
        return ListResult(items, self._ring.revision, False)

    # reads

    async def list(self, prefix: str, *, revision: int = 0, limit: int = 0, start_after: str = "",
                   min_revision: int | None = None) -> ListResult:
        await self.start()
        if not prefix.startswith(self.root):
            return await self.store.list(prefix, revision=revision, limit=limit, start_after=start_after)
        if revision > 0:
            if revision == self._ring.revision:
                return self._from_memory(prefix, limit, start_after)
            return await self.store.list(prefix, revision=revision, limit=limit, start_after=start_after)
        if min_revision is None:
            if not await self._catch_up(await self.store.current_revision(), CONSISTENT_WAIT):
                return await self.store.list(prefix, limit=limit, start_after=start_after)
        elif not await self._catch_up(min_revision, NOT_OLDER_THAN_WAIT):
            raise FutureRevision(min_revision, self._ring.revision)
        return self._from_memory(prefix, limit, start_after)

    async def get(self, key: str, revision: int = 0, *, min_revision: int | None = None) -> KeyValue:
        """A consistent read goes to the backend (as Kubernetes does); `min_revision` reads memory."""
        if min_revision is None or not key.startswith(self.root):
            return await self.store.get(key, revision)
        await self.start()
        if not await self._catch_up(min_revision, NOT_OLDER_THAN_WAIT):
            raise FutureRevision(min_revision, self._ring.revision)
        kv = self._objects.get(key)
        if kv is None:
            raise KeyNotFound(key)
        return kv

    async def count(self, prefix: str) -> int:
        if not prefix.startswith(self.root):
            return await self.store.count(prefix)
        await self.start()
        if not await self._catch_up(await self.store.current_revision(), CONSISTENT_WAIT):
            return await self.store.count(prefix)
        return bisect_left(self._keys, _after_prefix(prefix)) - bisect_left(self._keys, prefix)

    async def current_revision(self) -> int:
        return await self.store.current_revision()

    def watch(self, prefix: str, from_revision: int, *, progress_interval: float = 0.0) -> AsyncIterator[Event]:
        """Events under `prefix` after `from_revision` (0: from now); BOOKMARKs every
        `progress_interval` seconds of quiet when asked."""
        if from_revision <= 0 and self._ready is not None:
            # "now", fixed when watch() is called: our own writes count even before their
            # events come back through the backend watch
            from_revision = max(self._ring.revision, self._written)
        return self._watch(prefix, from_revision, progress_interval)

    def watch_batches(self, prefix: str, from_revision: int, *,
                      progress_interval: float = 0.0) -> AsyncIterator[builtins.list[Event]]:
        """`watch` in lists of events (see EventRing.follow_batches): what fan-out to many watchers reads."""
        if from_revision <= 0 and self._ready is not None:
            from_revision = max(self._ring.revision, self._written)
        return self._watch_batches(prefix, from_revision, progress_interval)

    async def _watch_batches(self, prefix: str, from_revision: int,
                             progress_interval: float) -> AsyncIterator[builtins.list[Event]]:
        if not prefix.startswith(self.root):
            async for ev in self.store.watch(prefix, from_revision):
                yield [ev]
            return
        await self.start()
        ring = self._ring
        rev = from_revision if from_revision > 0 else ring.revision
        if rev < ring.base:  # older than the cache's window: the backend replays up to it (as _watch)
            source = self.store.watch(prefix, rev)
            try:
                async for ev in source:
                    yield [ev]
                    rev = ev.kv.mod_revision
                    if rev >= ring.base:
                        break
            finally:
                await source.aclose()  # type: ignore[attr-defined]
        async for batch in ring.follow_batches(prefix, rev, progress_interval):
            yield batch

    async def _watch(self, prefix: str, from_revision: int, progress_interval: float) -> AsyncIterator[Event]:
        if not prefix.startswith(self.root):
            async for ev in self.store.watch(prefix, from_revision):
                yield ev
            return
        await self.start()
        ring = self._ring
        rev = from_revision if from_revision > 0 else ring.revision
        if rev < ring.base:
            # Older than the cache's window: the backend replays (or answers Compacted) until
            # the watch reaches the window, then it joins the shared ring.
            source = self.store.watch(prefix, rev)
            try:
                async for ev in source:
                    yield ev
                    rev = ev.kv.mod_revision
                    if rev >= ring.base:
                        break
            finally:
                await source.aclose()  # type: ignore[attr-defined]
        async for ev in ring.follow(prefix, rev, progress_interval):
            yield ev

    # writes go to the backend

    def _wrote(self, kv: KeyValue) -> KeyValue:
        self._written = max(self._written, kv.mod_revision)
        return kv

    async def create(self, key: str, value: bytes) -> KeyValue:
        return self._wrote(await self.store.create(key, value))

    async def update(self, key: str, value: bytes, expected_mod_revision: int) -> KeyValue:
        return self._wrote(await self.store.update(key, value, expected_mod_revision))

    async def guaranteed_update(self, key: str, fn: UpdateFn, *, ignore_not_found: bool = False) -> KeyValue:
        return self._wrote(await self.store.guaranteed_update(key, fn, ignore_not_found=ignore_not_found))

    async def delete(self, key: str, expected_mod_revision: int = 0) -> KeyValue:
        return self._wrote(await self.store.delete(key, expected_mod_revision))

    async def compact(self, revision: int) -> None:
        await self.store.compact(revision)
        self._ring.trim_before(revision + 1)  # watches from before it now get 410, as on the backend

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._ring.close(StoreClosed())
        await self.store.close()


def _after_prefix(prefix: str) -> str:
    return prefix_end(prefix) or "\U0010ffff"
