"""SQLite specifics: watches that outrun the in-memory ring, and writes from another process."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from skiff.cluster.storage.interface import StorageError
from skiff.cluster.storage.sqlite import SqliteStore
from tests.integration.storage.watching import take


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def test_watch_older_than_the_ring_reads_the_log(tmp_path):
    async def main() -> None:
        s = SqliteStore(str(tmp_path / "s.db"), ring_capacity=5)
        start = await s.current_revision()
        keys = [(await s.create(f"/r/{i:02d}", b"v")).key for i in range(40)]
        events = await take(s.watch("/r/", start), 40)
        assert [e.kv.key for e in events] == keys
        await s.close()

    run(main())


def test_a_slow_watcher_falls_back_to_the_log_and_misses_nothing(tmp_path):
    async def main() -> None:
        s = SqliteStore(str(tmp_path / "s.db"), ring_capacity=3)
        start = await s.current_revision()
        watch = s.watch("/r/", start)
        first = await s.create("/r/first", b"v")
        assert (await take(watch, 1))[0].kv == first
        # 30 writes while the watcher does not read: the ring keeps only the newest few
        written = [await s.create(f"/r/{i:02d}", b"v") for i in range(30)]
        events = await take(watch, 30)
        assert [e.kv for e in events] == written
        await s.close()

    run(main())


def test_writes_from_another_process_reach_watchers_by_polling(tmp_path):
    path = str(tmp_path / "s.db")

    async def main() -> None:
        here = SqliteStore(path, poll_interval=0.05)
        other = SqliteStore(path)  # a second writer on the same file, as another process would be
        start = await here.current_revision()
        watch = here.watch("/x/", start)
        kv = await other.create("/x/from-other", b"hi")
        (ev,) = await take(watch, 1, timeout=10)
        assert ev.kv == kv
        assert (await here.get("/x/from-other")).value == b"hi"
        mine = await here.create("/x/mine", b"me")
        assert mine.mod_revision == kv.mod_revision + 1
        await other.close()
        await here.close()

    run(main())


def test_the_log_has_kine_columns_and_compaction_removes_superseded_rows(tmp_path):
    path = tmp_path / "s.db"

    async def main() -> None:
        s = SqliteStore(str(path))
        kv = await s.create("/k", b"1")
        for n in range(2, 6):
            kv = await s.update("/k", str(n).encode(), kv.mod_revision)
        await s.create("/gone", b"x")
        await s.delete("/gone")
        await s.compact(await s.current_revision())
        await s.close()

    run(main())
    with sqlite3.connect(path) as conn:
        cols = [r[1] for r in conn.execute("PRAGMA table_info(kv)")]
        assert cols == ["id", "name", "created", "deleted", "create_revision", "prev_revision",
                        "value", "old_value"]
        rows = conn.execute("SELECT name, value, deleted FROM kv ORDER BY id").fetchall()
        # the current /k and the tombstone at the compaction point are all that remain
        assert rows == [("/k", b"5", 0), ("/gone", b"x", 1)]
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path):
    bad = tmp_path / "state.db"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError, match=f"cannot open the datastore {bad}: file is not a database"):
        SqliteStore(str(bad))


def test_using_a_store_from_a_second_event_loop_is_refused(tmp_path):
    s = SqliteStore(str(tmp_path / "s.db"))
    run(s.create("/k", b"v"))
    with pytest.raises(StorageError, match="another event loop"):
        run(s.get("/k"))
    run(s.close())


def test_a_failed_commit_fails_its_writes_and_the_store_goes_on(tmp_path):
    async def main() -> None:
        s = SqliteStore(str(tmp_path / "s.db"))
        kv = await s.create("/k", b"1")
        # Another connection holds the write lock past the busy timeout: the batch fails whole.
        blocker = sqlite3.connect(str(tmp_path / "s.db"), isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        s._wconn.execute("PRAGMA busy_timeout=100")
        with pytest.raises(StorageError, match="sqlite: database is locked"):
            await s.update("/k", b"2", kv.mod_revision)
        blocker.execute("ROLLBACK")
        blocker.close()
        assert (await s.get("/k")) == kv  # nothing half-written
        assert (await s.update("/k", b"2", kv.mod_revision)).value == b"2"
        await s.close()

    run(main())
