"""An AutoRemove container's snapshot record is written without fsync; every other one is fsync'd."""

from __future__ import annotations

import os

from skiff.engine.snapshots import metadata
from skiff.engine.snapshots.base import KIND_ACTIVE
from skiff.engine.snapshots.metadata import VOLATILE_LABEL, SnapshotStore


def test_only_volatile_snapshot_records_skip_fsync(tmp_path, monkeypatch):
    synced: list[int] = []
    real = os.fsync
    monkeypatch.setattr(metadata.os, "fsync", lambda fd: (synced.append(fd), real(fd)))
    store = SnapshotStore(tmp_path)
    store.create("kept", None, KIND_ACTIVE, None)
    assert len(synced) == 1
    store.create("rm", None, KIND_ACTIVE, {VOLATILE_LABEL: "true"})
    assert len(synced) == 1
    again = SnapshotStore(tmp_path)  # both records are there all the same
    assert again.get("rm").labels == {VOLATILE_LABEL: "true"} and again.get("kept").kind == KIND_ACTIVE
