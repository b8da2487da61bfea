"""The kubelet's Summary API (`GET /stats/summary`): node, pod and container CPU and memory.

Containers' figures come from the engine's cgroup managers (`containers.runtime.stats`), a
pod's from its pod cgroup (podcgroup.py) when it has one, else the sum of its containers; the
node's from /proc/stat and /proc/meminfo. usageNanoCores is a rate, so it needs two samples
of the cumulative CPU time: `Sampler` keeps the last two per cgroup, refreshed by a background
housekeeping loop (as cAdvisor's) and by each request; the first answer may lack a rate.
Memory's workingSetBytes is usage minus inactive_file, as Kubernetes computes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger("skiff.kubelet.stats")

HOUSEKEEPING_INTERVAL = 10.0  # cAdvisor's default housekeeping interval
MIN_SAMPLE_GAP = 1.0  # two samples closer than this give too noisy a rate
_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


# ---- pure ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CpuSample:
    at: float  # monotonic seconds
    usage_ns: int  # cumulative CPU time


def rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def nano_cores(prev: CpuSample | None, last: CpuSample | None) -> int | None:
    """CPU use between two samples in nano-cores (1e9 = one core busy), None without two."""
    if prev is None or last is None or last.at - prev.at <= 0 or last.usage_ns < prev.usage_ns:
        return None
    return int((last.usage_ns - prev.usage_ns) / (last.at - prev.at))


def cpu_usage_ns(raw: dict) -> int:
    """Cumulative CPU time from a cgroup manager's stats()."""
    return int((((raw.get("cpu") or {}).get("usage")) or {}).get("total", 0))


def memory_stats(raw_memory: dict, stamp: str) -> dict:
    """A cgroup's MemoryStats. v1 names the hierarchical figures total_*, v2 has no prefix."""
    kv = raw_memory.get("stats") or {}
    usage = int(raw_memory.get("usage", 0))
    inactive = int(kv.get("total_inactive_file", kv.get("inactive_file", 0)))
    rss = int(kv.get("total_rss", kv.get("anon", 0)))
    working = max(usage - inactive, 0)
    out: dict[str, Any] = {"time": stamp, "usageBytes": usage, "workingSetBytes": working, "rssBytes": rss,
           "pageFaults": int(kv.get("total_pgfault", kv.get("pgfault", 0))),
           "majorPageFaults": int(kv.get("total_pgmajfault", kv.get("pgmajfault", 0)))}
    limit = int(raw_memory.get("limit") or 0)
    if 0 < limit < 1 << 62:
        out["availableBytes"] = max(limit - working, 0)
    return out


def cpu_stats(usage_ns: int, rate: int | None, stamp: str) -> dict:
    out: dict[str, Any] = {"time": stamp, "usageCoreNanoSeconds": usage_ns}
    if rate is not None:
        out["usageNanoCores"] = rate
    return out


def proc_stat_usage_ns(text: str, clk_tck: int = _CLK_TCK) -> int:
    """The host's busy CPU time (everything but idle and iowait) from /proc/stat, in ns."""
    for line in text.splitlines():
        if line.startswith("cpu "):
            f = [int(x) for x in line.split()[1:]]
            busy = sum(f[:8]) - f[3] - (f[4] if len(f) > 4 else 0)  # user..steal without idle, iowait
            return busy * 1_000_000_000 // clk_tck
    return 0


def meminfo_stats(text: str, stamp: str) -> dict:
    """The node's MemoryStats from /proc/meminfo: usage is what is not free, the working set
    leaves out the inactive page cache, available is MemAvailable."""
    kb = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            kb[name] = int(parts[0]) * 1024
    usage = kb.get("MemTotal", 0) - kb.get("MemFree", 0)
    working = max(usage - kb.get("Inactive(file)", 0), 0)
    return {"time": stamp, "availableBytes": kb.get("MemAvailable", kb.get("MemTotal", 0) - working),
            "usageBytes": usage, "workingSetBytes": working, "rssBytes": kb.get("AnonPages", 0),
            "pageFaults": 0, "majorPageFaults": 0}


def sum_stats(parts: list[dict], stamp: str) -> tuple[dict, dict]:
    """A pod's (cpu, memory) as the sum of its containers', for a pod without its own cgroup."""
    cpu: dict[str, Any] = {"time": stamp, "usageCoreNanoSeconds": sum(p["cpu"]["usageCoreNanoSeconds"]
                                                                       for p in parts)}
    if parts and all("usageNanoCores" in p["cpu"] for p in parts):
        cpu["usageNanoCores"] = sum(p["cpu"]["usageNanoCores"] for p in parts)
    mem: dict[str, Any] = {"time": stamp}
    for k in ("usageBytes", "workingSetBytes", "rssBytes", "pageFaults", "majorPageFaults"):
        mem[k] = sum(p["memory"].get(k, 0) for p in parts)
    return cpu, mem


class Sampler:
    """The last two CPU samples per key (a cgroup, or "node"). A sample closer than
    MIN_SAMPLE_GAP to the last replaces it, so the rate always spans at least that long."""

    def __init__(self) -> None:
        self.samples: dict[str, tuple[CpuSample | None, CpuSample]] = {}

    def record(self, key: str, sample: CpuSample) -> int | None:
        prev, last = self.samples.get(key, (None, None))
        if last is None:
            self.samples[key] = (None, sample)
        elif sample.at - last.at >= MIN_SAMPLE_GAP:
            self.samples[key] = (last, sample)
        elif prev is not None:
            self.samples[key] = (prev, sample)  # keep the older base: a longer, steadier span
        else:
            self.samples[key] = (None, last)
        prev, last = self.samples[key]
        return nano_cores(prev, last)

    def forget_except(self, keys: set[str]) -> None:
        for k in list(self.samples):
            if k not in keys:
                del self.samples[k]


# ---- I/O -------------------------------------------------------------------------------------
def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


class SummaryProvider:
    """Builds the Summary from what the kubelet runs; `run()` is the housekeeping loop."""

    def __init__(self, kubelet: Any, interval: float = HOUSEKEEPING_INTERVAL):
        self.kubelet = kubelet
        self.interval = interval
        self.sampler = Sampler()
        self.boot = time.time() - time.monotonic()
        self.lock = threading.Lock()  # housekeeping and requests sample from worker threads

    async def run(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.collect)
            except Exception as e:  # noqa: BLE001 - a missed sample only delays a rate
                log.debug("stats housekeeping: %s", e)
            await asyncio.sleep(self.interval)

    async def summary(self) -> dict:
        return await asyncio.to_thread(self.collect)

    def _raw(self, cid: str) -> dict | None:
        with contextlib.suppress(Exception):  # gone or stopped between listing and reading
            return self.kubelet.engine.containers.runtime.stats(cid)
        return None

    def _pod_cgroup_raw(self, uid: str) -> dict | None:
        parent = self.kubelet.pod_cgroups.made.get(uid) or ""
        if not parent:
            return None
        from skiff.engine.runtime.cgroups.base import manager_for

        with contextlib.suppress(Exception):
            return manager_for(parent).stats()
        return None

    def collect(self) -> dict:
        """Sample everything now and return the Summary."""
        with self.lock:
            return self._collect()

    def _collect(self) -> dict:
        now, mono = time.time(), time.monotonic()
        stamp = rfc3339(now)
        keys = {"node"}
        node_ns = proc_stat_usage_ns(_read("/proc/stat"))
        node = {"nodeName": self.kubelet.node_name, "startTime": rfc3339(self.boot),
                "cpu": cpu_stats(node_ns, self.sampler.record("node", CpuSample(mono, node_ns)), stamp),
                "memory": meminfo_stats(_read("/proc/meminfo"), stamp), "systemContainers": []}
        pods = []
        running = [c for c in self.kubelet.runtime.list() if c.running and not c.is_sandbox]
        for uid, worker in list(self.kubelet.workers.items()):
            meta = worker.pod.get("metadata") or {}
            containers = []
            for c in running:
                if c.key.uid != uid:
                    continue
                raw = self._raw(c.id)
                if raw is None:
                    continue
                used = cpu_usage_ns(raw)
                keys.add(c.id)
                rate = self.sampler.record(c.id, CpuSample(mono, used))
                containers.append({"name": c.key.container, "startTime": c.started_at,
                                   "cpu": cpu_stats(used, rate, stamp),
                                   "memory": memory_stats(raw.get("memory") or {}, stamp)})
            if not containers:
                continue
            pod_raw = self._pod_cgroup_raw(uid)
            if pod_raw is not None:
                used = cpu_usage_ns(pod_raw)
                keys.add("pod" + uid)
                cpu = cpu_stats(used, self.sampler.record("pod" + uid, CpuSample(mono, used)), stamp)
                mem = memory_stats(pod_raw.get("memory") or {}, stamp)
            else:
                cpu, mem = sum_stats(containers, stamp)
            pods.append({"podRef": {"name": meta.get("name", ""), "namespace": meta.get("namespace", ""),
                                    "uid": uid},
                         "startTime": (worker.pod.get("status") or {}).get("startTime") or stamp,
                         "containers": sorted(containers, key=lambda x: x["name"]),
                         "cpu": cpu, "memory": mem})
        self.sampler.forget_except(keys)
        return {"node": node, "pods": pods}
