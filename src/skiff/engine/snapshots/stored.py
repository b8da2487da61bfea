"""What the native and overlay snapshotters share: a `SnapshotStore` of metadata and one
`snapshots/<n>/fs` directory per snapshot. Subclasses say how a snapshot is created
(`_new`), mounted (`mounts`) and committed (`commit`)."""

from __future__ import annotations

import builtins
from pathlib import Path

from skiff.engine.snapshots.base import KIND_ACTIVE, KIND_VIEW, Mount, SnapshotInfo
from skiff.engine.snapshots.metadata import SnapshotStore, tree_usage


class StoredSnapshotter:
    def __init__(self, root: str | Path):
        self.store = SnapshotStore(root)
        self.root = self.store.root

    def _fs(self, info: SnapshotInfo) -> str:
        return str(self.store.dir(info.id) / "fs")

    def _new(self, key: str, parent: str | None, kind: str, labels) -> list[Mount]:
        raise NotImplementedError

    def prepare(self, key: str, parent: str | None, labels: dict[str, str] | None = None) -> list[Mount]:
        return self._new(key, parent, KIND_ACTIVE, labels)

    def view(self, key: str, parent: str | None) -> list[Mount]:
        return self._new(key, parent, KIND_VIEW, None)

    def remove(self, key: str) -> None:
        with self.store.lock:
            self.store.remove_dir(self.store.remove(key))

    def exists(self, key: str) -> bool:
        return self.store.exists(key)

    def stat(self, key: str) -> SnapshotInfo:
        return self.store.get(key)

    def list(self) -> builtins.list[SnapshotInfo]:
        return self.store.all()

    def usage(self, key: str) -> int:
        return tree_usage(self._fs(self.store.get(key)))

    def upper_dir(self, key: str) -> str:
        """Overlay's upperdir; for native the whole tree (diff it against `lower_dirs`)."""
        return self._fs(self.store.get(key))

    def lower_dirs(self, key: str) -> builtins.list[str]:
        info = self.store.get(key)
        return [self._fs(s) for s in self.store.chain(info.parent)]
