"""Mounted root filesystems for COPY/ADD/WORKDIR steps and for COPY --from sources."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from typing import Any

from skiff.common.ids import new_id
from skiff.engine.containers.hostfs import unmount
from skiff.engine.snapshots.mounting import mount_all


def new_key() -> str:
    return "build-" + new_id()[:24]


@contextlib.contextmanager
def mounted(images: Any, key: str, parent_chain: str | None, tmp_root: str) -> Iterator[str]:
    """An active snapshot `key` on `parent_chain`, mounted; the caller commits and removes it."""
    os.makedirs(tmp_root, exist_ok=True)
    mounts = images.snapshotter.prepare(key, parent_chain)
    target = tempfile.mkdtemp(prefix="mnt-", dir=tmp_root)
    try:
        mount_all(mounts, target)
        try:
            yield target
        finally:
            unmount(target)
    finally:
        with contextlib.suppress(OSError):
            os.rmdir(target)


@contextlib.contextmanager
def image_root(images: Any, chain: str | None, tmp_root: str) -> Iterator[str]:
    """A throw-away mounted view of an image's files (COPY --from)."""
    key = new_key()
    try:
        with mounted(images, key, chain, tmp_root) as root:
            yield root
    finally:
        with images.lock:
            if images.snapshotter.exists(key):
                images.snapshotter.remove(key)
