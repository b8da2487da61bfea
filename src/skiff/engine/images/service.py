"""ImageService: what the API and the container service call for images.

Quick lookups are plain methods; anything that reads or writes tarballs or walks trees
is `async` and runs its work in a thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from skiff.engine.events import EventBus
from skiff.engine.snapshots.base import Mount

# in_use(image_id) -> id of a container using that image, or None.
InUse = Callable[[str], str | None]


@dataclass
class Image:
    id: str  # "sha256:" + config digest hex
    config: dict  # the whole image config JSON (architecture, os, config, rootfs, history, ...)
    repo_tags: list[str] = field(default_factory=list)  # familiar form: "busybox:latest"
    repo_digests: list[str] = field(default_factory=list)  # "busybox@sha256:..."
    size: int = 0  # bytes of all layers, unpacked
    created: str = ""  # RFC 3339, from the config
    parent: str = ""  # local parent image id (commit/build), or ""
    manifest_digest: str = ""  # digest of the stored manifest blob

    @property
    def diff_ids(self) -> list[str]:
        return list(self.config.get("rootfs", {}).get("diff_ids", []))

    @property
    def container_config(self) -> dict:
        """The runtime part of the config (Env, Cmd, Entrypoint, WorkingDir, User, ...)."""
        return dict(self.config.get("config") or {})


class ImageService:
    def __init__(self, root: str | Path, events: EventBus | None = None, snapshotter: str = "overlay"):
        """`root` is the engine's data root; content/, snapshots/ and images/ live under it."""
        self.root = Path(root)
        self.events = events or EventBus()
        self.snapshotter_name = snapshotter
        # set by the container service: in_use(image_id) -> a container id using it, or None
        self.in_use: InUse = lambda image_id: None

    # -- lookups -------------------------------------------------------------------------
    def get(self, ref_or_id: str) -> Image:
        """By reference, full id, `sha256:` id, or short id prefix. NotFound("No such image: X")."""
        raise NotImplementedError

    def list(self, all: bool = False, filters: dict[str, list[str]] | None = None,
             digests: bool = False) -> list[dict]:
        """Docker's ImageSummary list (GET /images/json)."""
        raise NotImplementedError

    def inspect(self, ref_or_id: str) -> dict:
        """Docker's ImageInspect JSON."""
        raise NotImplementedError

    def history(self, ref_or_id: str) -> list[dict]:
        """Docker's HistoryResponseItem list, newest first."""
        raise NotImplementedError

    # -- references ----------------------------------------------------------------------
    def tag(self, source: str, repo: str, tag: str | None = None) -> None:
        raise NotImplementedError

    def remove(self, ref_or_id: str, force: bool = False, noprune: bool = False) -> list[dict]:
        """Docker's DELETE /images/{name} answer: [{"Untagged": ...}, {"Deleted": ...}]."""
        raise NotImplementedError

    # -- archives ------------------------------------------------------------------------
    async def load(self, fileobj: BinaryIO, quiet: bool = False) -> list[str]:
        """Load a docker-archive or OCI layout tar; returns lines like "Loaded image: busybox:latest"."""
        raise NotImplementedError

    async def save(self, refs: list[str], out: BinaryIO) -> None:
        """Write a docker-archive tar (also a valid OCI layout) of the images to `out`."""
        raise NotImplementedError

    async def save_oci_layout(self, refs: list[str], directory: str | Path) -> None:
        """Write an OCI image layout directory (for `skopeo inspect oci:DIR`)."""
        raise NotImplementedError

    async def import_rootfs(self, fileobj: BinaryIO, repo: str | None = None, tag: str | None = None,
                            changes: list[str] | None = None, message: str = "",
                            platform: str = "") -> str:
        """`docker import`: a rootfs tarball becomes a one-layer image; returns the image id."""
        raise NotImplementedError

    async def commit(self, key: str, parent_image: str, repo: str | None = None, tag: str | None = None,
                     author: str = "", comment: str = "", changes: list[str] | None = None,
                     config: dict | None = None, container_id: str = "") -> str:
        """A new image from the active snapshot `key` (its upper dir) on top of `parent_image`."""
        raise NotImplementedError

    async def prune(self, all: bool = False, filters: dict[str, list[str]] | None = None) -> dict:
        """{"ImagesDeleted": [...], "SpaceReclaimed": n}; dangling only unless `all`."""
        raise NotImplementedError

    # -- container root filesystems ------------------------------------------------------
    def prepare_rootfs(self, key: str, image: str) -> list[Mount]:
        """A writable snapshot `key` (the container id) on top of the image's layers."""
        raise NotImplementedError

    def rootfs_mounts(self, key: str) -> list[Mount]:
        raise NotImplementedError

    def remove_rootfs(self, key: str) -> None:
        raise NotImplementedError

    async def rootfs_changes(self, key: str) -> list[dict]:
        """`docker diff`: [{"Path": "/etc/x", "Kind": 0|1|2}] (modified, added, deleted)."""
        raise NotImplementedError

    async def rootfs_size(self, key: str) -> int:
        """Bytes in the container's writable layer (SizeRw)."""
        raise NotImplementedError

    async def export_rootfs(self, key: str, out: BinaryIO) -> None:
        """A tar of the container's whole filesystem (image layers + its changes)."""
        raise NotImplementedError
