"""Host-side filesystem work for containers: mounting the rootfs, resolving paths inside it safely,
listing host devices for privileged containers, copying image content into new volumes."""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import posixpath
import shutil
import stat

from skiff.common.errors import SystemError_

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
MS_BIND = 4096
MNT_DETACH = 2


def mount(source: str, target: str, fstype: str, flags: int = 0, data: str = "") -> None:
    if _libc.mount(source.encode(), target.encode(), fstype.encode(), flags, data.encode() or None) != 0:
        e = ctypes.get_errno()
        raise SystemError_(f"mount {source} on {target} ({fstype}): {os.strerror(e)}")


def unmount(target: str) -> None:
    if _libc.umount2(target.encode(), MNT_DETACH) != 0:
        e = ctypes.get_errno()
        if e not in (errno.EINVAL, errno.ENOENT):
            raise SystemError_(f"unmount {target}: {os.strerror(e)}")


def mount_rootfs(mounts: list, target: str) -> None:
    """Mount what the snapshotter returned (`overlay` or a `bind` of a directory) on `target`."""
    os.makedirs(target, exist_ok=True)
    if os.path.ismount(target):
        return
    for m in mounts:
        if m.type == "bind":
            mount(m.source, target, "", MS_BIND)
        else:
            opts = [o for o in m.options if o not in ("rw",)]
            if m.type == "overlay" and len(",".join(opts)) >= 4096:
                # past a page of lowerdirs (deep images, long builds): the new mount API
                from skiff.engine.snapshots.mounting import mount_overlay_long
                mount_overlay_long(m, target)
                continue
            mount(m.source, target, m.type, 0, ",".join(opts))


def secure_join(root: str, path: str) -> str:
    """`path` inside `root` with symlinks resolved as the container would see them, never leaving root."""
    parts = [p for p in path.split("/") if p and p != "."]
    resolved = ""  # relative to root, no leading slash
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            resolved = posixpath.dirname(resolved)
            continue
        candidate = posixpath.join(resolved, part)
        full = os.path.join(root, candidate)
        try:
            st = os.lstat(full)
        except FileNotFoundError:
            resolved = candidate
            continue
        if stat.S_ISLNK(st.st_mode):
            hops += 1
            if hops > 255:
                raise SystemError_(f"too many levels of symbolic links: {path}")
            target = os.readlink(full)
            if target.startswith("/"):
                resolved = ""
            parts = [p for p in target.split("/") if p and p != "."] + parts
            continue
        resolved = candidate
    return os.path.join(root, resolved) if resolved else root


def device_entry(path_on_host: str, path_in_container: str = "") -> dict:
    """The OCI `linux.devices` entry for one host device node (`--device`)."""
    try:
        st = os.stat(path_on_host)
    except OSError as e:
        raise SystemError_(f'error gathering device information while adding custom device "{path_on_host}": '
                           f"{e.strerror.lower() if e.strerror else e}") from None
    if stat.S_ISCHR(st.st_mode):
        kind = "c"
    elif stat.S_ISBLK(st.st_mode):
        kind = "b"
    else:
        raise SystemError_(f'error gathering device information while adding custom device "{path_on_host}": '
                           "not a device node")
    return {"path": path_in_container or path_on_host, "type": kind, "major": os.major(st.st_rdev),
            "minor": os.minor(st.st_rdev), "fileMode": stat.S_IMODE(st.st_mode), "uid": st.st_uid, "gid": st.st_gid}


def host_devices() -> list[dict]:
    """Every device node under /dev, as OCI `linux.devices` entries (privileged containers get all)."""
    out = []
    for dirpath, dirnames, files in os.walk("/dev"):
        dirnames[:] = [d for d in dirnames if d not in ("pts", "shm", "mqueue")]
        for name in files:
            path = os.path.join(dirpath, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISCHR(st.st_mode):
                kind = "c"
            elif stat.S_ISBLK(st.st_mode):
                kind = "b"
            else:
                continue
            if path in ("/dev/console", "/dev/ptmx", "/dev/tty") or path.startswith("/dev/pts"):
                continue
            out.append({"path": path, "type": kind, "major": os.major(st.st_rdev), "minor": os.minor(st.st_rdev),
                        "fileMode": stat.S_IMODE(st.st_mode), "uid": st.st_uid, "gid": st.st_gid})
    return out


def copy_up(src: str, dst: str) -> None:
    """Copy image content at a volume's mount point into the (empty) volume, keeping owners and modes."""
    if not os.path.isdir(src):
        return
    st = os.stat(src)
    os.chmod(dst, stat.S_IMODE(st.st_mode))
    os.chown(dst, st.st_uid, st.st_gid)
    for entry in os.listdir(src):
        s, d = os.path.join(src, entry), os.path.join(dst, entry)
        if os.path.isdir(s) and not os.path.islink(s):
            shutil.copytree(s, d, symlinks=True, copy_function=shutil.copy2)
            for dirpath, dirnames, files in os.walk(s):
                for n in dirnames + files:
                    sp = os.path.join(dirpath, n)
                    dp = os.path.join(d, os.path.relpath(sp, s))
                    lst = os.lstat(sp)
                    os.lchown(dp, lst.st_uid, lst.st_gid)
            os.chown(d, os.stat(s).st_uid, os.stat(s).st_gid)
        elif os.path.islink(s):
            os.symlink(os.readlink(s), d)
        else:
            shutil.copy2(s, d)
            lst = os.lstat(s)
            os.chown(d, lst.st_uid, lst.st_gid)
