"""The native snapshotter: every snapshot is a full copy of its parent (`cp -a`), no overlay.

Slow and space-hungry but works anywhere, including without root for unit tests.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from skiff.common.errors import SystemError_
from skiff.engine.snapshots.base import KIND_ACTIVE, Mount
from skiff.engine.snapshots.stored import StoredSnapshotter


def copy_tree(src: str, dst: str) -> None:
    """Copy `src`'s contents into existing `dst`, keeping modes, owners, links, xattrs."""
    if not os.listdir(src):
        return
    r = subprocess.run(["cp", "-a", "--", src + "/.", dst], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemError_(f"copying snapshot: {r.stderr.strip()}")


class NativeSnapshotter(StoredSnapshotter):
    name = "native"

    def _new(self, key: str, parent: str | None, kind: str, labels) -> list[Mount]:
        with self.store.lock:
            info = self.store.create(key, parent, kind, labels)
            fs = self.store.dir(info.id) / "fs"
            fs.mkdir()
            try:
                if parent is not None:
                    copy_tree(self._fs(self.store.get(parent)), str(fs))
            except BaseException:
                self.remove(key)
                raise
            return self.mounts(key)

    def mounts(self, key: str) -> list[Mount]:
        info = self.store.get(key)
        return [Mount("bind", self._fs(info), ["rbind", "rw" if info.kind == KIND_ACTIVE else "ro"])]

    def commit(self, name: str, key: str, labels: dict[str, str] | None = None) -> None:
        self.store.commit(name, key, labels)


def new_snapshotter(kind: str, root: str | Path):
    if kind == "overlay":
        from skiff.engine.snapshots.overlay import OverlaySnapshotter
        return OverlaySnapshotter(root)
    if kind in ("native", "vfs"):
        return NativeSnapshotter(root)
    raise SystemError_(f"unknown snapshotter {kind!r}")
