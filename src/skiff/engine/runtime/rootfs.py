"""The container's filesystem view: mounts from config.json, /dev, pivot_root, masks.

Runs in the container's init before exec, in its new mount namespace, through a
`Syscalls` object (so unit tests replay it against the recording fake). The order follows
runc: make the host's mounts non-shared, bind the rootfs onto itself, mount everything
under it, make /dev, pivot_root; after the process-level setup, read-only paths, masked
paths, and a read-only root.
"""

from __future__ import annotations

import errno
import os
import posixpath
import stat
from typing import Any

from skiff.engine.runtime import mountopts
from skiff.engine.runtime import syscalls as sc
from skiff.engine.runtime.syscalls import Syscalls

# (name, major, minor, mode): the devices every container gets, as runc makes them.
DEFAULT_DEVICES = [
    ("null", 1, 3, 0o666), ("zero", 1, 5, 0o666), ("full", 1, 7, 0o666),
    ("random", 1, 8, 0o666), ("urandom", 1, 9, 0o666), ("tty", 5, 0, 0o666),
]
DEV_SYMLINKS = [("/proc/self/fd", "fd"), ("/proc/self/fd/0", "stdin"), ("/proc/self/fd/1", "stdout"),
                ("/proc/self/fd/2", "stderr"), ("pts/ptmx", "ptmx")]


def in_root(rootfs: str, dest: str) -> str:
    """dest inside rootfs, never above it (.. cannot climb out)."""
    clean = posixpath.normpath("/" + dest.lstrip("/")).lstrip("/")  # normpath keeps a leading "//"
    return rootfs.rstrip("/") + ("/" + clean if clean else "")


def _mkdir_target(s: Syscalls, source_kind: str, target: str) -> None:
    if s.kind(target):
        return
    if source_kind and source_kind != "dir":
        s.mkdir_all(posixpath.dirname(target))
        s.touch(target)
    else:
        s.mkdir_all(target)


def mount_one(s: Syscalls, rootfs: str, m: dict, cgroup_binds: list[tuple[str, str]] | None = None) -> None:
    """One entry of config.json's `mounts`."""
    dest = in_root(rootfs, m["destination"])
    opts = mountopts.parse(m.get("options"))
    fstype = m.get("type") or ""
    source = m.get("source") or ""
    if fstype == "bind" or opts.is_bind:
        kind = s.kind(source)
        if not kind:
            raise OSError(errno.ENOENT, f"bind source path does not exist: {source}", source)
        _mkdir_target(s, kind, dest)
        s.mount(source, dest, "", sc.MS_BIND | (opts.flags & sc.MS_REC))
        extra = opts.flags & mountopts.BIND_REMOUNT_FLAGS
        if extra:
            s.mount("", dest, "", sc.MS_BIND | sc.MS_REMOUNT | (opts.flags & sc.MS_REC) | extra)
    elif fstype == "cgroup":
        _mount_cgroup(s, dest, opts, cgroup_binds or [])
    else:
        if s.kind(dest) != "dir":  # one lstat; mkdir_all on an existing dir costs three calls
            s.mkdir_all(dest)
        flags = opts.flags
        try:
            s.mount(source, dest, fstype, flags, opts.data)
        except OSError as e:
            # sysfs/mqueue cannot be mounted when the namespace they belong to is the
            # host's (net/ipc); fall back to the host's, bound read-only, as runc does.
            if e.errno not in (errno.EPERM, errno.EBUSY) or fstype not in ("sysfs", "mqueue"):
                raise
            host = "/sys" if fstype == "sysfs" else "/dev/mqueue"
            s.mount(host, dest, "", sc.MS_BIND | sc.MS_REC)
            s.mount("", dest, "", sc.MS_BIND | sc.MS_REMOUNT | sc.MS_REC | (flags & mountopts.BIND_REMOUNT_FLAGS))
    for prop in opts.propagation:
        s.mount("", dest, "", prop)


def _mount_cgroup(s: Syscalls, dest: str, opts: mountopts.MountOptions, binds: list[tuple[str, str]]) -> None:
    """/sys/fs/cgroup: on v2 a cgroup2 mount; on v1 a tmpfs with the container's own
    cgroup of each controller bound at its name, read-only, under a writable tmpfs
    (exactly what runc shows without a cgroupns)."""
    s.mkdir_all(dest)
    flags = opts.flags & (sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC)
    if not binds:
        s.mount("cgroup2", dest, "cgroup2", opts.flags, "")
        return
    s.mount("tmpfs", dest, "tmpfs", flags, "mode=755")
    for name, host_path in binds:
        sub = posixpath.join(dest, name)
        s.mkdir_all(sub)
        s.mount(host_path, sub, "", sc.MS_BIND | sc.MS_REC)
        s.mount("", sub, "", sc.MS_BIND | sc.MS_REMOUNT | sc.MS_REC | flags | (opts.flags & sc.MS_RDONLY))


def create_devices(s: Syscalls, rootfs: str, devices: list[dict] | None) -> None:
    """Device nodes in the container's /dev: the defaults plus linux.devices; where mknod is
    refused (in a user namespace) the host's node is bound instead."""
    wanted: list[dict[str, Any]] = [{"path": f"/dev/{n}", "type": "c", "major": ma, "minor": mi, "fileMode": mode}
              for n, ma, mi, mode in DEFAULT_DEVICES]
    seen = {d["path"] for d in devices or []}
    wanted = [d for d in wanted if d["path"] not in seen] + list(devices or [])
    made: set[str] = set()
    for d in wanted:
        path = in_root(rootfs, d["path"])
        parent = posixpath.dirname(path)
        if parent not in made:
            s.mkdir_all(parent)
            made.add(parent)
        kind = {"c": stat.S_IFCHR, "u": stat.S_IFCHR, "b": stat.S_IFBLK, "p": stat.S_IFIFO}[d.get("type", "c")]
        mode = int(d.get("fileMode", 0o666)) & 0o7777
        try:
            s.mknod(path, kind | mode, int(d.get("major", 0)), int(d.get("minor", 0)))
        except OSError as e:
            if e.errno != errno.EPERM:
                raise
            s.touch(path)
            s.mount(d["path"], path, "", sc.MS_BIND)
            continue
        s.chmod(path, mode)  # mknod's mode is cut by the umask
        s.chown(path, int(d.get("uid", 0)), int(d.get("gid", 0)))


def dev_symlinks(s: Syscalls, rootfs: str) -> None:
    for target, name in DEV_SYMLINKS:
        path = in_root(rootfs, "/dev/" + name)
        if not s.kind(path):
            s.symlink(target, path)


def prepare(s: Syscalls, config: dict, rootfs: str, cgroup_binds: list[tuple[str, str]] | None = None) -> None:
    """Everything up to and including pivot_root."""
    linux = config.get("linux") or {}
    s.mount("", "/", "", sc.MS_SLAVE | sc.MS_REC)
    s.mount(rootfs, rootfs, "bind", sc.MS_BIND | sc.MS_REC)
    dev_is_tmpfs = False
    for m in config.get("mounts") or []:
        mount_one(s, rootfs, m, cgroup_binds)
        if posixpath.normpath(m["destination"]) == "/dev" and m.get("type") != "bind":
            dev_is_tmpfs = True
    if dev_is_tmpfs:
        create_devices(s, rootfs, linux.get("devices"))
        dev_symlinks(s, rootfs)
    pivot(s, rootfs)


def pivot(s: Syscalls, rootfs: str) -> None:
    """pivot_root(".", ".") then detach the old root stacked under it (runc's trick: no
    temporary directory needed in the rootfs)."""
    old = s.open("/", os.O_DIRECTORY | os.O_RDONLY)
    new = s.open(rootfs, os.O_DIRECTORY | os.O_RDONLY)
    try:
        s.fchdir(new)
        s.pivot_root(".", ".")
        s.fchdir(old)
        s.mount("", ".", "", sc.MS_SLAVE | sc.MS_REC)
        s.umount2(".", sc.MNT_DETACH)
        s.chdir("/")
    finally:
        s.close(old)
        s.close(new)


def set_propagation(s: Syscalls, config: dict) -> None:
    prop = (config.get("linux") or {}).get("rootfsPropagation")
    if prop:
        s.mount("", "/", "", mountopts.propagation_flag(prop))


def readonly_root(s: Syscalls) -> None:
    s.mount("", "/", "", sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY)


def readonly_paths(s: Syscalls, paths: list[str] | None) -> None:
    for p in paths or []:
        if not s.kind(p):
            continue
        s.mount(p, p, "", sc.MS_BIND | sc.MS_REC)
        s.mount("", p, "", sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY | sc.MS_REC
                | sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC)


def mask_paths(s: Syscalls, paths: list[str] | None) -> None:
    """Hide a path: /dev/null over a file, an empty read-only tmpfs over a directory."""
    for p in paths or []:
        kind = s.kind(p)
        if not kind:
            continue
        if kind == "dir":
            s.mount("tmpfs", p, "tmpfs", sc.MS_RDONLY, "")
        else:
            s.mount("/dev/null", p, "", sc.MS_BIND)
