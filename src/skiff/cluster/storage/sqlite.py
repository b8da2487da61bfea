"""The SQLite Store: the embedded default datastore (k3s's kine layout, see sqlite_log).

Writes go to one writer thread that group-commits: it takes every write queued while the
previous commit was being fsync'd and runs them in one transaction, so throughput grows
with concurrency instead of being one fsync per write. After each commit (and every
`poll_interval` when idle, to see other processes' writes) it reads the new log rows and
hands them, with the writes' results, to the event loop in one call: the events go into
a ring that every in-process watcher follows, then the writers are answered, so a writer
that then watches from its own revision never misses its own event.

Reads run on a small thread pool, each in its own read transaction (WAL snapshot).
A watch older than the ring reads the missing stretch from the log, then follows the ring.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from skiff.cluster.storage import sqlite_log as log
from skiff.cluster.storage.cas import guaranteed_update
from skiff.cluster.storage.interface import (
    Compacted,
    Event,
    KeyNotFound,
    KeyValue,
    ListResult,
    StorageError,
    StoreClosed,
    UpdateFn,
)
from skiff.cluster.storage.ring import EventRing, RingTooOld

_STOP = object()
CHECKPOINT_INTERVAL = 1.0  # seconds between WAL checkpoints while writes come in
Op = tuple["asyncio.Future[Any]", Callable[..., Any], tuple[Any, ...]]


class SqliteStore:
    def __init__(self, path: str, *, ring_capacity: int = 10_000, poll_interval: float = 0.5,
                 max_batch: int = 500):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self.path = path
        self._poll_interval = poll_interval
        self._max_batch = max_batch
        try:
            self._wconn = log.connect(path)
            # Checkpoints run on a reader thread (_checkpoint), so a commit never pays for one.
            self._wconn.execute("PRAGMA wal_autocheckpoint=0")
            log.init_schema(self._wconn)
        except sqlite3.Error as e:
            raise StorageError(f"cannot open the datastore {path}: {e}") from e
        self._published = log.current_revision(self._wconn)
        self._ring = EventRing(self._published, ring_capacity)
        self._ops: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._readers = ThreadPoolExecutor(2, thread_name_prefix="skiff-sqlite-read")
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = [self._wconn]
        self._conns_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    # plumbing

    def _start(self) -> asyncio.AbstractEventLoop:
        if self._closed:
            raise StoreClosed()
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
            self._thread = threading.Thread(target=self._writer, name="skiff-sqlite-writer", daemon=True)
            self._thread.start()
        elif loop is not self._loop:
            raise StorageError("the SQLite store belongs to another event loop: open one per loop")
        return self._loop

    async def _write(self, fn: Callable[..., Any], *args: Any) -> Any:
        fut = self._start().create_future()
        self._ops.put((fut, fn, args))
        return await fut

    async def _read(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await self._start().run_in_executor(self._readers, self._in_read_txn, fn, args)

    def _reader_conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = log.connect(self.path)
            with self._conns_lock:
                self._conns.append(conn)
        return conn

    def _in_read_txn(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        try:
            conn = self._reader_conn()
            conn.execute("BEGIN")  # one snapshot for every statement of this read
            try:
                return fn(conn, *args)
            finally:
                conn.execute("COMMIT")
        except sqlite3.Error as e:
            raise StorageError(f"sqlite: {e}") from e

    def _checkpoint(self) -> None:
        """Copy the WAL into the database off the writer thread (PASSIVE: never blocks a write)."""
        try:
            self._reader_conn().execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error:
            pass  # busy: the next one catches up

    def _writer(self) -> None:
        last_checkpoint = time.monotonic()
        stop = False
        while not stop:
            if self._loop is not None and self._loop.is_closed():
                return  # the loop ended without close(): nobody can be waiting
            try:
                first = self._ops.get(timeout=self._poll_interval)
            except queue.Empty:
                first = None
            batch: list[Op] = []
            if first is _STOP:
                stop = True
            elif first is not None:
                batch.append(first)
            while not stop and len(batch) < self._max_batch:
                try:
                    nxt = self._ops.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    stop = True
                else:
                    batch.append(nxt)
            results = self._commit(batch) if batch else []
            if batch and time.monotonic() - last_checkpoint > CHECKPOINT_INTERVAL:
                last_checkpoint = time.monotonic()
                self._readers.submit(self._checkpoint)
            events = self._new_events()
            if results or events:
                try:
                    assert self._loop is not None
                    self._loop.call_soon_threadsafe(self._deliver, events, results)
                except RuntimeError:  # the loop is gone; nobody is waiting any more
                    return

    def _commit(self, batch: list[Op]) -> list[tuple[asyncio.Future[Any], Any, BaseException | None]]:
        conn = self._wconn
        out: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for fut, fn, args in batch:
                try:
                    out.append((fut, fn(conn, *args), None))
                except StorageError as e:
                    out.append((fut, None, e))
                except sqlite3.IntegrityError as e:
                    out.append((fut, None, StorageError(f"sqlite: {e}")))
                except sqlite3.Error:
                    raise  # the transaction is in doubt: fail the whole batch
                except Exception as e:  # noqa: BLE001 - one bad request must not stop the writer
                    out.append((fut, None, e))
            conn.execute("COMMIT")
        except sqlite3.Error as e:  # e.g. disk full, or locked past busy_timeout: nothing was written
            with contextlib.suppress(sqlite3.Error):
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            err = StorageError(f"sqlite: {e}")
            return [(fut, None, err) for fut, _, _ in batch]
        return out

    def _new_events(self) -> list[Event]:
        events: list[Event] = []
        try:
            while True:
                rows = log.rows_after(self._wconn, self._published, limit=1000)
                events += [log.to_event(r) for r in rows]
                if rows:
                    self._published = rows[-1][0]
                if len(rows) < 1000:
                    break
        except sqlite3.Error:
            pass  # a busy database: the next round picks the rows up
        return events

    def _deliver(self, events: list[Event], results: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
        self._ring.append(events)
        for fut, value, exc in results:
            if fut.done():
                continue
            if exc is not None:
                fut.set_exception(exc)
            else:
                fut.set_result(value)

    # reads

    async def get(self, key: str, revision: int = 0) -> KeyValue:
        kv: KeyValue = await self._read(_get, key, revision)
        return kv

    async def list(self, prefix: str, *, revision: int = 0, limit: int = 0, start_after: str = "") -> ListResult:
        res: ListResult = await self._read(_list, prefix, revision, limit, start_after)
        return res

    async def count(self, prefix: str) -> int:
        n: int = await self._read(log.count_rows, prefix)
        return n

    async def current_revision(self) -> int:
        rev: int = await self._read(log.current_revision)
        return rev

    # writes

    async def create(self, key: str, value: bytes) -> KeyValue:
        kv: KeyValue = await self._write(log.create, key, bytes(value))
        return kv

    async def update(self, key: str, value: bytes, expected_mod_revision: int) -> KeyValue:
        kv: KeyValue = await self._write(log.update, key, bytes(value), expected_mod_revision)
        return kv

    async def guaranteed_update(self, key: str, fn: UpdateFn, *, ignore_not_found: bool = False) -> KeyValue:
        return await guaranteed_update(self, key, fn, ignore_not_found=ignore_not_found)

    async def delete(self, key: str, expected_mod_revision: int = 0) -> KeyValue:
        kv: KeyValue = await self._write(log.delete, key, expected_mod_revision)
        return kv

    async def compact(self, revision: int) -> None:
        """Compact in chunks of rows, each its own transaction, so writes wait for a chunk at most."""
        point: int = await self._write(log.mark_compacted, revision)
        if not point:
            return
        self._ring.trim_before(point + 1)  # watches older than this now get Compacted
        start = 0
        while start < point:
            start = await self._write(log.compact_chunk, point, start)

    # watch

    def watch(self, prefix: str, from_revision: int) -> AsyncIterator[Event]:
        return self._watch(prefix, from_revision if from_revision > 0 else self._ring.revision)

    async def _watch(self, prefix: str, rev: int) -> AsyncIterator[Event]:
        self._start()
        while True:
            if rev < self._ring.base:
                events, rev = await self._read(_events_between, prefix, rev, self._ring.base)
                for ev in events:
                    yield ev
                continue
            try:
                async for ev in self._ring.follow(prefix, rev):
                    rev = ev.kv.mod_revision
                    yield ev
            except RingTooOld:
                continue  # fell behind the ring: catch up from the log

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._ring.close(StoreClosed())
        if self._thread is not None:
            self._ops.put(_STOP)
            await asyncio.get_running_loop().run_in_executor(None, self._thread.join)
        self._readers.shutdown(wait=True)
        with self._conns_lock:
            for conn in self._conns:
                conn.close()


def _get(conn: sqlite3.Connection, key: str, revision: int) -> KeyValue:
    rev = log.check_revision(conn, revision) if revision > 0 else 0
    row = log.latest_row(conn, key, rev)
    if row is None or row[3]:
        raise KeyNotFound(key)
    return log.to_kv(row)


def _list(conn: sqlite3.Connection, prefix: str, revision: int, limit: int, start_after: str) -> ListResult:
    rev = log.check_revision(conn, revision)
    rows = log.list_rows(conn, prefix, rev, limit + 1 if limit else 0, start_after)
    more = bool(limit) and len(rows) > limit
    if more:
        rows = rows[:limit]
    return ListResult([log.to_kv(r) for r in rows], rev, more)


def _events_between(conn: sqlite3.Connection, prefix: str, after: int, upto: int) -> tuple[list[Event], int]:
    """Events under `prefix` in (after, upto], a page at a time; and where the page ended."""
    compacted = log.compact_revision(conn)
    if after < compacted:
        raise Compacted(after, compacted)
    rows = log.rows_after(conn, after, upto, prefix, limit=1000)
    end = rows[-1][0] if len(rows) == 1000 else upto
    return [log.to_event(r) for r in rows], end
