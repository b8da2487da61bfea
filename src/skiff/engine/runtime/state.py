"""Runtime state on disk: one directory per container, rebuilt into RuntimeState on demand.

Nothing is kept in memory, so a new engine process sees exactly what the old one made
(re-adoption is just reading these files).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from typing import Any

from skiff.common.errors import NotFound
from skiff.engine.runtime.api import CREATED, PAUSED, RUNNING, STOPPED, ExitStatus


def proc_start_time(pid: int) -> int | None:
    """The process's start time in clock ticks, or None if it is gone (zombies count as gone)."""
    if pid <= 0:
        return None
    try:
        raw = read_small(f"/proc/{pid}/stat")
    except OSError:
        return None
    fields = raw[raw.rindex(b")") + 2:].split()
    if fields[0] in (b"Z", b"X"):
        return None
    return int(fields[19])


def read_small(path: str) -> bytes:
    """A small file in three system calls (open() adds fstat, ioctl and lseeks): the state
    files are read several times per container start."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        data = os.read(fd, 1 << 20)
        while True:
            more = os.read(fd, 1 << 20)
            if not more:
                return data
            data += more
    finally:
        os.close(fd)


def alive(pid: int, start: int | None) -> bool:
    now = proc_start_time(pid)
    return now is not None and (start is None or now == start)


def derive_status(has_exit: bool, init_alive: bool, fifo_exists: bool, frozen: bool) -> str:
    """runc's status from what the files and /proc say (pure)."""
    if has_exit or not init_alive:
        return STOPPED
    if fifo_exists:
        return CREATED
    if frozen:
        return PAUSED
    return RUNNING


class StateDir:
    """The files of one container (or one exec, under execs/<exec id>).

    Its unix sockets live apart, in `<state root>/.sock/<hash>.<name>`: a socket path must
    fit in 108 bytes, and `<root>/<64-hex id>/execs/<64-hex exec id>/attach.sock` does not.
    """

    def __init__(self, path: str, sock_base: str):
        self.path = path
        self.sock_base = sock_base

    def file(self, name: str) -> str:
        return os.path.join(self.path, name)

    def sock(self, name: str) -> str:
        """name: attach, control or console."""
        return f"{self.sock_base}.{name}"

    @property
    def fifo(self) -> str:
        return self.file("exec.fifo")

    def exists(self) -> bool:
        return os.path.exists(self.file("state.json"))

    def read(self) -> dict[str, Any]:
        return json.loads(read_small(self.file("state.json")))

    def write(self, data: dict[str, Any]) -> None:
        tmp = self.file("state.json.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        try:
            os.write(fd, json.dumps(data).encode())
        finally:
            os.close(fd)
        os.replace(tmp, self.file("state.json"))

    def exit(self) -> ExitStatus | None:
        try:
            return ExitStatus.from_dict(json.loads(read_small(self.file("exit.json"))))
        except (OSError, ValueError):
            return None

    def remove(self) -> None:
        for name in ("attach", "control", "console"):
            try:
                os.unlink(self.sock(name))
            except FileNotFoundError:
                pass
        shutil.rmtree(self.path, ignore_errors=True)


class StateRoot:
    def __init__(self, root: str):
        self.root = root
        self.sock_dir = os.path.join(root, ".sock")  # ids never start with a dot
        os.makedirs(self.sock_dir, mode=0o711, exist_ok=True)

    def _sock_base(self, key: str) -> str:
        return os.path.join(self.sock_dir, hashlib.sha256(key.encode()).hexdigest()[:20])

    def container(self, id: str) -> StateDir:
        if not id or "/" in id or id.startswith("."):
            raise NotFound(f"container {id!r} does not exist")
        return StateDir(os.path.join(self.root, id), self._sock_base(id))

    def existing(self, id: str) -> StateDir:
        d = self.container(id)
        if not d.exists():
            raise NotFound(f"container {id} does not exist")
        return d

    def exec(self, id: str, exec_id: str) -> StateDir:
        if not exec_id or "/" in exec_id or exec_id.startswith("."):
            raise NotFound(f"exec {exec_id!r} does not exist")
        return StateDir(os.path.join(self.root, id, "execs", exec_id), self._sock_base(id + "/" + exec_id))

    def ids(self) -> list[str]:
        try:
            names = sorted(os.listdir(self.root))
        except FileNotFoundError:
            return []
        return [n for n in names if os.path.exists(os.path.join(self.root, n, "state.json"))]
