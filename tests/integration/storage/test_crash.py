"""Crash safety: kill -9 in the middle of a write burst loses no acknowledged write.

SQLite: the writing process itself is killed. etcd: the etcd server is killed and
restarted on the same data dir. Then every acknowledged write must be readable at its
revision with its value, and the store must be consistent and writable.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from skiff.cluster.storage import Store
from tests.integration.storage.conftest import Backend, run_with

ROOT = Path(__file__).resolve().parents[3]
ACKS_BEFORE_KILL = 400


def _burst_until_killed(backend: Backend, kill) -> list[tuple[str, int, bytes]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.storage.crash_writer", backend.endpoint,
         str(backend.data_dir), backend.prefix],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    acks: list[tuple[str, int, bytes]] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if not line.endswith("\n"):
                break  # a torn last line is not an acknowledgement
            _, key, rev, value = line.split()
            acks.append((key, int(rev), value.encode()))
            if len(acks) == ACKS_BEFORE_KILL:
                kill(proc)
        # the writer may print a few more acks that were already on their way: keep them
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert len(acks) >= ACKS_BEFORE_KILL, "the writer stopped before the kill"
    return acks


async def _verify(s: Store, backend: Backend, acks: list[tuple[str, int, bytes]]) -> None:
    for key, rev, value in acks:
        kv = await s.get(key, revision=rev)
        assert (kv.mod_revision, kv.value) == (rev, value), key
    latest = {key: rev for key, rev, _ in acks}
    listed = await s.list(backend.prefix)
    by_key = {kv.key: kv for kv in listed.items}
    for key, rev in latest.items():
        assert by_key[key].mod_revision >= rev  # an unacknowledged later write may have landed
    revs = [kv.mod_revision for kv in listed.items]
    assert len(set(revs)) == len(revs)
    after = await s.create(backend.prefix + "after-crash", b"ok")
    assert after.mod_revision > max(revs)


@pytest.mark.slow
def test_kill_9_during_a_write_burst_loses_no_acknowledged_write(backend: Backend):
    if backend.name != "sqlite" and backend.name != "etcd":
        pytest.skip("memory is not durable; the cache adds nothing to crash")
    if backend.name == "sqlite":
        acks = _burst_until_killed(backend, lambda proc: os.kill(proc.pid, signal.SIGKILL))
        db = backend.data_dir / "db" / "state.db"
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    else:
        etcd = backend.server
        assert etcd is not None

        def kill_etcd(proc: subprocess.Popen) -> None:
            etcd.kill()

        acks = _burst_until_killed(backend, kill_etcd)
        etcd.start()
    run_with(backend, lambda s: _verify(s, backend, acks))
