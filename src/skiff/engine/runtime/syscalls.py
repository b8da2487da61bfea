"""The system calls container setup needs, behind one protocol.

`LinuxSyscalls` makes them through ctypes on libc (errno → OSError naming the path).
`RecordingSyscalls` records them instead, so the namespace/mount/credential code can be
unit-tested without root: a test runs the real setup code and checks the recorded calls.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import resource
import socket
import stat as stat_mod
import struct
from typing import Any, Protocol

# mount(2) flags
MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_SYNCHRONOUS = 0x10
MS_REMOUNT = 0x20
MS_MANDLOCK = 0x40
MS_DIRSYNC = 0x80
MS_NOSYMFOLLOW = 0x100
MS_NOATIME = 0x400
MS_NODIRATIME = 0x800
MS_BIND = 0x1000
MS_MOVE = 0x2000
MS_REC = 0x4000
MS_SILENT = 0x8000
MS_UNBINDABLE = 1 << 17
MS_PRIVATE = 1 << 18
MS_SLAVE = 1 << 19
MS_SHARED = 1 << 20
MS_RELATIME = 1 << 21
MS_STRICTATIME = 1 << 24
MNT_DETACH = 2
# netdevice(7): set an interface's flags
_SIOCSIFFLAGS = 0x8914
_IFF_UP, _IFF_LOOPBACK, _IFF_RUNNING = 0x1, 0x8, 0x40

# clone(2)/unshare(2) namespace flags
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

CLONE_PARENT = 0x00008000
_SIGCHLD = 17
_SYS_CLONE = {"x86_64": 56, "aarch64": 220}.get(os.uname().machine, 56)

# prctl(2)
PR_SET_KEEPCAPS = 8
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_RAISE = 2
PR_SET_PDEATHSIG = 1
PR_SET_NAME = 15

_LINUX_CAPABILITY_VERSION_3 = 0x20080522
_SYS_CLOSE_RANGE = 436
_CLOSE_RANGE_CLOEXEC = 4


class Syscalls(Protocol):
    """Everything container setup does to the host, so a fake can stand in for it."""

    def mount(self, source: str, target: str, fstype: str, flags: int, data: str = "") -> None: ...
    def umount2(self, target: str, flags: int = 0) -> None: ...
    def pivot_root(self, new_root: str, put_old: str) -> None: ...
    def unshare(self, flags: int) -> None: ...
    def setns(self, path: str, nstype: int = 0) -> None: ...
    def sethostname(self, name: str) -> None: ...
    def loopback_up(self) -> None: ...
    def setdomainname(self, name: str) -> None: ...
    def mknod(self, path: str, mode: int, major: int, minor: int) -> None: ...
    def chown(self, path: str, uid: int, gid: int) -> None: ...
    def chmod(self, path: str, mode: int) -> None: ...
    def chdir(self, path: str) -> None: ...
    def fchdir(self, fd: int) -> None: ...
    def open(self, path: str, flags: int) -> int: ...
    def close(self, fd: int) -> None: ...
    def chroot(self, path: str) -> None: ...
    def mkdir_all(self, path: str, mode: int = 0o755) -> None: ...
    def touch(self, path: str) -> None: ...
    def symlink(self, target: str, path: str) -> None: ...
    def write_file(self, path: str, data: str) -> None: ...
    def kind(self, path: str) -> str: ...  # "dir", "file", "link", "char", "" (missing) ...
    def capset(self, effective: int, permitted: int, inheritable: int) -> None: ...
    def prctl(self, option: int, arg2: int = 0, arg3: int = 0) -> None: ...
    def setgroups(self, gids: list[int]) -> None: ...
    def setresgid(self, gid: int) -> None: ...
    def setresuid(self, uid: int) -> None: ...
    def setrlimit(self, name: str, soft: int, hard: int) -> None: ...
    def umask(self, mask: int) -> None: ...
    def clone_parent(self) -> int: ...  # fork whose child is our parent's child; 0 in the child


def _err(path: str = "") -> OSError:
    e = ctypes.get_errno()
    return OSError(e, os.strerror(e), path) if path else OSError(e, os.strerror(e))


class LinuxSyscalls:
    """The real calls. Safe to use in a freshly forked child: nothing here takes a lock."""

    def __init__(self) -> None:
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.libc.syscall.restype = ctypes.c_long
        self.libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
        # clone must not release the GIL around the call: the child resumes Python code
        self.pylibc = ctypes.PyDLL(None, use_errno=True)
        self.pylibc.syscall.restype = ctypes.c_long

    def mount(self, source: str, target: str, fstype: str, flags: int, data: str = "") -> None:
        if self.libc.mount(source.encode() or None, target.encode(), fstype.encode() or None,
                           ctypes.c_ulong(flags), data.encode() or None) != 0:
            raise _err(target)

    def umount2(self, target: str, flags: int = 0) -> None:
        if self.libc.umount2(target.encode(), flags) != 0:
            raise _err(target)

    def pivot_root(self, new_root: str, put_old: str) -> None:
        if self.libc.pivot_root(new_root.encode(), put_old.encode()) != 0:
            raise _err(new_root)

    def unshare(self, flags: int) -> None:
        if self.libc.unshare(flags) != 0:
            raise _err()

    def setns(self, path: str, nstype: int = 0) -> None:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            if self.libc.setns(fd, nstype) != 0:
                raise _err(path)
        finally:
            os.close(fd)

    def loopback_up(self) -> None:
        """Bring `lo` of the current network namespace up (one SIOCSIFFLAGS), as runc does
        for a namespace it creates."""
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sk:
            fcntl.ioctl(sk.fileno(), _SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", _IFF_UP | _IFF_LOOPBACK | _IFF_RUNNING))

    def sethostname(self, name: str) -> None:
        raw = name.encode()
        if self.libc.sethostname(raw, len(raw)) != 0:
            raise _err()

    def setdomainname(self, name: str) -> None:
        raw = name.encode()
        if self.libc.setdomainname(raw, len(raw)) != 0:
            raise _err()

    def mknod(self, path: str, mode: int, major: int, minor: int) -> None:
        os.mknod(path, mode, os.makedev(major, minor))

    def chown(self, path: str, uid: int, gid: int) -> None:
        os.chown(path, uid, gid, follow_symlinks=False)

    def chmod(self, path: str, mode: int) -> None:
        os.chmod(path, mode)

    def chdir(self, path: str) -> None:
        os.chdir(path)

    def fchdir(self, fd: int) -> None:
        os.fchdir(fd)

    def open(self, path: str, flags: int) -> int:
        return os.open(path, flags | os.O_CLOEXEC)

    def close(self, fd: int) -> None:
        os.close(fd)

    def chroot(self, path: str) -> None:
        os.chroot(path)

    def mkdir_all(self, path: str, mode: int = 0o755) -> None:
        os.makedirs(path, mode, exist_ok=True)

    def touch(self, path: str) -> None:
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o755))

    def symlink(self, target: str, path: str) -> None:
        os.symlink(target, path)

    def write_file(self, path: str, data: str) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.write(fd, data.encode())
        finally:
            os.close(fd)

    def kind(self, path: str) -> str:
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            return ""
        if stat_mod.S_ISLNK(mode):
            return "link"
        if stat_mod.S_ISDIR(mode):
            return "dir"
        if stat_mod.S_ISCHR(mode):
            return "char"
        return "file"

    def capset(self, effective: int, permitted: int, inheritable: int) -> None:
        header = ctypes.create_string_buffer(struct.pack("Ii", _LINUX_CAPABILITY_VERSION_3, 0))
        parts = []
        for shift in (0, 32):
            parts += [(effective >> shift) & 0xFFFFFFFF, (permitted >> shift) & 0xFFFFFFFF,
                      (inheritable >> shift) & 0xFFFFFFFF]
        data = ctypes.create_string_buffer(struct.pack("6I", *parts))
        if self.libc.capset(header, data) != 0:
            raise _err()

    def prctl(self, option: int, arg2: int = 0, arg3: int = 0) -> None:
        if self.libc.prctl(option, arg2, arg3, 0, 0) != 0:
            raise _err()

    def setgroups(self, gids: list[int]) -> None:
        os.setgroups(gids)

    def setresgid(self, gid: int) -> None:
        os.setresgid(gid, gid, gid)

    def setresuid(self, uid: int) -> None:
        os.setresuid(uid, uid, uid)

    def setrlimit(self, name: str, soft: int, hard: int) -> None:
        resource.setrlimit(getattr(resource, name), (soft, hard))

    def umask(self, mask: int) -> None:
        os.umask(mask)

    def clone_parent(self) -> int:
        """A fork (same stack, copy-on-write) whose child's parent is our parent."""
        pid = self.pylibc.syscall(_SYS_CLONE, ctypes.c_ulong(CLONE_PARENT | _SIGCHLD), 0, 0, 0, 0)
        if pid < 0:
            raise _err()
        return int(pid)

    def set_name(self, name: str) -> None:
        """The process's comm (what ps shows) while it waits to exec."""
        buf = ctypes.create_string_buffer(name.encode()[:15])
        self.libc.prctl(PR_SET_NAME, ctypes.cast(buf, ctypes.c_void_p).value or 0, 0, 0, 0)

    def close_fds_except(self, keep: set[int], lowest: int = 3) -> None:
        """Close every descriptor from `lowest` up but those in `keep` (close_range(2))."""
        lo = lowest
        for fd in sorted(k for k in keep if k >= lowest):
            if fd > lo:
                self.libc.syscall(_SYS_CLOSE_RANGE, lo, fd - 1, 0)
            lo = fd + 1
        self.libc.syscall(_SYS_CLOSE_RANGE, lo, 0xFFFFFFFF, 0)

    def mark_fds_cloexec(self, lowest: int = 3) -> None:
        """Make sure no descriptor the engine holds leaks into the container."""
        self.libc.syscall(_SYS_CLOSE_RANGE, lowest, 0xFFFFFFFF, _CLOSE_RANGE_CLOEXEC)


class RecordingSyscalls:
    """A fake that records each call as a tuple (name, *args) in `calls`.

    `paths` maps path → kind ("dir", "file", "char", "link") for `kind()`; anything made
    with mkdir_all/touch/mknod/symlink is added, so later lookups see it. `fail` maps a
    call name (or (name, path)) to an errno to raise, to drive error paths.
    """

    def __init__(self, paths: dict[str, str] | None = None, fail: dict[Any, int] | None = None):
        self.calls: list[tuple] = []
        self.paths: dict[str, str] = dict(paths or {})
        self.fail: dict[Any, int] = dict(fail or {})
        self._fd = 100

    def _rec(self, name: str, *args: Any) -> None:
        self.calls.append((name, *args))
        first = args[0] if args and isinstance(args[0], str | int) else None
        for key in ((name, first), name):
            if key in self.fail:
                raise OSError(self.fail[key], os.strerror(self.fail[key]), str(first))

    def named(self, name: str) -> list[tuple]:
        return [c for c in self.calls if c[0] == name]

    def mount(self, source: str, target: str, fstype: str, flags: int, data: str = "") -> None:
        self._rec("mount", source, target, fstype, flags, data)

    def umount2(self, target: str, flags: int = 0) -> None:
        self._rec("umount2", target, flags)

    def pivot_root(self, new_root: str, put_old: str) -> None:
        self._rec("pivot_root", new_root, put_old)

    def unshare(self, flags: int) -> None:
        self._rec("unshare", flags)

    def setns(self, path: str, nstype: int = 0) -> None:
        self._rec("setns", path, nstype)

    def loopback_up(self) -> None:
        self._rec("loopback_up")

    def sethostname(self, name: str) -> None:
        self._rec("sethostname", name)

    def setdomainname(self, name: str) -> None:
        self._rec("setdomainname", name)

    def mknod(self, path: str, mode: int, major: int, minor: int) -> None:
        self._rec("mknod", path, mode, major, minor)
        self.paths[path] = "char"

    def chown(self, path: str, uid: int, gid: int) -> None:
        self._rec("chown", path, uid, gid)

    def chmod(self, path: str, mode: int) -> None:
        self._rec("chmod", path, mode)

    def chdir(self, path: str) -> None:
        self._rec("chdir", path)

    def fchdir(self, fd: int) -> None:
        self._rec("fchdir", fd)

    def open(self, path: str, flags: int) -> int:
        self._rec("open", path, flags)
        self._fd += 1
        return self._fd

    def close(self, fd: int) -> None:
        self._rec("close", fd)

    def chroot(self, path: str) -> None:
        self._rec("chroot", path)

    def mkdir_all(self, path: str, mode: int = 0o755) -> None:
        self._rec("mkdir_all", path, mode)
        self.paths[path] = "dir"

    def touch(self, path: str) -> None:
        self._rec("touch", path)
        self.paths[path] = "file"

    def symlink(self, target: str, path: str) -> None:
        self._rec("symlink", target, path)
        self.paths[path] = "link"

    def write_file(self, path: str, data: str) -> None:
        self._rec("write_file", path, data)

    def kind(self, path: str) -> str:
        return self.paths.get(path, "")

    def capset(self, effective: int, permitted: int, inheritable: int) -> None:
        self._rec("capset", effective, permitted, inheritable)

    def prctl(self, option: int, arg2: int = 0, arg3: int = 0) -> None:
        self._rec("prctl", option, arg2, arg3)

    def setgroups(self, gids: list[int]) -> None:
        self._rec("setgroups", list(gids))

    def setresgid(self, gid: int) -> None:
        self._rec("setresgid", gid)

    def setresuid(self, uid: int) -> None:
        self._rec("setresuid", uid)

    def setrlimit(self, name: str, soft: int, hard: int) -> None:
        self._rec("setrlimit", name, soft, hard)

    def umask(self, mask: int) -> None:
        self._rec("umask", mask)

    def mark_fds_cloexec(self, lowest: int = 3) -> None:
        self._rec("mark_fds_cloexec", lowest)

    def clone_parent(self) -> int:
        self._rec("clone_parent")
        return 4242
