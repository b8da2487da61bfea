"""The snapshotter contract: layered filesystems returned as mounts (data), never mounted here.

A snapshot is either *committed* (read-only, a layer, keyed by its chain ID) or *active*
(writable, keyed by e.g. a container id, on top of a committed parent). The runtime mounts
what `mounts()` returns; the snapshotter only manages directories and metadata.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from typing import Protocol

KIND_COMMITTED = "committed"
KIND_ACTIVE = "active"
KIND_VIEW = "view"


@dataclass(frozen=True)
class Mount:
    """One mount as OCI's config.json describes it (`type`, `source`, `options`)."""

    type: str  # "overlay" | "bind"
    source: str
    options: list[str] = field(default_factory=list)

    def to_oci(self, destination: str = "/") -> dict:
        return {"destination": destination, "type": self.type, "source": self.source, "options": list(self.options)}


@dataclass
class SnapshotInfo:
    key: str
    kind: str
    parent: str | None
    id: str  # directory name under snapshots/
    created: float = 0.0
    labels: dict[str, str] = field(default_factory=dict)


class Snapshotter(Protocol):
    root: str

    def prepare(self, key: str, parent: str | None, labels: dict[str, str] | None = None) -> list[Mount]:
        """A new writable snapshot `key` on top of committed `parent` (None: empty)."""

    def view(self, key: str, parent: str | None) -> list[Mount]:
        """A read-only snapshot of `parent` (for export/inspection)."""

    def mounts(self, key: str) -> list[Mount]: ...

    def commit(self, name: str, key: str, labels: dict[str, str] | None = None) -> None:
        """Turn active `key` into committed `name`; `key` stops existing."""

    def remove(self, key: str) -> None:
        """Remove a snapshot; `Conflict` if committed snapshots or others have it as parent."""

    def exists(self, key: str) -> bool: ...

    def stat(self, key: str) -> SnapshotInfo: ...

    def list(self) -> builtins.list[SnapshotInfo]: ...

    def usage(self, key: str) -> int:
        """Bytes used by this snapshot's own directory (not its parents)."""

    def upper_dir(self, key: str) -> str:
        """The directory holding this snapshot's own files (overlay upperdir, or native copy)."""

    def lower_dirs(self, key: str) -> builtins.list[str]:
        """The parents' directories, nearest first (empty for a base snapshot)."""
