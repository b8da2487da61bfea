"""The event ring that in-process watchers share."""

from __future__ import annotations

import asyncio

import pytest

from skiff.cluster.storage.interface import Compacted, Event, KeyValue
from skiff.cluster.storage.ring import EventRing


def ev(key: str, rev: int) -> Event:
    return Event("ADDED", KeyValue(key, b"", rev, rev), None)


def test_read_after_and_trim():
    ring = EventRing(10, capacity=None)
    ring.append([ev("/a", 11), ev("/b", 12), ev("/a", 13)])
    assert [e.kv.mod_revision for e in ring.read_after(11)] == [12, 13]
    assert ring.read_after(13) == []
    ring.trim_before(13)
    assert ring.base == 12
    assert [e.kv.mod_revision for e in ring.read_after(12)] == [13]
    with pytest.raises(Compacted):
        ring.read_after(11)


def test_capacity_keeps_the_newest_events():
    ring = EventRing(0, capacity=4)
    ring.append([ev("/k", r) for r in range(1, 20)])
    assert ring.revision == 19
    assert ring.base == 15
    assert [e.kv.mod_revision for e in ring.read_after(ring.base)][-1] == 19
    with pytest.raises(Compacted):
        ring.read_after(1)


def test_follow_filters_by_prefix_and_sends_bookmarks_when_idle():
    async def main() -> None:
        ring = EventRing(0, capacity=None)
        it = ring.follow("/a/", 0, progress_interval=0.05)
        ring.append([ev("/a/1", 1), ev("/b/1", 2), ev("/a/2", 3), ev("/b/2", 4)])
        got = [await anext(it), await anext(it)]
        assert [e.kv.key for e in got] == ["/a/1", "/a/2"]
        mark = await anext(it)
        assert mark.type == "BOOKMARK" and mark.kv.mod_revision == 4
        await it.aclose()  # type: ignore[attr-defined]

    asyncio.run(asyncio.wait_for(main(), 10))


def test_many_followers_each_get_every_event():
    async def main() -> None:
        ring = EventRing(0, capacity=None)
        readers = [ring.follow("/", 0) for _ in range(50)]

        async def read(it) -> list[int]:
            return [(await anext(it)).kv.mod_revision for _ in range(30)]

        tasks = [asyncio.ensure_future(read(it)) for it in readers]
        for r in range(1, 31, 3):
            ring.append([ev("/k", r), ev("/k", r + 1), ev("/k", r + 2)])
            await asyncio.sleep(0)
        assert all(t == list(range(1, 31)) for t in await asyncio.gather(*tasks))

    asyncio.run(asyncio.wait_for(main(), 10))


def test_follow_batches_hands_over_what_arrived_together():
    async def main() -> None:
        ring = EventRing(0, capacity=None)
        it = ring.follow_batches("/a/", 0, progress_interval=0.05)
        ring.append([ev("/a/1", 1), ev("/b/1", 2), ev("/a/2", 3)])
        first = await anext(it)
        assert [e.kv.key for e in first] == ["/a/1", "/a/2"]
        ring.append([ev("/b/2", 4)])  # nothing under the prefix: no empty batch, a bookmark when idle
        mark = await anext(it)
        assert [e.type for e in mark] == ["BOOKMARK"] and mark[0].kv.mod_revision == 4
        ring.append([ev("/a/3", 5)])
        ring.append([ev("/a/4", 6)])
        assert [e.kv.mod_revision for e in await anext(it)] == [5, 6]
        await it.aclose()  # type: ignore[attr-defined]

    asyncio.run(asyncio.wait_for(main(), 10))
