"""HostConfig resource fields → OCI `linux.resources` and rlimits, with Docker's validation messages."""

from __future__ import annotations

import os

from skiff.common.errors import InvalidArgument

CPU_PERIOD = 100_000
MIN_MEMORY = 6 * 1024 * 1024

# What a non-privileged container may use: Docker's default allow list (runc adds the same).
DEFAULT_DEVICE_RULES = [
    {"allow": False, "access": "rwm"},
    {"allow": True, "type": "c", "access": "m"},
    {"allow": True, "type": "b", "access": "m"},
    {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"},  # null
    {"allow": True, "type": "c", "major": 1, "minor": 5, "access": "rwm"},  # zero
    {"allow": True, "type": "c", "major": 1, "minor": 7, "access": "rwm"},  # full
    {"allow": True, "type": "c", "major": 1, "minor": 8, "access": "rwm"},  # random
    {"allow": True, "type": "c", "major": 1, "minor": 9, "access": "rwm"},  # urandom
    {"allow": True, "type": "c", "major": 5, "minor": 0, "access": "rwm"},  # tty
    {"allow": True, "type": "c", "major": 5, "minor": 1, "access": "rwm"},  # console
    {"allow": True, "type": "c", "major": 5, "minor": 2, "access": "rwm"},  # ptmx
    {"allow": True, "type": "c", "major": 136, "access": "rwm"},  # pts
    {"allow": True, "type": "c", "major": 10, "minor": 200, "access": "rwm"},  # tun
]


def validate(hc: dict, ncpu: int | None = None) -> list[str]:
    """Raise InvalidArgument for settings Docker refuses; return Docker's warnings for the others."""
    ncpu = ncpu or os.cpu_count() or 1
    warnings: list[str] = []
    mem = int(hc.get("Memory") or 0)
    swap = int(hc.get("MemorySwap") or 0)
    if mem and mem < MIN_MEMORY:
        raise InvalidArgument("Minimum memory limit allowed is 6MB")
    if swap > 0 and not mem:
        raise InvalidArgument("You should always set the Memory limit when using Memoryswap limit, see usage")
    if swap > 0 and swap < mem:
        raise InvalidArgument("Minimum memoryswap limit should be larger than memory limit, see usage")
    nano = int(hc.get("NanoCpus") or 0)
    if nano and (hc.get("CpuQuota") or hc.get("CpuPeriod")):
        raise InvalidArgument("Conflicting options: Nano CPUs and CPU Period cannot both be set")
    if nano < 0 or nano > ncpu * 1_000_000_000:
        raise InvalidArgument(f"Range of CPUs is from 0.01 to {ncpu}.00, as there are only {ncpu} CPUs available")
    period = int(hc.get("CpuPeriod") or 0)
    if period and not 1000 <= period <= 1_000_000:
        raise InvalidArgument("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)")
    quota = int(hc.get("CpuQuota") or 0)
    if quota and quota < 1000 and quota != -1:
        raise InvalidArgument("CPU cfs quota can not be less than 1ms (i.e. 1000)")
    shares = int(hc.get("CpuShares") or 0)
    if shares < 0:
        raise InvalidArgument("invalid CPU shares: must be a positive integer")
    return warnings


def linux_resources(hc: dict) -> dict:
    """The OCI `linux.resources` object for a container's HostConfig."""
    res: dict = {"devices": [dict(r) for r in DEFAULT_DEVICE_RULES]}
    if hc.get("Privileged"):
        res["devices"] = [{"allow": True, "access": "rwm"}]
    mem = int(hc.get("Memory") or 0)
    swap = int(hc.get("MemorySwap") or 0)
    memory: dict = {}
    if mem:
        memory["limit"] = mem
        # Docker: unset swap with a memory limit means as much swap again as memory
        memory["swap"] = mem * 2 if swap == 0 else swap
    if hc.get("MemoryReservation"):
        memory["reservation"] = int(hc["MemoryReservation"])
    if hc.get("MemorySwappiness") not in (None, -1):
        memory["swappiness"] = int(hc["MemorySwappiness"])
    if memory:
        res["memory"] = memory
    cpu: dict = {}
    if hc.get("CpuShares"):
        cpu["shares"] = int(hc["CpuShares"])
    nano = int(hc.get("NanoCpus") or 0)
    if nano:
        cpu["period"] = CPU_PERIOD
        cpu["quota"] = nano * CPU_PERIOD // 1_000_000_000
    if hc.get("CpuQuota"):
        cpu["quota"] = int(hc["CpuQuota"])
    if hc.get("CpuPeriod"):
        cpu["period"] = int(hc["CpuPeriod"])
    if hc.get("CpusetCpus"):
        cpu["cpus"] = hc["CpusetCpus"]
    if hc.get("CpusetMems"):
        cpu["mems"] = hc["CpusetMems"]
    if cpu:
        res["cpu"] = cpu
    pids = hc.get("PidsLimit")
    if pids is not None and int(pids) > 0:
        res["pids"] = {"limit": int(pids)}
    return res


def rlimits(ulimits: list[dict] | None) -> list[dict]:
    """HostConfig.Ulimits (`nofile=1024:2048`) → OCI process.rlimits."""
    out = []
    for u in ulimits or []:
        name = str(u.get("Name", "")).upper()
        if not name:
            continue
        out.append({"type": "RLIMIT_" + name, "soft": int(u.get("Soft", 0)), "hard": int(u.get("Hard", 0))})
    return out
