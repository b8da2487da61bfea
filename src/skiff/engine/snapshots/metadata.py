"""Snapshot metadata: key → (kind, parent, directory id): committed ones in one JSON file, each active
or view snapshot in its own directory's info.json; every record written atomically."""

from __future__ import annotations

import os
import shutil
import stat
import threading
import time
from pathlib import Path

import orjson

from skiff.common.errors import Conflict, InvalidArgument, NotFound
from skiff.engine import trash
from skiff.engine.snapshots.base import KIND_ACTIVE, KIND_COMMITTED, KIND_VIEW, SnapshotInfo


def write_atomic(path: Path, data: bytes, durable: bool = True) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        if durable:
            f.flush()
            os.fsync(f.fileno())
    os.rename(tmp, path)


# Label of a snapshot made for an AutoRemove (--rm) container: its record is not fsync'd (the
# container would be removed after a host crash anyway, and its overlay is mounted volatile).
VOLATILE_LABEL = "skiff.volatile"


META = "metadata.json"  # committed snapshots (layers) and a floor for the next directory id
INFO = "info.json"  # one active or view snapshot's record, inside its own directory


def _info(key: str, s: dict) -> SnapshotInfo:
    return SnapshotInfo(key, s["kind"], s.get("parent"), s["id"], s.get("created", 0.0), s.get("labels", {}))


def _record(s: SnapshotInfo) -> dict:
    return {"kind": s.kind, "parent": s.parent, "id": s.id, "created": s.created, "labels": s.labels}


class SnapshotStore:
    """The part every snapshotter shares: records, parent links, directory ids, locking.

    Committed snapshots (layers, few, changed by image loads and gc) are one JSON file; each
    active or view snapshot (one per container, created and removed on the hot path) keeps its
    record in `<id>/info.json`, so a container's prepare/remove writes a small file instead of
    rewriting every snapshot's record. Records are written atomically (fsync + rename) when
    created; a removal only unlinks, and `_load` drops what a crash left half removed.
    """

    def __init__(self, root: str | Path):
        self.root = str(root)
        self._dir = Path(root)
        self._dir.mkdir(parents=True, exist_ok=True)
        self._meta = self._dir / META
        self.lock = threading.RLock()
        self._snaps: dict[str, SnapshotInfo] = {}
        self._next = 1
        self._load()

    def _load(self) -> None:
        if self._meta.exists():
            raw = orjson.loads(self._meta.read_bytes())
            self._next = raw.get("next", 1)
            for key, s in raw.get("snapshots", {}).items():
                self._snaps[key] = _info(key, s)
        # Engines before per-snapshot records kept active snapshots in metadata.json too.
        legacy = [s for s in self._snaps.values() if s.kind != KIND_COMMITTED]
        committed_ids = {s.id for s in self._snaps.values() if s.kind == KIND_COMMITTED}
        orphans = []
        for entry in os.scandir(self._dir):
            if not entry.name.isdigit() or not entry.is_dir(follow_symlinks=False):
                continue
            self._next = max(self._next, int(entry.name) + 1)
            info_path = os.path.join(entry.path, INFO)
            try:
                with open(info_path, "rb") as f:
                    raw = orjson.loads(f.read())
            except (FileNotFoundError, ValueError):
                orphans.append(entry.name)
                continue
            if raw["id"] in committed_ids:  # a commit that ended before its info.json was unlinked
                os.unlink(info_path)
                continue
            self._snaps[raw["key"]] = _info(raw["key"], raw)
        known = {s.id for s in self._snaps.values()}
        for name in orphans:  # created or removed halfway when the engine stopped
            if name not in known:
                shutil.rmtree(self._dir / name, ignore_errors=True)
        if legacy:
            for s in legacy:
                self._write_info(s)
            self._save()

    def _save(self) -> None:
        """Rewrite the committed snapshots' file (fsync + rename)."""
        raw = {"next": self._next, "snapshots": {k: _record(s) for k, s in self._snaps.items()
                                                 if s.kind == KIND_COMMITTED}}
        write_atomic(self._meta, orjson.dumps(raw))

    def _write_info(self, s: SnapshotInfo) -> None:
        write_atomic(self.dir(s.id) / INFO, orjson.dumps({"key": s.key, **_record(s)}),
                     durable=s.labels.get(VOLATILE_LABEL) != "true")

    def _unlink_info(self, s: SnapshotInfo) -> None:
        try:
            os.unlink(self.dir(s.id) / INFO)
        except FileNotFoundError:
            pass

    def dir(self, snap_id: str) -> Path:
        return self._dir / snap_id

    def get(self, key: str) -> SnapshotInfo:
        try:
            return self._snaps[key]
        except KeyError:
            raise NotFound(f"snapshot {key} does not exist") from None

    def exists(self, key: str) -> bool:
        return key in self._snaps

    def all(self) -> list[SnapshotInfo]:
        return list(self._snaps.values())

    def chain(self, key: str | None) -> list[SnapshotInfo]:
        """`key` and its ancestors, nearest first."""
        out = []
        while key:
            s = self.get(key)
            out.append(s)
            key = s.parent
        return out

    def create(self, key: str, parent: str | None, kind: str, labels: dict[str, str] | None) -> SnapshotInfo:
        """Record a new snapshot and make its directory (the caller fills it)."""
        with self.lock:
            if key in self._snaps:
                raise Conflict(f"snapshot {key} already exists")
            if parent is not None:
                p = self.get(parent)
                if p.kind != KIND_COMMITTED:
                    raise InvalidArgument(f"parent snapshot {parent} is not committed")
            info = SnapshotInfo(key, kind, parent, str(self._next), time.time(), dict(labels or {}))
            self._next += 1
            d = self.dir(info.id)
            if d.exists():
                shutil.rmtree(d)
            d.mkdir()
            self._snaps[key] = info
            if kind == KIND_COMMITTED:
                self._save()
            else:
                self._write_info(info)
            return info

    def commit(self, name: str, key: str, labels: dict[str, str] | None) -> SnapshotInfo:
        with self.lock:
            s = self.get(key)
            if s.kind != KIND_ACTIVE:
                raise InvalidArgument(f"snapshot {key} is not active")
            if name in self._snaps:
                raise Conflict(f"snapshot {name} already exists")
            del self._snaps[key]
            info = SnapshotInfo(name, KIND_COMMITTED, s.parent, s.id, time.time(), {**s.labels, **(labels or {})})
            self._snaps[name] = info
            self._save()
            self._unlink_info(s)  # after the save: a crash in between leaves both, and _load keeps the commit
            return info

    def remove(self, key: str) -> SnapshotInfo:
        """Forget `key` (refused while it has children); the caller deletes the directory."""
        with self.lock:
            s = self.get(key)
            children = [c.key for c in self._snaps.values() if c.parent == key]
            if children:
                raise Conflict(f"cannot remove snapshot {key}: it has {len(children)} child snapshot(s)")
            del self._snaps[key]
            if s.kind == KIND_COMMITTED:
                self._save()
            else:
                self._unlink_info(s)
            return s

    def children(self, key: str) -> list[str]:
        return [c.key for c in self._snaps.values() if c.parent == key]

    def remove_dir(self, info: SnapshotInfo) -> None:
        """Deleted off the hot path (engine/trash.py): its record is already gone, and a
        directory a crash leaves behind is dropped by `_load` as an orphan."""
        trash.discard(str(self.dir(info.id)))


def tree_usage(path: str | Path) -> int:
    """Bytes of regular files under `path`, each inode counted once."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for dirpath, dirnames, filenames in os.walk(path):
        for name in filenames + dirnames:
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except OSError:
                continue
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            if not stat.S_ISDIR(st.st_mode):
                total += st.st_size
    return total


__all__ = ["SnapshotStore", "tree_usage", "write_atomic", "KIND_VIEW"]
