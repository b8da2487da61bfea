"""Model check: random write sequences give the same answers on SQLite as on the memory store."""

from __future__ import annotations

import asyncio
import tempfile

from hypothesis import HealthCheck, given, settings

from skiff.cluster.storage import sqlite_log
from skiff.cluster.storage.interface import StorageError, Store
from skiff.cluster.storage.memory import MemoryStore
from skiff.cluster.storage.sqlite import SqliteStore
from tests.integration.storage.watching import take
from tests.unit.storage.model import apply, ops


async def outcome(store: Store, revision: int) -> object:
    """The list at `revision`, whole and in pages of 1 and 2 (or the error)."""
    try:
        whole = await store.list("/", revision=revision)
        pages = []
        for limit in (1, 2):
            page = await store.list("/", revision=revision, limit=limit)
            pages.append(page)
            while page.more:
                page = await store.list("/", revision=revision, limit=limit, start_after=page.items[-1].key)
                pages.append(page)
        return whole, pages
    except StorageError as e:
        return type(e).__name__


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops)
def test_sqlite_answers_like_memory(sequence):
    async def main() -> None:
        with tempfile.TemporaryDirectory() as d:
            mem, sql = MemoryStore(), SqliteStore(f"{d}/s.db")
            current: dict[str, int] = {}
            for op in sequence:
                a = await apply(mem, op, current)
                b = await apply(sql, op, current)
                assert a == b, op
                if op[0] in ("create", "update") and not isinstance(a, str):
                    current[op[1]] = a.mod_revision  # type: ignore[union-attr]
                elif op[0] == "delete" and not isinstance(a, str):
                    current.pop(op[1], None)
            end = await mem.current_revision()
            assert end == await sql.current_revision()
            for rev in range(1, end + 1):
                assert await outcome(mem, rev) == await outcome(sql, rev), rev
            # the same events, from the oldest revision both can still replay
            for rev in range(1, end + 1):
                try:
                    want = await take(mem.watch("/", rev), end - rev, timeout=5) if end > rev else []
                except StorageError:
                    continue
                got = await take(sql.watch("/", rev), end - rev, timeout=5) if end > rev else []
                assert got == want
                break
            await mem.close()
            await sql.close()

    spare = sqlite_log.TOMBSTONE_SPARE
    sqlite_log.TOMBSTONE_SPARE = 0  # pages then read one name at a time: tombstones need more chunks
    try:
        asyncio.run(main())
    finally:
        sqlite_log.TOMBSTONE_SPARE = spare
