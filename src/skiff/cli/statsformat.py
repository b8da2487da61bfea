"""`stats` rows: Docker's CPU/memory arithmetic over one /containers/{id}/stats sample."""

from __future__ import annotations

from skiff.cli.formatter import Row
from skiff.cli.humanize import bytes_size, human_size

STATS_FORMAT = ("table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}"
                "\t{{.BlockIO}}\t{{.PIDs}}")
STATS_TITLES = {
    "ID": "CONTAINER ID", "Container": "CONTAINER", "Name": "NAME", "CPUPerc": "CPU %",
    "MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %", "NetIO": "NET I/O", "BlockIO": "BLOCK I/O",
    "PIDs": "PIDS",
}


def cpu_percent(s: dict) -> float:
    cpu, pre = s.get("cpu_stats") or {}, s.get("precpu_stats") or {}
    cpu_delta = (cpu.get("cpu_usage") or {}).get("total_usage", 0) - (pre.get("cpu_usage") or {}).get("total_usage", 0)
    sys_delta = cpu.get("system_cpu_usage", 0) - pre.get("system_cpu_usage", 0)
    online = cpu.get("online_cpus") or len((cpu.get("cpu_usage") or {}).get("percpu_usage") or []) or 1
    if sys_delta > 0 and cpu_delta > 0:
        return cpu_delta / sys_delta * online * 100.0
    return 0.0


def memory_usage(s: dict) -> float:
    """Usage minus page cache: cgroup v1 total_inactive_file, v2 inactive_file (docker's rule)."""
    mem = s.get("memory_stats") or {}
    usage = mem.get("usage", 0)
    st = mem.get("stats") or {}
    for key in ("total_inactive_file", "inactive_file"):
        if key in st and st[key] < usage:
            return usage - st[key]
    return usage


class StatsRow(Row):
    FIELDS = ("BlockIO", "CPUPerc", "Container", "ID", "MemPerc", "MemUsage", "Name", "NetIO", "PIDs")

    def __init__(self, s: dict, asked_as: str | None, trunc: bool = True):
        self.s = s
        self.Container = asked_as or s.get("id", "")[:12]
        self.trunc = trunc

    @property
    def ID(self) -> str:
        cid = self.s.get("id", "")
        return cid[:12] if self.trunc else cid

    @property
    def Name(self) -> str:
        return self.s.get("name", "").lstrip("/") or "--"

    @property
    def CPUPerc(self) -> str:
        return f"{cpu_percent(self.s):.2f}%"

    @property
    def MemUsage(self) -> str:
        limit = (self.s.get("memory_stats") or {}).get("limit", 0)
        return f"{bytes_size(memory_usage(self.s))} / {bytes_size(limit)}"

    @property
    def MemPerc(self) -> str:
        limit = (self.s.get("memory_stats") or {}).get("limit", 0)
        return f"{memory_usage(self.s) / limit * 100:.2f}%" if limit else "0.00%"

    @property
    def NetIO(self) -> str:
        rx = sum(n.get("rx_bytes", 0) for n in (self.s.get("networks") or {}).values())
        tx = sum(n.get("tx_bytes", 0) for n in (self.s.get("networks") or {}).values())
        return f"{human_size(rx, 3)} / {human_size(tx, 3)}"

    @property
    def BlockIO(self) -> str:
        read = write = 0
        for e in (self.s.get("blkio_stats") or {}).get("io_service_bytes_recursive") or []:
            op = (e.get("op") or "").lower()
            if op == "read":
                read += e.get("value", 0)
            elif op == "write":
                write += e.get("value", 0)
        return f"{human_size(read, 3)} / {human_size(write, 3)}"

    @property
    def PIDs(self) -> str:
        return str((self.s.get("pids_stats") or {}).get("current", 0))
