"""The cgroup interface the runtime uses, and the choice between v1 and v2."""

from __future__ import annotations

import errno
import os
from typing import Any, Protocol

from skiff.common.errors import SystemError_

ROOT = "/sys/fs/cgroup"


class CgroupManager(Protocol):
    path: str  # the cgroup path relative to the hierarchy roots, e.g. /skiff/<id>

    def create(self) -> None: ...
    def apply(self, resources: dict[str, Any]) -> None: ...
    def procs_files(self) -> list[str]: ...  # write a pid to each to move it in
    def add(self, pid: int) -> None: ...
    def freeze(self) -> None: ...
    def thaw(self) -> None: ...
    def frozen(self) -> bool: ...
    def pids(self) -> list[int]: ...
    def stats(self) -> dict[str, Any]: ...
    def oom_file(self) -> str: ...  # a file with an "oom_kill N" line
    def oom_killed(self) -> bool: ...
    def container_binds(self) -> list[tuple[str, str]]: ...  # v1: (controller, host dir) for /sys/fs/cgroup
    def destroy(self) -> None: ...


def is_v2(root: str = ROOT) -> bool:
    return os.path.exists(os.path.join(root, "cgroup.controllers"))


def manager_for(path: str, root: str = ROOT) -> CgroupManager:
    """A manager for `path` (linux.cgroupsPath) on this host's hierarchy."""
    if not path.startswith("/"):
        path = "/" + path
    if is_v2(root):
        from skiff.engine.runtime.cgroups.v2 import V2Manager

        return V2Manager(path, root)
    from skiff.engine.runtime.cgroups.v1 import V1Manager

    return V1Manager(path, root)


def write(path: str, value: str) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    except OSError as e:
        raise SystemError_(f"cgroup: open {path}: {e.strerror}") from e
    try:
        os.write(fd, value.encode())
    except OSError as e:
        raise SystemError_(f"cgroup: write {value!r} to {path}: {e.strerror}") from e
    finally:
        os.close(fd)


def read_bytes(path: str) -> bytes:
    """A small kernel file in three system calls (open() adds fstat, ioctl and lseeks)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        data = os.read(fd, 65536)
        if len(data) < 65536:
            return data
        chunks = [data]
        while data:
            data = os.read(fd, 65536)
            chunks.append(data)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read(path: str) -> str:
    return read_bytes(path).decode()


def read_int(path: str, default: int = 0) -> int:
    try:
        text = read(path).strip()
    except OSError:
        return default
    if text == "max":
        return default
    try:
        return int(text)
    except ValueError:
        return default


def read_kv(path: str) -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        text = read(path)
    except OSError:
        return out
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("-").isdigit():
            out[parts[0]] = int(parts[1])
    return out


def read_pids(procs_file: str) -> list[int]:
    try:
        return [int(x) for x in read(procs_file).split()]
    except OSError:
        return []


def remove_dir(path: str) -> None:
    """rmdir a cgroup; EBUSY right after the last task died is retried briefly."""
    import time

    for _ in range(50):
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError as e:
            if e.errno != errno.EBUSY:
                raise SystemError_(f"cgroup: remove {path}: {e.strerror}") from e
            time.sleep(0.01)
    raise SystemError_(f"cgroup: remove {path}: still busy")


def shares_to_weight(shares: int) -> int:
    """cgroup v1 cpu.shares [2, 262144] → v2 cpu.weight [1, 10000], the kernel/runc formula."""
    if shares <= 0:
        return 0
    return 1 + ((shares - 2) * 9999) // 262142
