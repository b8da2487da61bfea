"""cgroup v1: one directory per controller hierarchy."""

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
    write,
)

# root -> (its mtime, the controllers mounted there)
_AVAILABLE: dict[str, tuple[int, list[str]]] = {}

# "systemd" is the named (controller-less) hierarchy hybrid hosts mount; runc joins it too.
CONTROLLERS = ["cpu", "cpuacct", "cpuset", "memory", "pids", "freezer", "devices", "blkio", "net_cls", "net_prio",
               "perf_event", "hugetlb", "rdma", "misc", "systemd"]


def device_rule(d: dict[str, Any]) -> tuple[str, str]:
    """An OCI device cgroup rule → (file, line) for devices.allow / devices.deny."""
    kind = d.get("type") or "a"
    major = "*" if d.get("major", -1) in (-1, None) else str(d["major"])
    minor = "*" if d.get("minor", -1) in (-1, None) else str(d["minor"])
    line = f"{kind} {major}:{minor} {d.get('access') or 'rwm'}"
    return ("devices.allow" if d.get("allow") else "devices.deny", line)


def resource_writes(res: dict[str, Any]) -> list[tuple[str, str, str]]:
    """linux.resources → ordered (controller, file, value) writes (pure)."""
    out: list[tuple[str, str, str]] = []
    for d in res.get("devices") or []:
        f, line = device_rule(d)
        out.append(("devices", f, line))
    mem = res.get("memory") or {}
    if mem.get("reservation"):
        out.append(("memory", "memory.soft_limit_in_bytes", str(mem["reservation"])))
    if mem.get("limit"):
        out.append(("memory", "memory.limit_in_bytes", str(mem["limit"])))
    if mem.get("swap"):
        out.append(("memory", "memory.memsw.limit_in_bytes", str(mem["swap"])))
    if mem.get("swappiness") is not None and int(mem["swappiness"]) >= 0:
        out.append(("memory", "memory.swappiness", str(mem["swappiness"])))
    if mem.get("disableOOMKiller"):
        out.append(("memory", "memory.oom_control", "1"))
    cpu = res.get("cpu") or {}
    if cpu.get("shares"):
        out.append(("cpu", "cpu.shares", str(cpu["shares"])))
    if cpu.get("period"):
        out.append(("cpu", "cpu.cfs_period_us", str(cpu["period"])))
    if cpu.get("quota"):
        out.append(("cpu", "cpu.cfs_quota_us", str(cpu["quota"])))
    if cpu.get("cpus"):
        out.append(("cpuset", "cpuset.cpus", str(cpu["cpus"])))
    if cpu.get("mems"):
        out.append(("cpuset", "cpuset.mems", str(cpu["mems"])))
    pids = res.get("pids") or {}
    if "limit" in pids and pids["limit"] is not None:
        limit = int(pids["limit"])
        out.append(("pids", "pids.max", str(limit) if limit > 0 else "max"))
    return out


class V1Manager:
    def __init__(self, path: str, root: str = "/sys/fs/cgroup"):
        self.path = path
        self.root = root

    def dir(self, controller: str) -> str:
        return os.path.join(self.root, controller) + self.path

    def _available(self) -> list[str]:
        # Every verb asks, 15 stats each time; a hierarchy appears or goes only with a
        # mount point made or removed in the root, which changes the root's mtime.
        mtime = os.stat(self.root).st_mtime_ns
        cached = _AVAILABLE.get(self.root)
        if cached is None or cached[0] != mtime:
            cached = (mtime, [c for c in CONTROLLERS if os.path.isdir(os.path.join(self.root, c))])
            _AVAILABLE[self.root] = cached
        return cached[1]

    def create(self) -> None:
        for c in self._available():
            d = self.dir(c)
            if c == "cpuset":
                self._make_cpuset(d)
            else:
                os.makedirs(d, exist_ok=True)

    def _make_cpuset(self, d: str) -> None:
        """A new v1 cpuset is empty and takes no tasks: copy cpus/mems down each new level."""
        base = os.path.join(self.root, "cpuset")
        cur = base
        for part in self.path.strip("/").split("/"):
            parent, cur = cur, os.path.join(cur, part)
            try:
                os.mkdir(cur)
                made = True  # so its cpus and mems are empty: no need to read them
            except FileExistsError:
                made = False
            for f in ("cpuset.cpus", "cpuset.mems"):
                if made or not read(os.path.join(cur, f)).strip():
                    write(os.path.join(cur, f), read(os.path.join(parent, f)).strip())

    def apply(self, resources: dict[str, Any]) -> None:
        writes = resource_writes(resources or {})
        for i, (c, f, v) in enumerate(writes):
            path = os.path.join(self.dir(c), f)
            try:
                write(path, v)
            except SystemError_:
                if not os.path.exists(path):  # asked only on failure: a stat per write adds up
                    if f == "memory.memsw.limit_in_bytes":
                        continue  # swap accounting is off on this kernel: Docker warns and goes on
                    raise SystemError_(f"cgroup: {f} is not supported on this host") from None
                # Raising memory above the current memsw limit needs memsw first.
                if f == "memory.limit_in_bytes" and i + 1 < len(writes) and writes[i + 1][1].startswith("memory.memsw"):
                    write(os.path.join(self.dir(c), writes[i + 1][1]), writes[i + 1][2])
                    write(path, v)
                else:
                    raise

    def procs_files(self) -> list[str]:
        return [os.path.join(self.dir(c), "cgroup.procs") for c in self._available()]

    def add(self, pid: int) -> None:
        for f in self.procs_files():
            write(f, str(pid))

    def freeze(self) -> None:
        state = os.path.join(self.dir("freezer"), "freezer.state")
        write(state, "FROZEN")
        for _ in range(1000):
            if read(state).strip() == "FROZEN":
                return
            time.sleep(0.001)
            write(state, "FROZEN")
        raise SystemError_("cgroup: the container did not freeze")

    def thaw(self) -> None:
        write(os.path.join(self.dir("freezer"), "freezer.state"), "THAWED")

    def frozen(self) -> bool:
        try:
            return read(os.path.join(self.dir("freezer"), "freezer.state")).strip() == "FROZEN"
        except OSError:
            return False

    def pids(self) -> list[int]:
        return read_pids(os.path.join(self.dir("pids" if os.path.isdir(self.dir("pids")) else "memory"), "cgroup.procs"))

    def stats(self) -> dict[str, Any]:
        acct = self.dir("cpuacct")
        mem = self.dir("memory")
        try:
            percpu = [int(x) for x in read(os.path.join(acct, "cpuacct.usage_percpu")).split()]
        except OSError:
            percpu = []
        cpustat = read_kv(os.path.join(acct, "cpuacct.stat"))
        hz = os.sysconf("SC_CLK_TCK")
        throttle = read_kv(os.path.join(self.dir("cpu"), "cpu.stat"))
        return {
            "cpu": {
                "usage": {
                    "total": read_int(os.path.join(acct, "cpuacct.usage")),
                    "percpu": percpu,
                    "user": cpustat.get("user", 0) * 1_000_000_000 // hz,
                    "kernel": cpustat.get("system", 0) * 1_000_000_000 // hz,
                },
                "throttling": {
                    "periods": throttle.get("nr_periods", 0),
                    "throttled_periods": throttle.get("nr_throttled", 0),
                    "throttled_time": throttle.get("throttled_time", 0),
                },
            },
            "memory": {
                "usage": read_int(os.path.join(mem, "memory.usage_in_bytes")),
                "max_usage": read_int(os.path.join(mem, "memory.max_usage_in_bytes")),
                "limit": read_int(os.path.join(mem, "memory.limit_in_bytes")),
                "failcnt": read_int(os.path.join(mem, "memory.failcnt")),
                "stats": read_kv(os.path.join(mem, "memory.stat")),
            },
            "pids": {
                "current": read_int(os.path.join(self.dir("pids"), "pids.current")),
                "limit": read_int(os.path.join(self.dir("pids"), "pids.max")),
            },
        }

    def oom_file(self) -> str:
        return os.path.join(self.dir("memory"), "memory.oom_control")

    def oom_killed(self) -> bool:
        return read_kv(self.oom_file()).get("oom_kill", 0) > 0

    def container_binds(self) -> list[tuple[str, str]]:
        names = self._available()
        # cpu and cpuacct share one hierarchy on most hosts; show both names like the host does
        return [(c, self.dir(c)) for c in names]

    def destroy(self) -> None:
        if self.frozen():
            self.thaw()
        for c in self._available():
            remove_dir(self.dir(c))
