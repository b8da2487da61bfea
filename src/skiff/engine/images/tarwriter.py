"""Write layer and rootfs tarballs from directory trees (commit, export, import checks)."""

from __future__ import annotations

import os
import stat
import tarfile
from collections.abc import Iterable
from typing import BinaryIO

from skiff.engine.images.changes import DELETED, Change
from skiff.engine.images.unpack import OPAQUE, WHITEOUT_PREFIX, XATTR_PAX_PREFIX

SKIP_XATTRS = ("trusted.overlay.",)


def _info(tar: tarfile.TarFile, path: str, arcname: str) -> tarfile.TarInfo | None:
    ti = tar.gettarinfo(path, arcname)
    if ti is None:
        return None  # a socket or door: tar cannot hold it, and Docker leaves them out too
    ti.uname = ti.gname = ""  # numeric ids are what matter inside an image
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        names = []
    pax = {}
    for name in names:
        if name.startswith(SKIP_XATTRS):
            continue
        try:
            pax[XATTR_PAX_PREFIX + name] = os.getxattr(path, name, follow_symlinks=False).decode(
                "utf-8", "surrogateescape")
        except OSError:
            continue
    if pax:
        ti.pax_headers = pax
    return ti


def add_path(tar: tarfile.TarFile, path: str, arcname: str) -> None:
    """One entry (no recursion); hard links within the archive are kept as links."""
    ti = _info(tar, path, arcname)
    if ti is None:
        return
    if ti.isreg() and ti.type != tarfile.LNKTYPE:
        with open(path, "rb") as f:
            tar.addfile(ti, f)
    else:
        tar.addfile(ti)


def _marker(name: str) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.type = tarfile.REGTYPE
    ti.mode = 0o644
    return ti


def write_changes(changes: Iterable[Change], out: BinaryIO) -> None:
    """A layer tarball: new/changed entries, `.wh.` for deletions, `.wh..wh..opq` for opaque dirs."""
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for c in changes:
            rel = c.path.lstrip("/")
            if c.kind == DELETED:
                head, base = os.path.split(rel)
                tar.addfile(_marker(os.path.join(head, WHITEOUT_PREFIX + base)))
                continue
            add_path(tar, c.source, rel)
            if c.opaque:
                tar.addfile(_marker(os.path.join(rel, OPAQUE)))


def write_tree(entries: Iterable[tuple[str, str]], out: BinaryIO) -> None:
    """A tarball of (relative name, source path) pairs, e.g. a merged rootfs for export."""
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for rel, src in entries:
            st = os.lstat(src)
            if stat.S_ISSOCK(st.st_mode):
                continue  # tar cannot hold sockets
            add_path(tar, src, rel)


def walk_tree(root: str) -> Iterable[tuple[str, str]]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            full = os.path.join(dirpath, name)
            yield os.path.relpath(full, root), full
