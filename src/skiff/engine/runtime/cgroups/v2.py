"""cgroup v2: one unified hierarchy; controllers enabled down the tree."""

from __future__ import annotations

import os
import time
from typing import Any

from skiff.common.errors import SystemError_
from skiff.engine.runtime.cgroups.base import (
    read,
    read_int,
    read_kv,
    read_pids,
    remove_dir,
    shares_to_weight,
    write,
)

WANTED = ["cpu", "cpuset", "memory", "pids", "io"]


def resource_writes(res: dict[str, Any]) -> list[tuple[str, str]]:
    """linux.resources → ordered (file, value) writes (pure)."""
    out: list[tuple[str, str]] = []
    mem = res.get("memory") or {}
    limit = int(mem.get("limit") or 0)
    if mem.get("reservation"):
        out.append(("memory.low", str(mem["reservation"])))
    if limit:
        out.append(("memory.max", str(limit) if limit > 0 else "max"))
    swap = int(mem.get("swap") or 0)
    if swap:
        # v1's swap is memory+swap; v2's swap.max is swap alone
        out.append(("memory.swap.max", "max" if swap < 0 else str(max(swap - limit, 0))))
    cpu = res.get("cpu") or {}
    if cpu.get("shares"):
        out.append(("cpu.weight", str(shares_to_weight(int(cpu["shares"])))))
    if cpu.get("quota") or cpu.get("period"):
        quota = int(cpu.get("quota") or 0)
        out.append(("cpu.max", f"{quota if quota > 0 else 'max'} {int(cpu.get('period') or 100000)}"))
    if cpu.get("cpus"):
        out.append(("cpuset.cpus", str(cpu["cpus"])))
    if cpu.get("mems"):
        out.append(("cpuset.mems", str(cpu["mems"])))
    pids = res.get("pids") or {}
    if "limit" in pids and pids["limit"] is not None:
        n = int(pids["limit"])
        out.append(("pids.max", str(n) if n > 0 else "max"))
    return out


class V2Manager:
    def __init__(self, path: str, root: str = "/sys/fs/cgroup"):
        self.path = path
        self.root = root
        self.dir = root + path

    def create(self) -> None:
        cur = self.root
        for part in self.path.strip("/").split("/"):
            avail = read(os.path.join(cur, "cgroup.controllers")).split()
            enable = " ".join("+" + c for c in WANTED if c in avail)
            if enable:
                try:
                    write(os.path.join(cur, "cgroup.subtree_control"), enable)
                except SystemError_:
                    pass  # a parent with processes of its own cannot delegate; limits then fail loudly
            cur = os.path.join(cur, part)
            os.makedirs(cur, exist_ok=True)

    def apply(self, resources: dict[str, Any]) -> None:
        for f, v in resource_writes(resources or {}):
            path = os.path.join(self.dir, f)
            if not os.path.exists(path):
                if f == "memory.swap.max":
                    continue
                raise SystemError_(f"cgroup: {f} is not supported on this host")
            write(path, v)

    def procs_files(self) -> list[str]:
        return [os.path.join(self.dir, "cgroup.procs")]

    def add(self, pid: int) -> None:
        write(os.path.join(self.dir, "cgroup.procs"), str(pid))

    def freeze(self) -> None:
        write(os.path.join(self.dir, "cgroup.freeze"), "1")
        for _ in range(1000):
            if read_kv(os.path.join(self.dir, "cgroup.events")).get("frozen") == 1:
                return
            time.sleep(0.001)
        raise SystemError_("cgroup: the container did not freeze")

    def thaw(self) -> None:
        write(os.path.join(self.dir, "cgroup.freeze"), "0")

    def frozen(self) -> bool:
        return read_int(os.path.join(self.dir, "cgroup.freeze")) == 1

    def pids(self) -> list[int]:
        return read_pids(os.path.join(self.dir, "cgroup.procs"))

    def stats(self) -> dict[str, Any]:
        cpu = read_kv(os.path.join(self.dir, "cpu.stat"))
        ncpu = os.cpu_count() or 1
        return {
            "cpu": {
                "usage": {
                    "total": cpu.get("usage_usec", 0) * 1000,
                    "percpu": [],  # v2 has no per-cpu accounting
                    "user": cpu.get("user_usec", 0) * 1000,
                    "kernel": cpu.get("system_usec", 0) * 1000,
                },
                "throttling": {
                    "periods": cpu.get("nr_periods", 0),
                    "throttled_periods": cpu.get("nr_throttled", 0),
                    "throttled_time": cpu.get("throttled_usec", 0) * 1000,
                },
                "online_cpus": ncpu,
            },
            "memory": {
                "usage": read_int(os.path.join(self.dir, "memory.current")),
                "max_usage": read_int(os.path.join(self.dir, "memory.peak")),
                "limit": read_int(os.path.join(self.dir, "memory.max")),
                "failcnt": read_kv(os.path.join(self.dir, "memory.events")).get("max", 0),
                "stats": read_kv(os.path.join(self.dir, "memory.stat")),
            },
            "pids": {
                "current": read_int(os.path.join(self.dir, "pids.current")),
                "limit": read_int(os.path.join(self.dir, "pids.max")),
            },
        }

    def oom_file(self) -> str:
        return os.path.join(self.dir, "memory.events")

    def oom_killed(self) -> bool:
        return read_kv(self.oom_file()).get("oom_kill", 0) > 0

    def container_binds(self) -> list[tuple[str, str]]:
        return []

    def destroy(self) -> None:
        remove_dir(self.dir)
