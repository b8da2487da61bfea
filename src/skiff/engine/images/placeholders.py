"""The runtime's bind-mount placeholders, left out of committed layers.

When an image has no /etc/hostname, /etc/hosts or /etc/resolv.conf, the runtime creates empty
files (and an /etc if needed) in the container's writable layer to mount the real ones over.
dockerd keeps these in a container's init layer, so neither `docker commit` nor a build step's
layer carries them; both of ours leave them out through this module.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from typing import Any

from skiff.engine.images.changes import ADDED, Change, overlay_changes

MOUNT_POINTS = ("/etc/hostname", "/etc/hosts", "/etc/resolv.conf")


def _empty_file(path: str) -> bool:
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and st.st_size == 0


def placeholder_paths(changes: Iterable[Change], lowers: list[str]) -> set[str]:
    """The paths among `changes` that are only the runtime's placeholders: empty files added at
    the mount points, and /etc when it holds nothing else and exists only for them (made new,
    or the lower /etc copied up unchanged)."""
    changes = list(changes)
    by_path = {c.path: c for c in changes}
    found = {p for p in MOUNT_POINTS
             if (c := by_path.get(p)) is not None and c.kind == ADDED and _empty_file(c.source)}
    etc = by_path.get("/etc")
    if not found or etc is None or etc.opaque or not etc.source or os.path.islink(etc.source):
        return found
    if any(c.path.startswith("/etc/") and c.path not in found for c in changes):
        return found
    if etc.kind == ADDED:
        return found | {"/etc"}
    lower = next((d + "/etc" for d in lowers if os.path.lexists(d + "/etc")), None)
    if lower is None:
        return found | {"/etc"}
    mine, theirs = os.lstat(etc.source), os.lstat(lower)
    if (mine.st_mode, mine.st_uid, mine.st_gid) == (theirs.st_mode, theirs.st_uid, theirs.st_gid):
        found.add("/etc")
    return found


def without_placeholders(changes: list[Change], lowers: list[str]) -> list[Change]:
    """`changes` less the placeholders (`docker commit`, which must not touch a running container)."""
    drop = placeholder_paths(changes, lowers)
    return [c for c in changes if c.path not in drop] if drop else changes


def strip_placeholders(images: Any, key: str) -> None:
    """Delete the placeholders from a stopped container's overlay upper dir, so that the dir is
    exactly the layer (a build step commits the snapshot itself as the layer's)."""
    if images.snapshotter_name != "overlay":
        return
    upper = images.snapshotter.upper_dir(key)
    lowers = images.snapshotter.lower_dirs(key)
    for path in sorted(placeholder_paths(overlay_changes(upper, lowers), lowers), reverse=True):
        if path == "/etc":
            os.rmdir(upper + path)  # files first: reverse order puts /etc/* before /etc
        else:
            os.unlink(upper + path)
