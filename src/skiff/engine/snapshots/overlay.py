"""The overlay snapshotter: each snapshot is `snapshots/<n>/fs` (+ `work` when active).

An active snapshot mounts as overlay with its parents' `fs` dirs as lowerdir (nearest
first), its own `fs` as upperdir. Directory ids are small integers, so each lowerdir costs
about `len(root) + 12` bytes of the mount option string. mount(2) limits that string to a
page; `snapshots.mounting.mount_all` mounts longer chains with the new mount API.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from skiff.engine.snapshots.base import KIND_ACTIVE, KIND_COMMITTED, Mount, SnapshotInfo
from skiff.engine.snapshots.stored import StoredSnapshotter


class OverlaySnapshotter(StoredSnapshotter):
    name = "overlay"

    def _work(self, info: SnapshotInfo) -> str:
        return str(self.store.dir(info.id) / "work")

    def _new(self, key: str, parent: str | None, kind: str, labels) -> list[Mount]:
        with self.store.lock:
            info = self.store.create(key, parent, kind, labels)
            d = self.store.dir(info.id)
            (d / "fs").mkdir()
            if kind == KIND_ACTIVE:
                (d / "work").mkdir()
            return self.mounts(key)

    def mounts(self, key: str) -> list[Mount]:
        info = self.store.get(key)
        lowers = self.lower_dirs(key)
        if info.kind == KIND_ACTIVE:
            if not lowers:
                return [Mount("bind", self._fs(info), ["rbind", "rw"])]
            opts = [f"lowerdir={':'.join(lowers)}", f"upperdir={self._fs(info)}", f"workdir={self._work(info)}"]
            return [Mount("overlay", "overlay", opts)]
        # committed or view: read-only
        if info.kind == KIND_COMMITTED:
            lowers = [self._fs(info), *lowers]
        if not lowers:
            return [Mount("bind", self._fs(info), ["rbind", "ro"])]
        if len(lowers) == 1:
            return [Mount("bind", lowers[0], ["rbind", "ro"])]
        opts = [f"lowerdir={':'.join(lowers)}"]
        return [Mount("overlay", "overlay", opts)]

    def commit(self, name: str, key: str, labels: dict[str, str] | None = None) -> None:
        with self.store.lock:
            info = self.store.commit(name, key, labels)
            work = Path(self._work(info))
            if work.exists():
                shutil.rmtree(work, ignore_errors=True)

