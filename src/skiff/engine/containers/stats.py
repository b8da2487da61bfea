"""Docker's container stats JSON from the runtime's cgroup figures (pure)."""

from __future__ import annotations

import os
from typing import Any

from skiff.common.timefmt import ZERO_TIME, now_rfc3339

_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def system_cpu_usage() -> int:
    """Host CPU time in nanoseconds, from /proc/stat, as dockerd reports `system_cpu_usage`."""
    try:
        with open("/proc/stat") as f:
            for line in f:
                if line.startswith("cpu "):
                    ticks = sum(int(x) for x in line.split()[1:8])
                    return ticks * 1_000_000_000 // _CLK_TCK
    except OSError:
        pass
    return 0


def _cpu(raw: dict, system: int, ncpu: int) -> dict:
    usage = (raw.get("cpu") or {}).get("usage") or {}
    thr = (raw.get("cpu") or {}).get("throttling") or {}
    out: dict[str, Any] = {
        "cpu_usage": {"total_usage": int(usage.get("total", 0)), "usage_in_kernelmode": int(usage.get("kernel", 0)),
                      "usage_in_usermode": int(usage.get("user", 0))},
        "system_cpu_usage": system,
        "online_cpus": ncpu,
        "throttling_data": {"periods": int(thr.get("periods", 0)),
                            "throttled_periods": int(thr.get("throttled_periods", 0)),
                            "throttled_time": int(thr.get("throttled_time", 0))},
    }
    if usage.get("percpu"):
        out["cpu_usage"]["percpu_usage"] = list(usage["percpu"])
    return out


def docker_stats(cid: str, name: str, raw: dict, prev: dict | None, ncpu: int | None = None,
                 system: int | None = None) -> dict:
    """One stats message. `prev` is the previous message (for precpu_stats), or None."""
    ncpu = ncpu or os.cpu_count() or 1
    system = system_cpu_usage() if system is None else system
    mem = raw.get("memory") or {}
    limit = int(mem.get("limit") or 0)
    if not limit or limit >= 1 << 62:
        limit = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    pids = raw.get("pids") or {}
    return {
        "id": cid,
        "name": "/" + name,
        "read": now_rfc3339(),
        "preread": prev["read"] if prev else ZERO_TIME,
        "pids_stats": {"current": int(pids.get("current", 0)), **({"limit": int(pids["limit"])}
                                                                    if pids.get("limit") else {})},
        "blkio_stats": {"io_service_bytes_recursive": None, "io_serviced_recursive": None,
                        "io_queue_recursive": None, "io_service_time_recursive": None,
                        "io_wait_time_recursive": None, "io_merged_recursive": None,
                        "io_time_recursive": None, "sectors_recursive": None},
        "num_procs": 0,
        "storage_stats": {},
        "cpu_stats": _cpu(raw, system, ncpu),
        "precpu_stats": prev["cpu_stats"] if prev else {"cpu_usage": {"total_usage": 0, "usage_in_kernelmode": 0,
                                                                      "usage_in_usermode": 0},
                                                        "throttling_data": {"periods": 0, "throttled_periods": 0,
                                                                            "throttled_time": 0}},
        "memory_stats": {"usage": int(mem.get("usage", 0)), "max_usage": int(mem.get("max_usage", 0)),
                         "stats": dict(mem.get("stats") or {}), "limit": limit,
                         **({"failcnt": int(mem["failcnt"])} if "failcnt" in mem else {})},
        "networks": {},
    }


def empty_stats(cid: str, name: str) -> dict:
    """What dockerd sends for a container that is not running: zeroes."""
    return {"id": cid, "name": "/" + name, "read": ZERO_TIME, "preread": ZERO_TIME,
            "pids_stats": {}, "blkio_stats": {}, "num_procs": 0, "storage_stats": {},
            "cpu_stats": {"cpu_usage": {"total_usage": 0}, "throttling_data": {}},
            "precpu_stats": {"cpu_usage": {"total_usage": 0}, "throttling_data": {}},
            "memory_stats": {}, "networks": {}}
