"""Periodic compaction keeps one interval of history."""

from __future__ import annotations

import asyncio

import pytest

from skiff.cluster.storage.compactor import Compactor
from skiff.cluster.storage.interface import Compacted
from skiff.cluster.storage.memory import MemoryStore


def test_each_tick_compacts_to_the_revision_of_the_tick_before():
    async def main() -> None:
        s = MemoryStore()
        c = Compactor(s)
        first = await s.create("/k", b"1")
        assert await c.tick() == 0  # nothing seen before: nothing to compact
        second = await s.update("/k", b"2", first.mod_revision)
        assert await c.tick() == first.mod_revision
        assert (await s.get("/k", revision=first.mod_revision)).value == b"1"  # still readable
        await s.update("/k", b"3", second.mod_revision)
        assert await c.tick() == second.mod_revision
        with pytest.raises(Compacted):
            await s.get("/k", revision=first.mod_revision)
        assert (await s.get("/k", revision=second.mod_revision)).value == b"2"

    asyncio.run(asyncio.wait_for(main(), 10))
