"""The watch cache in front of a Store: memory reads, shared watches, bookmarks, 410s, re-list."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from skiff.cluster.storage import cache as cache_mod
from skiff.cluster.storage.cache import CachedStore
from skiff.cluster.storage.interface import Compacted, Event, FutureRevision, ListResult, StoreClosed
from skiff.cluster.storage.memory import MemoryStore
from tests.integration.storage.watching import take


class CountingStore(MemoryStore):
    """A memory store that counts backend lists and watches, and can fail its watch once."""

    def __init__(self) -> None:
        super().__init__()
        self.lists = 0
        self.watches = 0
        self.fail_watch_with: Exception | None = None

    async def list(self, prefix: str, **kw) -> ListResult:  # type: ignore[override]
        self.lists += 1
        return await super().list(prefix, **kw)

    async def watch(self, prefix: str, from_revision: int) -> AsyncIterator[Event]:  # type: ignore[override]
        self.watches += 1
        if self.fail_watch_with is not None:
            exc, self.fail_watch_with = self.fail_watch_with, None
            raise exc
        async for ev in super().watch(prefix, from_revision):
            yield ev


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def test_lists_and_counts_come_from_memory_once_synced():
    async def main() -> None:
        backend = CountingStore()
        for i in range(10):
            await backend.create(f"/registry/pods/default/p{i}", b"{}")
        await backend.create("/registry/services/default/s", b"{}")
        c = CachedStore(backend)
        await c.start()
        lists_at_start = backend.lists
        created = await c.create("/registry/pods/kube-system/dns", b"{}")
        res = await c.list("/registry/pods/")
        assert len(res.items) == 11 and res.revision == created.mod_revision
        assert len((await c.list("/registry/pods/default/")).items) == 10
        assert await c.count("/registry/pods/") == 11
        page = await c.list("/registry/pods/", limit=4, start_after="/registry/pods/default/p3")
        assert [kv.key[-2:] for kv in page.items] == ["p4", "p5", "p6", "p7"] and page.more
        assert backend.lists == lists_at_start  # none of these reached the backend
        await c.close()

    run(main())


def test_many_watchers_share_one_backend_watch_and_get_every_event():
    async def main() -> None:
        backend = CountingStore()
        c = CachedStore(backend)
        await c.start()
        rev = c.revision
        watchers = [c.watch("/registry/pods/", rev) for _ in range(100)]
        readers = [asyncio.ensure_future(take(w, 200)) for w in watchers]
        written = [await c.create(f"/registry/pods/ns/p{i}", b"{}") for i in range(200)]
        for events in await asyncio.gather(*readers):
            assert [e.kv for e in events] == written
        assert backend.watches == 1
        await c.close()

    run(main())


def test_bookmarks_carry_the_cache_revision_when_quiet():
    async def main() -> None:
        c = CachedStore(MemoryStore())
        await c.start()
        w = c.watch("/registry/pods/", 0, progress_interval=0.05)
        other = await c.create("/registry/configmaps/ns/c", b"{}")  # not under the watched prefix
        ev = await anext(w)
        assert ev.type == "BOOKMARK" and ev.kv.mod_revision == other.mod_revision
        await w.aclose()  # type: ignore[attr-defined]
        await c.close()

    run(main())


def test_not_older_than_a_future_revision_times_out(monkeypatch):
    monkeypatch.setattr(cache_mod, "NOT_OLDER_THAN_WAIT", 0.1)

    async def main() -> None:
        c = CachedStore(MemoryStore())
        with pytest.raises(FutureRevision) as err:
            await c.list("/registry/pods/", min_revision=c.revision + 50)
        assert err.value.status == 504
        kv = await c.create("/registry/pods/ns/a", b"{}")
        assert (await c.get(kv.key, min_revision=kv.mod_revision)) == kv
        await c.close()

    run(main())


def test_a_compacted_backend_watch_makes_the_cache_relist_and_watchers_get_410():
    async def main() -> None:
        backend = CountingStore()
        c = CachedStore(backend)
        await c.start()
        w = c.watch("/registry/", 0)
        await c.create("/registry/pods/ns/a", b"1")
        assert (await anext(w)).type == "ADDED"
        # Simulate losing history: the cache's backend watch ends with Compacted once.
        backend.fail_watch_with = Compacted(1, 5)
        await backend.create("/registry/pods/ns/hidden", b"x")  # written behind the cache's back
        c._task.cancel()  # type: ignore[union-attr]  # restart the follower so it meets the failure
        c._task = asyncio.create_task(c._follow())
        with pytest.raises(Compacted):
            await asyncio.wait_for(anext(w), 5)
        res = await c.list("/registry/pods/")
        assert [kv.key for kv in res.items] == ["/registry/pods/ns/a", "/registry/pods/ns/hidden"]
        await c.close()

    run(main())


def test_closing_the_backend_ends_the_cache_watchers_and_its_follower():
    async def main() -> None:
        backend = MemoryStore()
        c = CachedStore(backend)
        await c.start()
        w = c.watch("/registry/", 0)
        await backend.close()
        with pytest.raises(StoreClosed):
            await asyncio.wait_for(anext(w), 5)
        assert c._task is not None
        await asyncio.wait_for(c._task, 5)  # the follower ended instead of retrying forever

    run(main())


def test_batched_watchers_get_every_event_in_order_including_the_replay():
    async def main() -> None:
        backend = CountingStore()
        early = [await backend.create(f"/registry/pods/ns/e{i}", b"{}") for i in range(5)]
        c = CachedStore(backend)
        await c.start()
        # one from the cache's window, one from before it (the backend replays its part)
        current = c.watch_batches("/registry/pods/", c.revision)
        old = c.watch_batches("/registry/pods/", early[0].mod_revision - 1)

        async def drain(it, n: int) -> list:
            got: list = []
            while len(got) < n:
                got += await anext(it)
            await it.aclose()
            return got

        readers = [asyncio.ensure_future(drain(current, 50)), asyncio.ensure_future(drain(old, 55))]
        await asyncio.sleep(0)
        written = [await c.create(f"/registry/pods/ns/p{i}", b"{}") for i in range(50)]
        now, replayed = await asyncio.gather(*readers)
        assert [e.kv for e in now] == written
        assert [e.kv for e in replayed] == early + written
        await c.close()

    run(main())
