"""Filesystem changes of a container's writable layer: `docker diff`, commit, export.

Overlay upper dirs are read directly (0/0 char devices are deletions, the opaque xattr
hides lower contents). Native snapshots are compared with their parent tree.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass

from skiff.engine.images.unpack import OVERLAY_OPAQUE_XATTR

MODIFIED, ADDED, DELETED = 0, 1, 2


@dataclass(frozen=True)
class Change:
    path: str  # "/etc/passwd"
    kind: int  # MODIFIED | ADDED | DELETED
    source: str = ""  # absolute path of the new content ("" for deletions)
    opaque: bool = False  # a directory whose lower contents are hidden


def is_whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def is_opaque(path: str) -> bool:
    try:
        return os.getxattr(path, OVERLAY_OPAQUE_XATTR, follow_symlinks=False) == b"y"
    except OSError:
        return False


def _exists_in(lowers: list[str], rel: str) -> bool:
    """Whether `rel` is visible through the lower layers (nearest first), honouring whiteouts."""
    parts = rel.strip("/").split("/")
    for lower in lowers:
        p = lower
        hidden = False
        for i, comp in enumerate(parts):
            p = os.path.join(p, comp)
            try:
                st = os.lstat(p)
            except FileNotFoundError:
                break
            if is_whiteout(st):
                hidden = True
                break
            if i == len(parts) - 1:
                return True
            if not stat.S_ISDIR(st.st_mode):
                break
            if is_opaque(p):
                # nothing below this dir comes from further down
                for rest in parts[i + 1:]:
                    p = os.path.join(p, rest)
                return os.path.lexists(p) and not is_whiteout(os.lstat(p))
        if hidden:
            return False
    return False


def overlay_changes(upper: str, lowers: list[str]) -> Iterator[Change]:
    """Changes recorded in an overlay upper dir, parents before children."""
    for dirpath, dirnames, filenames in os.walk(upper):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            full = os.path.join(dirpath, name)
            rel = "/" + os.path.relpath(full, upper)
            st = os.lstat(full)
            if is_whiteout(st):
                if _exists_in(lowers, rel):
                    yield Change(rel, DELETED)
                continue
            opaque = stat.S_ISDIR(st.st_mode) and is_opaque(full)
            kind = MODIFIED if _exists_in(lowers, rel) else ADDED
            yield Change(rel, kind, full, opaque)
        dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]


def _same(a: os.stat_result, b: os.stat_result, pa: str, pb: str) -> bool:
    if stat.S_IFMT(a.st_mode) != stat.S_IFMT(b.st_mode):
        return False
    if (a.st_mode, a.st_uid, a.st_gid) != (b.st_mode, b.st_uid, b.st_gid):
        return False
    if stat.S_ISLNK(a.st_mode):
        return os.readlink(pa) == os.readlink(pb)
    if stat.S_ISDIR(a.st_mode):
        return True  # a directory changes only through its metadata or its children
    if stat.S_ISCHR(a.st_mode) or stat.S_ISBLK(a.st_mode):
        return a.st_rdev == b.st_rdev
    return a.st_size == b.st_size and a.st_mtime_ns == b.st_mtime_ns


def tree_changes(new: str, old: str | None) -> Iterator[Change]:
    """Changes from tree `old` (None: empty) to tree `new`, parents before children."""
    changed_dirs: set[str] = set()
    out: list[Change] = []
    for dirpath, dirnames, filenames in os.walk(new):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, new)
            st = os.lstat(full)
            oldp = os.path.join(old, rel) if old else None
            try:
                ost = os.lstat(oldp) if oldp else None
            except FileNotFoundError:
                ost = None
            if ost is None:
                out.append(Change("/" + rel, ADDED, full))
                changed_dirs.add(os.path.dirname(rel))
            elif not _same(st, ost, full, oldp or ""):
                out.append(Change("/" + rel, MODIFIED, full))
                changed_dirs.add(os.path.dirname(rel))
        dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]
    if old:
        for dirpath, dirnames, filenames in os.walk(old):
            keep = []
            for name in sorted(dirnames + filenames):
                rel = os.path.relpath(os.path.join(dirpath, name), old)
                if not os.path.lexists(os.path.join(new, rel)):
                    out.append(Change("/" + rel, DELETED))
                    changed_dirs.add(os.path.dirname(rel))
                elif name in dirnames and not os.path.islink(os.path.join(dirpath, name)):
                    keep.append(name)
            dirnames[:] = keep
    # a directory whose entries changed counts as modified, as Docker reports it
    listed = {c.path for c in out}
    for d in sorted(changed_dirs):
        while d and d != ".":
            if "/" + d not in listed:
                out.append(Change("/" + d, MODIFIED, os.path.join(new, d)))
                listed.add("/" + d)
            d = os.path.dirname(d)
    out.sort(key=lambda c: c.path)
    yield from out


def merged_tree(layers: list[str]) -> Iterator[tuple[str, str]]:
    """(relative path, source path) of the union of overlay-format layer dirs, nearest first."""
    yield from _merged_level(layers, "")


def _merged_level(dirs: list[str], rel: str) -> Iterator[tuple[str, str]]:
    seen: set[str] = set()
    entries: list[tuple[str, str, list[str]]] = []
    for i, d in enumerate(dirs):
        try:
            names = sorted(os.listdir(d))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for name in names:
            if name in seen:
                continue
            seen.add(name)
            full = os.path.join(d, name)
            st = os.lstat(full)
            if is_whiteout(st):
                continue
            below: list[str] = []
            if stat.S_ISDIR(st.st_mode) and not is_opaque(full):
                below = [os.path.join(x, name) for x in dirs[i + 1:]]
            entries.append((name, full, [full, *below] if stat.S_ISDIR(st.st_mode) else []))
        if is_opaque(d) and rel:
            break
    for name, full, subdirs in sorted(entries):
        child = f"{rel}/{name}" if rel else name
        yield child, full
        if subdirs:
            yield from _merged_level(subdirs, child)
