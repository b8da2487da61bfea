"""Apply a layer tarball to a directory, safely, with OCI whiteouts.

Two target formats:
- "overlay": the directory is the layer's own overlay upper dir; `.wh.name` becomes a 0/0
  character device and `.wh..wh..opq` the `trusted.overlay.opaque=y` xattr.
- "native": the directory already holds the parent's full tree; whiteouts delete.

Safety: every entry must land inside the directory. An absolute name, a `..` component, a
path through a symlink, or a hard link to something outside makes the whole tarball
refused with InvalidArgument. Nothing is ever opened through a symlink (O_NOFOLLOW, parents
checked with lstat), so a refused tarball has written nothing outside `dest`; the caller
throws `dest` away.
"""

from __future__ import annotations

import errno
import os
import stat
import tarfile
from typing import BinaryIO

from skiff.common.errors import InvalidArgument

WHITEOUT_PREFIX = ".wh."
OPAQUE = ".wh..wh..opq"
OVERLAY_OPAQUE_XATTR = "trusted.overlay.opaque"
XATTR_PAX_PREFIX = "SCHILY.xattr."
CHUNK = 1 << 20
IS_ROOT = os.geteuid() == 0
# errors an entry can cause by contradicting an earlier one (not the host's fault)
_ENTRY_ERRORS = {errno.EPERM, errno.ENOENT, errno.EEXIST, errno.EISDIR, errno.ENOTDIR, errno.EINVAL,
                 errno.ENOTEMPTY, errno.EMLINK, errno.ENAMETOOLONG, errno.ELOOP}


class UnsafeEntry(InvalidArgument):
    pass


def clean_name(name: str) -> list[str]:
    """The path components of a tar entry name; refuses absolute paths and `..`."""
    if name.startswith("/"):
        raise UnsafeEntry(f"refusing layer: entry {name!r} has an absolute path")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafeEntry(f"refusing layer: entry {name!r} would land outside the layer (..)")
    return parts


class LayerWriter:
    def __init__(self, dest: str, fmt: str):
        if fmt not in ("overlay", "native"):
            raise ValueError(fmt)
        self.dest = os.path.abspath(dest)
        self.fmt = fmt
        self.size = 0
        self._safe_dirs: set[str] = {self.dest}
        self._written: set[str] = set()  # relative paths this layer created (whiteouts skip them)
        self._dir_times: list[tuple[str, float]] = []

    # -- path handling --------------------------------------------------------------------
    def _parent(self, parts: list[str], name: str) -> str:
        """The absolute parent directory of an entry, created if missing, never via a symlink."""
        path = self.dest
        for comp in parts[:-1]:
            path = os.path.join(path, comp)
            if path in self._safe_dirs:
                continue
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                os.mkdir(path, 0o755)
                self._safe_dirs.add(path)
                continue
            if stat.S_ISLNK(st.st_mode):
                raise UnsafeEntry(f"refusing layer: entry {name!r} goes through a symlink ({'/'.join(parts[:-1])})")
            if not stat.S_ISDIR(st.st_mode):
                raise UnsafeEntry(f"refusing layer: entry {name!r} has a non-directory parent")
            self._safe_dirs.add(path)
        return path

    def _clear(self, path: str, keep_dir: bool) -> None:
        """Make room for a new entry at `path` (tar replaces what was there)."""
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return
        if stat.S_ISDIR(st.st_mode):
            if keep_dir:
                return
            _rmtree(path)
        else:
            os.unlink(path)
        # a path we vouched for may now be something else
        self._safe_dirs = {d for d in self._safe_dirs if d != path and not d.startswith(path + "/")}

    # -- entries ----------------------------------------------------------------------------
    def apply(self, tar: tarfile.TarFile) -> int:
        for member in tar:
            try:
                self._entry(tar, member)
            except OSError as e:
                if e.errno not in _ENTRY_ERRORS:
                    raise  # the host's problem (disk full, I/O error), not the tarball's
                raise InvalidArgument(f"refusing layer: cannot unpack {member.name!r}: {e.strerror}") from None
        for path, mtime in reversed(self._dir_times):
            try:
                os.utime(path, (mtime, mtime), follow_symlinks=False)
            except OSError:
                pass
        return self.size

    def _entry(self, tar: tarfile.TarFile, m: tarfile.TarInfo) -> None:
        parts = clean_name(m.name)
        if not parts:
            # the root itself ("./"): take its mode and owner
            if m.isdir():
                self._attrs(self.dest, m)
            return
        base = parts[-1]
        rel = "/".join(parts)
        if base.startswith(WHITEOUT_PREFIX):
            self._whiteout(parts, m.name)
            return
        parent = self._parent(parts, m.name)
        path = os.path.join(parent, base)
        if m.isdir():
            self._clear(path, keep_dir=True)
            if not os.path.isdir(path):
                os.mkdir(path, 0o700)
            self._safe_dirs.add(path)
            self._attrs(path, m)
            self._dir_times.append((path, m.mtime))
        elif m.isreg():
            self._clear(path, keep_dir=False)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as out:
                src = tar.extractfile(m)
                if src is not None:
                    while chunk := src.read(CHUNK):
                        out.write(chunk)
            self.size += m.size
            self._attrs(path, m)
        elif m.issym():
            if not m.linkname:
                raise InvalidArgument(f"refusing layer: symlink {m.name!r} has an empty target")
            self._clear(path, keep_dir=False)
            os.symlink(m.linkname, path)
            self._attrs(path, m)
        elif m.islnk():
            target_parts = clean_name(m.linkname)
            if not target_parts:
                raise UnsafeEntry(f"refusing layer: hard link {m.name!r} points at the layer root")
            target = os.path.join(self._parent(target_parts, m.linkname), target_parts[-1])
            if target == path:
                return  # a link to itself changes nothing
            if not os.path.lexists(target):
                raise UnsafeEntry(f"refusing layer: hard link {m.name!r} points at missing {m.linkname!r}")
            if os.path.isdir(target) and not os.path.islink(target):
                raise InvalidArgument(f"refusing layer: hard link {m.name!r} points at directory {m.linkname!r}")
            self._clear(path, keep_dir=False)
            os.link(target, path, follow_symlinks=False)
        elif m.ischr() or m.isblk() or m.isfifo():
            self._clear(path, keep_dir=False)
            if m.isfifo():
                os.mkfifo(path, 0o600)
            elif IS_ROOT:
                kind = stat.S_IFCHR if m.ischr() else stat.S_IFBLK
                os.mknod(path, kind | 0o600, os.makedev(m.devmajor, m.devminor))
            else:
                return  # device nodes need root; an unprivileged unpack (tests) skips them
            self._attrs(path, m)
        else:
            raise InvalidArgument(f"refusing layer: entry {m.name!r} has unsupported type {m.type!r}")
        self._written.add(rel)

    def _whiteout(self, parts: list[str], name: str) -> None:
        parent = self._parent(parts, name)
        base = parts[-1]
        if base == OPAQUE:
            self._opaque(parent, "/".join(parts[:-1]))
            return
        if base.startswith(WHITEOUT_PREFIX + WHITEOUT_PREFIX):
            return  # other AUFS meta files (.wh..wh.plnk, ...) carry nothing for us
        target_rel = "/".join([*parts[:-1], base[len(WHITEOUT_PREFIX):]])
        if target_rel in self._written:
            return  # a whiteout only hides lower layers' files
        target = os.path.join(parent, base[len(WHITEOUT_PREFIX):])
        if self.fmt == "native":
            self._clear(target, keep_dir=False)
            return
        self._clear(target, keep_dir=False)
        try:
            os.mknod(target, stat.S_IFCHR | 0o000, os.makedev(0, 0))
        except PermissionError:
            raise InvalidArgument("overlay whiteouts need root (mknod 0/0)") from None
        self._written.add(target_rel)

    def _opaque(self, dirpath: str, rel: str) -> None:
        if self.fmt == "native":
            # hide everything lower layers put here; keep what this layer already wrote
            for entry in os.listdir(dirpath):
                child_rel = f"{rel}/{entry}" if rel else entry
                if not any(w == child_rel or w.startswith(child_rel + "/") for w in self._written):
                    self._clear(os.path.join(dirpath, entry), keep_dir=False)
            return
        try:
            os.setxattr(dirpath, OVERLAY_OPAQUE_XATTR, b"y", follow_symlinks=False)
        except PermissionError:
            raise InvalidArgument("overlay opaque directories need root (trusted.* xattrs)") from None

    def _attrs(self, path: str, m: tarfile.TarInfo) -> None:
        if IS_ROOT:
            os.lchown(path, m.uid, m.gid)
        for key, value in (m.pax_headers or {}).items():
            if key.startswith(XATTR_PAX_PREFIX):
                attr = key[len(XATTR_PAX_PREFIX):]
                if attr.startswith("trusted.overlay."):
                    continue  # never let a layer forge overlay metadata
                try:
                    os.setxattr(path, attr, value.encode("utf-8", "surrogateescape"), follow_symlinks=False)
                except OSError as e:
                    if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EACCES):
                        raise
        if not m.issym():
            os.chmod(path, m.mode & 0o7777)
            if not m.isdir():
                os.utime(path, (m.mtime, m.mtime))
        else:
            try:
                os.utime(path, (m.mtime, m.mtime), follow_symlinks=False)
            except OSError:
                pass


def apply_layer(src: BinaryIO, dest: str, fmt: str) -> int:
    """Unpack an uncompressed layer tar stream into `dest`; returns the bytes of file data."""
    try:
        with tarfile.open(fileobj=src, mode="r|", errorlevel=2) as tar:
            return LayerWriter(dest, fmt).apply(tar)
    except InvalidArgument:
        raise
    except (tarfile.TarError, EOFError) as e:
        raise InvalidArgument(f"invalid layer tarball: {e or 'unexpected end of data'}") from None


def _rmtree(path: str) -> None:
    import shutil
    shutil.rmtree(path)
