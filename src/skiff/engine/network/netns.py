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


Spare = tuple[int, socket.socket]  # a namespace held by a descriptor, and a netlink socket in it


class SpareNamespace:
    """One namespace made ahead, so a container's start binds it to its path (one mount) instead
    of creating one (a thread started and waited for, an unshare: ~0.7 ms, more on a busy host).

    A single worker thread makes them: it unshares into a new namespace, keeps a descriptor of
    it and a netlink socket in it, and goes back to the engine's namespace (so it holds no
    namespace alive). A spare is held by its descriptor only: a crash leaves nothing behind."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wanted = threading.Event()
        self._ready: Spare | None = None
        self._worker: threading.Thread | None = None
        self._closed = False

    def take(self) -> Spare | None:
        with self._lock:
            spare, self._ready = self._ready, None
        return spare

    def refill(self) -> None:
        """Have the next one made in the background (the worker is started once)."""
        with self._lock:
            if self._closed:
                return
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="skiff-netns-spare", daemon=True)
                self._worker.start()
        self._wanted.set()

    def _run(self) -> None:
        home = os.open(f"/proc/self/task/{threading.get_native_id()}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        try:
            while True:
                self._wanted.wait()
                self._wanted.clear()
                with self._lock:
                    if self._closed:
                        return
                    if self._ready is not None:
                        continue
                spare, home_again = self._make(home)
                if not home_again:
                    return  # this thread is in a namespace of its own now: stop (starts make theirs)
                if spare is None:
                    continue  # unshare failed (for lack of memory?): the next start makes its own
                with self._lock:
                    if self._closed:
                        _release_spare(spare)
                        return
                    self._ready = spare
        finally:
            os.close(home)

    @staticmethod
    def _make(home: int) -> tuple[Spare | None, bool]:
        """(a new namespace's descriptor and socket or None, whether the thread is back home)."""
        spare: Spare | None = None
        if _libc.unshare(CLONE_NEWNET) != 0:
            return None, True
        try:
            fd = os.open(f"/proc/self/task/{threading.get_native_id()}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
            try:
                spare = fd, _route_socket()
            except OSError:
                os.close(fd)
        except OSError:
            pass
        if _libc.setns(home, CLONE_NEWNET) != 0:
            if spare is not None:
                _release_spare(spare)
            return None, False
        return spare, True

    def close(self) -> None:
        with self._lock:
            self._closed = True
            spare, self._ready = self._ready, None
        self._wanted.set()
        if spare is not None:
            _release_spare(spare)


def _release_spare(spare: Spare) -> None:
    os.close(spare[0])
    spare[1].close()


def create(path: str, spare: Spare | None = None) -> socket.socket:
    """A new network namespace kept alive by a bind mount at `path` (the `spare` one when
    given); returns a netlink route socket inside it."""
    if spare is not None:
        fd, sock = spare
        try:
            os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o444))
            src = f"/proc/self/fd/{fd}"
            _check(_libc.mount(src.encode(), path.encode(), None, ctypes.c_ulong(MS_BIND), None),
                   f"bind mount {path}")
        except BaseException:
            sock.close()
            raise
        finally:
            os.close(fd)
        return sock

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
