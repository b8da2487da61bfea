"""COPY and ADD on a mounted root filesystem, with Docker's destination rules, and the content
checksums the layer cache keys them by. Runs in a worker thread (plain blocking I/O)."""

from __future__ import annotations

import hashlib
import os
import posixpath
import shutil
import stat
import tarfile
import urllib.parse
import urllib.request
from email.utils import parsedate_to_datetime

from skiff.common.errors import InvalidArgument
from skiff.engine.containers.hostfs import secure_join

ARCHIVE_MAGIC = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00")


def _hash_entry(h, path: str, rel: str) -> None:
    st = os.lstat(path)
    h.update(f"{rel}\0{stat.S_IFMT(st.st_mode)}\0{stat.S_IMODE(st.st_mode)}\0".encode())
    if stat.S_ISLNK(st.st_mode):
        h.update(os.readlink(path).encode())
    elif stat.S_ISREG(st.st_mode):
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)


def source_checksum(sources: list[str]) -> str:
    """`file:<hex>`, `dir:<hex>` or `multi:<hex>`: what Docker's history and cache key show."""
    parts = []
    for src in sources:
        h = hashlib.sha256()
        if os.path.isdir(src) and not os.path.islink(src):
            for dirpath, dirnames, filenames in os.walk(src):
                dirnames.sort()
                for name in sorted(dirnames + filenames):
                    full = os.path.join(dirpath, name)
                    _hash_entry(h, full, os.path.relpath(full, src))
            parts.append(("dir", h.hexdigest()))
        else:
            _hash_entry(h, src, os.path.basename(src))
            parts.append(("file", h.hexdigest()))
    if len(parts) == 1:
        return f"{parts[0][0]}:{parts[0][1]}"
    return "multi:" + hashlib.sha256("".join(p[1] for p in parts).encode()).hexdigest()


def is_archive(path: str) -> bool:
    if not os.path.isfile(path):
        return False
    with open(path, "rb") as f:
        head = f.read(512)
    if head.startswith(ARCHIVE_MAGIC):
        return True
    return len(head) >= 262 and head[257:262] == b"ustar"


def download(url: str, dest_dir: str) -> tuple[str, str]:
    """Fetch an ADD URL into dest_dir; returns (path, file name). Mode 0600, mtime Last-Modified."""
    try:
        with urllib.request.urlopen(url, timeout=60) as resp:  # noqa: S310 - ADD is for any URL
            name = posixpath.basename(urllib.parse.urlparse(resp.geturl()).path) or "__unnamed__"
            path = os.path.join(dest_dir, hashlib.sha256(url.encode()).hexdigest()[:16])
            with open(path, "wb") as out:
                shutil.copyfileobj(resp, out)
            modified = resp.headers.get("Last-Modified")
    except OSError as e:
        raise InvalidArgument(f"failed to GET {url}: {getattr(e, 'reason', e)}") from None
    os.chmod(path, 0o600)
    if modified:
        try:
            t = parsedate_to_datetime(modified).timestamp()
            os.utime(path, (t, t))
        except (TypeError, ValueError):
            pass
    return path, name


def _mkdirs(root: str, container_path: str, uid: int, gid: int, chown_new: bool) -> str:
    """Create a directory (and parents) inside the rootfs; returns its host path."""
    target = secure_join(root, container_path)
    missing = []
    p = target
    while not os.path.exists(p) and p != root:
        missing.append(p)
        p = os.path.dirname(p)
    for d in reversed(missing):
        os.mkdir(d, 0o755)
        if chown_new:
            os.lchown(d, uid, gid)
    return target


def _copy_one(src: str, dst: str, uid: int, gid: int) -> None:
    st = os.lstat(src)
    if os.path.lexists(dst) and (os.path.isdir(dst) and not os.path.islink(dst)) != stat.S_ISDIR(st.st_mode):
        if os.path.isdir(dst) and not os.path.islink(dst):
            shutil.rmtree(dst)
        else:
            os.unlink(dst)
    if stat.S_ISLNK(st.st_mode):
        if os.path.lexists(dst):
            os.unlink(dst)
        os.symlink(os.readlink(src), dst)
    elif stat.S_ISDIR(st.st_mode):
        if not os.path.isdir(dst):
            os.mkdir(dst)
        os.chmod(dst, stat.S_IMODE(st.st_mode))
        for name in os.listdir(src):
            _copy_one(os.path.join(src, name), os.path.join(dst, name), uid, gid)
        os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns))
    elif stat.S_ISREG(st.st_mode):
        if os.path.lexists(dst):
            os.unlink(dst)
        shutil.copyfile(src, dst)
        os.chmod(dst, stat.S_IMODE(st.st_mode))
        os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns))
    else:
        return  # devices, fifos and sockets are not part of a build context
    os.lchown(dst, uid, gid)


def _extract(archive: str, dest: str, uid_gid: tuple[int, int] | None) -> None:
    with tarfile.open(archive, "r:*") as tar:
        for member in tar:
            if uid_gid is not None:
                member.uid, member.gid = uid_gid
            member.uname = member.gname = ""
            tar.extract(member, dest, set_attrs=True, filter="tar")


def copy_into(root: str, sources: list[tuple[str, str]], dest: str, workdir: str, uid: int, gid: int,
              instruction: str, extract: bool = False, chown_given: bool = False) -> None:
    """Copy context (or stage) `sources` to `dest` inside the mounted rootfs `root`."""
    as_dir = dest.endswith("/") or dest.endswith("/.") or dest in (".", "..")
    path = dest if dest.startswith("/") else posixpath.join(workdir or "/", dest)
    path = posixpath.normpath(path)
    if len(sources) > 1 and not as_dir:
        raise InvalidArgument(f"When using {instruction} with more than one source file, the destination "
                              "must be a directory and end with a /")
    for src, _rel in sources:
        is_dir = os.path.isdir(src) and not os.path.islink(src)
        if extract and not is_dir and is_archive(src):
            target = _mkdirs(root, path, uid, gid, chown_given)
            _extract(src, target, (uid, gid) if chown_given else None)
            continue
        if is_dir:
            target = _mkdirs(root, path, uid, gid, True)
            for name in os.listdir(src):
                _copy_one(os.path.join(src, name), os.path.join(target, name), uid, gid)
            continue
        host_dest = secure_join(root, path)
        if as_dir or (os.path.isdir(host_dest) and not os.path.islink(host_dest)):
            target_dir = _mkdirs(root, path, uid, gid, chown_given)
            _copy_one(src, os.path.join(target_dir, os.path.basename(_rel) or os.path.basename(src)), uid, gid)
        else:
            _mkdirs(root, posixpath.dirname(path), uid, gid, False)
            _copy_one(src, secure_join(root, path), uid, gid)
