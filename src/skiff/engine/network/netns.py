"""Network namespaces as bind-mounted nsfs files, and netlink sockets bound inside them.

No helper processes (pyroute2's `NetNS` forks one per namespace): a short-lived thread
unshares or joins the namespace, bind-mounts it or opens a netlink socket there, and ends.
A netlink socket stays bound to the namespace it was opened in, whichever thread uses it
later, and a thread that ends inside another namespace takes nothing with it.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import socket
import threading
from collections.abc import Callable
from typing import Any, TypeVar

CLONE_NEWNET = 0x40000000
MS_BIND = 4096
MNT_DETACH = 2
NETLINK_ROUTE = 0

_libc = ctypes.CDLL(None, use_errno=True)

T = TypeVar("T")


def _check(rc: int, what: str) -> None:
    if rc != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"{what}: {os.strerror(e)}")


def _in_thread(fn: Callable[[], T]) -> T:
    """Run `fn` in a new thread (which may change its namespace and then ends) and return its result."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as e:  # re-raised in the caller
            box["error"] = e

    t = threading.Thread(target=run, name="skiff-netns")
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def _route_socket() -> socket.socket:
    return socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_ROUTE)


def create(path: str) -> socket.socket:
    """A new network namespace kept alive by a bind mount at `path`; returns a netlink route
    socket inside it."""

    def make() -> socket.socket:
        _check(_libc.unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)")
        fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o444)
        os.close(fd)
        src = f"/proc/self/task/{threading.get_native_id()}/ns/net"
        _check(_libc.mount(src.encode(), path.encode(), None, ctypes.c_ulong(MS_BIND), None), f"bind mount {path}")
        return _route_socket()

    return _in_thread(make)


def open_socket(path: str) -> socket.socket:
    """A netlink route socket inside the namespace at `path` (an nsfs file or /proc/PID/ns/net)."""

    def join() -> socket.socket:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            _check(_libc.setns(fd, CLONE_NEWNET), f"setns {path}")
        finally:
            os.close(fd)
        return _route_socket()

    return _in_thread(join)


def remove(path: str) -> None:
    """Unmount and delete a namespace file; missing or already unmounted is fine."""
    if _libc.umount2(path.encode(), MNT_DETACH) != 0:
        e = ctypes.get_errno()
        if e not in (errno.EINVAL, errno.ENOENT):
            raise OSError(e, f"umount {path}: {os.strerror(e)}")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def is_mounted(path: str) -> bool:
    """Whether `path` is a live namespace file (an nsfs mount), not a leftover empty file."""
    try:
        with open("/proc/self/mountinfo") as f:
            return any(line.split()[4] == path for line in f)
    except OSError:
        return False
