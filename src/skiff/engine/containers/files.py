"""`docker cp` and `docker export`: tar streams of paths inside a container, and extraction into it.

Paths are resolved as the container sees them (symlinks followed inside its root, never out of
it). A running container is read through /proc/<pid>/root, so its volumes and binds are seen;
a stopped one through its mounted rootfs.
"""

from __future__ import annotations

import asyncio
import os
import posixpath
import stat
import tarfile
import tempfile
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from skiff.common.errors import InvalidArgument, NotFound, SystemError_
from skiff.common.timefmt import rfc3339
from skiff.engine.containers import hostfs

if TYPE_CHECKING:
    from skiff.engine.containers.service import ContainerService

CHUNK = 256 * 1024

# Go's os.FileMode type bits, which the path-stat header carries.
GO_DIR, GO_SYMLINK, GO_DEVICE, GO_PIPE, GO_SOCKET = 1 << 31, 1 << 27, 1 << 26, 1 << 25, 1 << 24
GO_SETUID, GO_SETGID, GO_CHARDEV, GO_STICKY = 1 << 23, 1 << 22, 1 << 21, 1 << 20


def go_file_mode(mode: int) -> int:
    out = stat.S_IMODE(mode) & 0o777
    if stat.S_ISDIR(mode):
        out |= GO_DIR
    elif stat.S_ISLNK(mode):
        out |= GO_SYMLINK
    elif stat.S_ISBLK(mode):
        out |= GO_DEVICE
    elif stat.S_ISCHR(mode):
        out |= GO_DEVICE | GO_CHARDEV
    elif stat.S_ISFIFO(mode):
        out |= GO_PIPE
    elif stat.S_ISSOCK(mode):
        out |= GO_SOCKET
    if mode & stat.S_ISUID:
        out |= GO_SETUID
    if mode & stat.S_ISGID:
        out |= GO_SETGID
    if mode & stat.S_ISVTX:
        out |= GO_STICKY
    return out


def resolve(root: str, path: str) -> tuple[str, str]:
    """(host path, container path) of `path`: parents resolved, the last component not followed
    unless the path ends in `/` or `/.`."""
    if not path.startswith("/"):
        path = "/" + path
    follow = path.endswith("/") or path.endswith("/.")
    clean = posixpath.normpath(path)
    if follow or clean == "/":
        return hostfs.secure_join(root, clean), clean
    parent, base = posixpath.split(clean)
    return os.path.join(hostfs.secure_join(root, parent), base), clean


def stat_path(root: str, path: str, name: str) -> dict:
    host, clean = resolve(root, path)
    try:
        st = os.lstat(host)
    except FileNotFoundError:
        raise NotFound(f"Could not find the file {path} in container {name}") from None
    link = ""
    if stat.S_ISLNK(st.st_mode):
        link = hostfs.secure_join(root, clean)[len(root.rstrip("/")):] or "/"
    return {"name": posixpath.basename(clean) or "/", "size": st.st_size, "mode": go_file_mode(st.st_mode),
            "mtime": rfc3339(st.st_mtime_ns), "linkTarget": link}


def _reset_names(ti: tarfile.TarInfo) -> tarfile.TarInfo:
    ti.uname = ti.gname = ""
    return ti


def write_tar(root: str, path: str, out: Any) -> None:
    host, clean = resolve(root, path)
    if not os.path.lexists(host):
        raise NotFound(f"Could not find the file {path}")
    arcname = posixpath.basename(clean) or "."
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        tar.add(host, arcname=arcname, recursive=True, filter=_reset_names)


def _safe_member_name(name: str) -> str:
    clean = posixpath.normpath("/" + name.lstrip("/"))
    if clean == "/":
        return ""
    return clean.lstrip("/")


def extract(root: str, dest: str, tar_path: str, no_overwrite_dir_non_dir: bool = False,
            owner: tuple[int, int] | None = (0, 0)) -> None:
    """Extract a tarball into container directory `dest`, every entry resolved inside `root`.

    Entries get `owner` (the container's root, as `docker cp` does by default); None keeps
    the uid/gid recorded in the tarball (`docker cp -a`)."""
    with tarfile.open(tar_path, mode="r:*") as tar:
        for m in tar:
            rel = _safe_member_name(m.name)
            if not rel:
                continue
            cpath = posixpath.join(dest, rel)
            parent = hostfs.secure_join(root, posixpath.dirname(cpath))
            os.makedirs(parent, exist_ok=True)
            target = os.path.join(parent, posixpath.basename(cpath))
            existing = os.path.lexists(target)
            if existing and no_overwrite_dir_non_dir:
                is_dir = os.path.isdir(target) and not os.path.islink(target)
                if is_dir != m.isdir():
                    kind = "directory" if is_dir else "non-directory"
                    raise InvalidArgument(f"cannot overwrite {kind} {cpath!r} with "
                                          f"{'non-directory' if is_dir else 'directory'}")
            if existing and not m.isdir() and not (os.path.isdir(target) and not os.path.islink(target)):
                os.unlink(target)
            if m.isdir():
                os.makedirs(target, exist_ok=True)
            elif m.issym():
                os.symlink(m.linkname, target)
            elif m.islnk():
                src = hostfs.secure_join(root, posixpath.join(dest, _safe_member_name(m.linkname)))
                os.link(src, target)
            elif m.isreg():
                f = tar.extractfile(m)
                with open(target, "wb") as out:
                    while f is not None:
                        chunk = f.read(CHUNK)
                        if not chunk:
                            break
                        out.write(chunk)
            elif m.isfifo():
                os.mkfifo(target)
            elif m.ischr() or m.isblk():
                node = stat.S_IFCHR if m.ischr() else stat.S_IFBLK
                os.mknod(target, node | 0o600, os.makedev(m.devmajor, m.devminor))
            else:
                continue
            os.lchown(target, *(owner if owner is not None else (m.uid, m.gid)))
            if not m.issym():
                os.chmod(target, m.mode & 0o7777)
                os.utime(target, (m.mtime, m.mtime))


async def _stream_file(f: Any) -> AsyncIterator[bytes]:
    try:
        while True:
            chunk = await asyncio.to_thread(f.read, CHUNK)
            if not chunk:
                return
            yield chunk
    finally:
        f.close()


class FileOps:
    def __init__(self, service: ContainerService):
        self.svc = service

    def _root(self, c: Any) -> str:
        if c.state.running and c.state.pid:
            return f"/proc/{c.state.pid}/root"
        rootfs = str(self.svc.rootfs_dir(c.id))
        hostfs.mount_rootfs(self.svc.images.rootfs_mounts(c.id), rootfs)
        return rootfs

    async def stat(self, c: Any, path: str) -> dict:
        root = await asyncio.to_thread(self._root, c)
        return await asyncio.to_thread(stat_path, root, path, c.name)

    async def get(self, c: Any, path: str) -> tuple[dict, AsyncIterator[bytes]]:
        root = await asyncio.to_thread(self._root, c)
        st = await asyncio.to_thread(stat_path, root, path, c.name)
        spool = tempfile.TemporaryFile()
        try:
            await asyncio.to_thread(write_tar, root, path, spool)
        except OSError as e:
            spool.close()
            raise SystemError_(f"error archiving {path}: {e.strerror}") from None
        spool.seek(0)
        return st, _stream_file(spool)

    async def put(self, c: Any, path: str, body: Any, no_overwrite_dir_non_dir: bool,
                  copy_uid_gid: bool = False) -> None:
        if c.host_config.get("ReadonlyRootfs"):
            raise SystemError_("container rootfs is marked read-only")
        root = await asyncio.to_thread(self._root, c)
        host, clean = resolve(root, path + "/")
        if not os.path.exists(host):
            raise NotFound(f"Could not find the file {path} in container {c.name}")
        if not os.path.isdir(host):
            raise InvalidArgument("extraction point is not a directory")
        with tempfile.NamedTemporaryFile() as spool:
            if isinstance(body, bytes | bytearray):
                spool.write(body)
            else:
                async for chunk in body:
                    await asyncio.to_thread(spool.write, chunk)
            spool.flush()
            try:
                await asyncio.to_thread(extract, root, clean, spool.name, no_overwrite_dir_non_dir,
                                        None if copy_uid_gid else (0, 0))
            except tarfile.TarError as e:
                raise InvalidArgument(f"Error processing tar file: {e}") from None

    async def export(self, c: Any) -> AsyncIterator[bytes]:
        spool = tempfile.TemporaryFile()
        await self.svc.images.export_rootfs(c.id, spool)
        spool.seek(0)
        async for chunk in _stream_file(spool):
            yield chunk
