"""Mount what a snapshotter returns, including overlays whose option string passes a page.

mount(2) takes overlay options as one string of at most a page, which caps the number of
lowerdirs. The new mount API takes layers one at a time (`lowerdir+`, Linux 6.8) and as
file descriptors (Linux 6.13; string values are capped at 256 bytes), so a long chain is
mounted with fsopen/fsconfig/fsmount/move_mount instead.
"""

from __future__ import annotations

import ctypes
import os

from skiff.common.errors import SystemError_
from skiff.engine.snapshots.base import Mount

PAGE = 4096
MS_RDONLY = 1
MS_BIND = 4096
MS_REC = 16384
MS_REMOUNT = 32

# the new mount API has one syscall numbering on every architecture
SYS_MOVE_MOUNT, SYS_FSOPEN, SYS_FSCONFIG, SYS_FSMOUNT = 429, 430, 431, 432
FSCONFIG_SET_FLAG, FSCONFIG_SET_STRING, FSCONFIG_SET_FD, FSCONFIG_CMD_CREATE = 0, 1, 5, 6
FSOPEN_CLOEXEC, FSMOUNT_CLOEXEC = 1, 1
MOVE_MOUNT_F_EMPTY_PATH = 4
AT_FDCWD = -100

_libc = ctypes.CDLL(None, use_errno=True)


def _check(ret: int, what: str) -> int:
    if ret < 0:
        err = ctypes.get_errno()
        raise SystemError_(f"{what}: {os.strerror(err)}")
    return ret


def overlay_data(m: Mount) -> str:
    return ",".join(o for o in m.options if o not in ("rw", "ro"))


def mount_all(mounts: list[Mount], target: str) -> None:
    """Mount snapshot mounts (the rootfs) on `target`."""
    for m in mounts:
        if m.type == "bind":
            flags = MS_BIND | (MS_REC if "rbind" in m.options else 0)
            _check(_libc.mount(m.source.encode(), target.encode(), None, flags, None), f"bind {m.source}")
            if "ro" in m.options:
                _check(_libc.mount(None, target.encode(), None, MS_REMOUNT | MS_BIND | MS_RDONLY, None), "remount ro")
        elif m.type == "overlay":
            data = overlay_data(m)
            if len(data) < PAGE:
                _check(_libc.mount(b"overlay", target.encode(), b"overlay", 0, data.encode()), "mount overlay")
            else:
                mount_overlay_long(m, target)
        else:
            raise SystemError_(f"unsupported snapshot mount type {m.type!r}")


def mount_overlay_long(m: Mount, target: str) -> None:
    """An overlay with each option passed on its own (no page limit)."""
    syscall = _libc.syscall
    syscall.restype = ctypes.c_long
    fs = _check(syscall(SYS_FSOPEN, b"overlay", FSOPEN_CLOEXEC), "fsopen overlay")

    def set_dir(key: str, path: str) -> None:
        fd = os.open(path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            _check(syscall(SYS_FSCONFIG, fs, FSCONFIG_SET_FD, key.encode(), None, fd), f"fsconfig {key} {path}")
        finally:
            os.close(fd)

    try:
        for opt in m.options:
            if opt in ("rw", "ro"):
                continue
            key, eq, value = opt.partition("=")
            if key == "lowerdir":
                for lower in value.split(":"):
                    set_dir("lowerdir+", lower)
            elif key in ("upperdir", "workdir"):
                set_dir(key, value)
            elif eq:
                _check(syscall(SYS_FSCONFIG, fs, FSCONFIG_SET_STRING, key.encode(), value.encode(), 0),
                       f"fsconfig {key}")
            else:
                _check(syscall(SYS_FSCONFIG, fs, FSCONFIG_SET_FLAG, key.encode(), None, 0), f"fsconfig {key}")
        _check(syscall(SYS_FSCONFIG, fs, FSCONFIG_CMD_CREATE, None, None, 0), "fsconfig create")
        mnt = _check(syscall(SYS_FSMOUNT, fs, FSMOUNT_CLOEXEC, 0), "fsmount")
        try:
            _check(syscall(SYS_MOVE_MOUNT, mnt, b"", AT_FDCWD, target.encode(), MOVE_MOUNT_F_EMPTY_PATH),
                   f"move_mount to {target}")
        finally:
            os.close(mnt)
    finally:
        os.close(fs)
