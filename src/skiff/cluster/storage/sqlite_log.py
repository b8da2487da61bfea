"""The SQLite key-value log, as plain functions over a `sqlite3.Connection`.

One append-only table whose row id is the revision, as k3s's kine lays it out: every
create, update and delete appends a row (`created`/`deleted` flags, the value, and the
previous revision and value so a watch can report `prev`). The newest row of a name is
its current state; a row with `deleted=1` is a tombstone. Compaction deletes rows that no
read at or after the compaction revision can see. The store's revision is the table's
AUTOINCREMENT counter (`sqlite_sequence`), so it never goes back even when rows go.

No threads or asyncio here: `sqlite.py` runs these on its writer and reader threads.
"""

from __future__ import annotations

import sqlite3

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
    RevisionConflict,
)
from skiff.cluster.storage.keys import prefix_end

SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    created INTEGER NOT NULL,
    deleted INTEGER NOT NULL,
    create_revision INTEGER NOT NULL,
    prev_revision INTEGER NOT NULL,
    value BLOB NOT NULL,
    old_value BLOB
);
CREATE INDEX IF NOT EXISTS kv_name_id ON kv (name, id);
CREATE UNIQUE INDEX IF NOT EXISTS kv_name_prev ON kv (name, prev_revision);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

TOMBSTONE_SPARE = 16  # extra names a limited list reads per chunk, for the tombstones among them
COLUMNS = "id, name, created, deleted, create_revision, prev_revision, value, old_value"
Row = tuple[int, str, int, int, int, int, bytes, bytes | None]


def connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    # FULL: a commit is on disk (WAL fsync'd) before the write is acknowledged.
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def init_schema(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        # one statement at a time: executescript would commit the transaction
        for stmt in SCHEMA.split(";"):
            if stmt.strip():
                conn.execute(stmt)
        # An empty store starts at revision 1, as etcd does.
        if conn.execute("SELECT 1 FROM sqlite_sequence WHERE name='kv'").fetchone() is None:
            conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('kv', 1)")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def current_revision(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name='kv'").fetchone()
    return int(row[0]) if row else 1


def compact_revision(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT value FROM meta WHERE key='compact_revision'").fetchone()
    return int(row[0]) if row else 0


def check_revision(conn: sqlite3.Connection, revision: int) -> int:
    """The revision a read should use: the current one for 0, else `revision` if readable."""
    current = current_revision(conn)
    if revision <= 0:
        return current
    compacted = compact_revision(conn)
    if revision < compacted:
        raise Compacted(revision, compacted)
    if revision > current:
        raise FutureRevision(revision, current)
    return revision


def _create_rev(row: Row) -> int:
    return row[0] if row[2] else row[4]


def to_kv(row: Row) -> KeyValue:
    return KeyValue(row[1], row[6], _create_rev(row), row[0])


def to_event(row: Row) -> Event:
    rid, name, created, deleted, _, prev_rev, value, old_value = row
    kv = KeyValue(name, value, _create_rev(row), rid)
    if deleted:
        return Event(DELETED, kv, KeyValue(name, value, kv.create_revision, prev_rev))
    if created:
        return Event(ADDED, kv, None)
    return Event(MODIFIED, kv, KeyValue(name, old_value or b"", kv.create_revision, prev_rev))


def latest_row(conn: sqlite3.Connection, name: str, revision: int = 0) -> Row | None:
    if revision > 0:
        sql = f"SELECT {COLUMNS} FROM kv WHERE name=? AND id<=? ORDER BY id DESC LIMIT 1"
        return conn.execute(sql, (name, revision)).fetchone()
    return conn.execute(f"SELECT {COLUMNS} FROM kv WHERE name=? ORDER BY id DESC LIMIT 1", (name,)).fetchone()


def _range(prefix: str, start_after: str) -> tuple[str, list[object]]:
    """SQL conditions on `name` for keys under `prefix` after `start_after`."""
    args: list[object]
    if start_after and start_after >= prefix:
        cond, args = "name > ?", [start_after]
    else:
        cond, args = "name >= ?", [prefix]
    end = prefix_end(prefix)
    if end:
        cond += " AND name < ?"
        args.append(end)
    return cond, args


def list_rows(conn: sqlite3.Connection, prefix: str, revision: int, limit: int, start_after: str) -> list[Row]:
    """The live rows under `prefix` at `revision`, by name; at most `limit` (0 = all).

    With a limit, names are taken a chunk at a time in index order (so a page costs the
    page, not the whole prefix), skipping tombstones, until the page is full.
    """
    cols = ", ".join("kv." + c for c in COLUMNS.split(", "))
    out: list[Row] = []
    after = start_after
    while True:
        cond, args = _range(prefix, after)
        inner = f"SELECT MAX(id) AS mid FROM kv WHERE {cond} AND id <= ? GROUP BY name"
        args.append(revision)
        if not limit:
            sql = f"SELECT {cols} FROM kv JOIN ({inner}) m ON kv.id = m.mid WHERE kv.deleted = 0 ORDER BY kv.name"
            return conn.execute(sql, args).fetchall()
        chunk = limit - len(out) + TOMBSTONE_SPARE
        sql = f"SELECT {cols} FROM kv JOIN ({inner} ORDER BY name LIMIT ?) m ON kv.id = m.mid ORDER BY kv.name"
        rows = conn.execute(sql, [*args, chunk]).fetchall()
        out += [r for r in rows if not r[3]]
        if len(out) >= limit or len(rows) < chunk:
            return out[:limit]
        after = rows[-1][1]


def count_rows(conn: sqlite3.Connection, prefix: str) -> int:
    cond, args = _range(prefix, "")
    sql = (
        f"SELECT COUNT(*) FROM kv JOIN (SELECT MAX(id) AS mid FROM kv WHERE {cond} GROUP BY name) m "
        "ON kv.id = m.mid WHERE kv.deleted = 0"
    )
    return int(conn.execute(sql, args).fetchone()[0])


def rows_after(conn: sqlite3.Connection, after: int, upto: int | None = None, prefix: str = "",
               limit: int = 1000) -> list[Row]:
    """Log rows with id > `after` (and <= `upto`) under `prefix`, in revision order."""
    sql = f"SELECT {COLUMNS} FROM kv WHERE id > ?"
    args: list[object] = [after]
    if upto is not None:
        sql += " AND id <= ?"
        args.append(upto)
    if prefix:
        cond, extra = _range(prefix, "")
        sql += " AND " + cond
        args += extra
    sql += " ORDER BY id LIMIT ?"
    args.append(limit)
    return conn.execute(sql, args).fetchall()


# writes: each runs inside the caller's BEGIN IMMEDIATE transaction


def _insert(conn: sqlite3.Connection, name: str, created: int, deleted: int, create_rev: int,
            prev_rev: int, value: bytes, old_value: bytes | None) -> int:
    cur = conn.execute(
        "INSERT INTO kv (name, created, deleted, create_revision, prev_revision, value, old_value) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (name, created, deleted, create_rev, prev_rev, value, old_value),
    )
    assert cur.lastrowid is not None
    return cur.lastrowid


def create(conn: sqlite3.Connection, key: str, value: bytes) -> KeyValue:
    row = latest_row(conn, key)
    if row is not None and not row[3]:
        raise KeyExists(key)
    rid = _insert(conn, key, 1, 0, 0, row[0] if row else 0, value, None)
    return KeyValue(key, value, rid, rid)


def _live(conn: sqlite3.Connection, key: str, expected: int) -> Row:
    row = latest_row(conn, key)
    if row is None or row[3]:
        raise KeyNotFound(key)
    if expected and row[0] != expected:
        raise RevisionConflict(key, expected, to_kv(row))
    return row


def update(conn: sqlite3.Connection, key: str, value: bytes, expected: int) -> KeyValue:
    row = _live(conn, key, expected or -1)
    rid = _insert(conn, key, 0, 0, _create_rev(row), row[0], value, row[6])
    return KeyValue(key, value, _create_rev(row), rid)


def delete(conn: sqlite3.Connection, key: str, expected: int) -> KeyValue:
    row = _live(conn, key, expected)
    rid = _insert(conn, key, 0, 1, _create_rev(row), row[0], row[6], None)
    return KeyValue(key, row[6], _create_rev(row), rid)


def mark_compacted(conn: sqlite3.Connection, revision: int) -> int:
    """Record the new compaction point (reads below it now fail); 0 if it does not move.

    Done before any row is deleted, so no read ever sees a half-compacted past.
    """
    revision = min(revision, current_revision(conn))
    if revision <= compact_revision(conn):
        return 0
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('compact_revision', ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (revision,),
    )
    return revision


def compact_chunk(conn: sqlite3.Connection, revision: int, start: int, rows: int = 300) -> int:
    """Delete the rows no read at `revision` or later can see, among the next `rows` rows
    from id `start`; returns where the next chunk starts (>= revision: done)."""
    nxt = conn.execute("SELECT id FROM kv WHERE id >= ? AND id < ? ORDER BY id LIMIT 1 OFFSET ?",
                       (start, revision, rows)).fetchone()
    end = nxt[0] if nxt else revision
    conn.execute(
        "DELETE FROM kv WHERE id >= ? AND id < ? AND (deleted = 1 OR EXISTS "
        "(SELECT 1 FROM kv AS n WHERE n.name = kv.name AND n.id > kv.id AND n.id <= ?))",
        (start, end, revision),
    )
    return end
