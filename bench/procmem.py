"""Memory of a set of processes from /proc/<pid>/smaps_rollup: RSS, PSS and USS, in bytes."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

KB = 1024


@dataclass(frozen=True)
class Memory:
    rss: int = 0
    pss: int = 0
    uss: int = 0  # private pages: what would be freed if the process went away

    def __add__(self, other: Memory) -> Memory:
        return Memory(self.rss + other.rss, self.pss + other.pss, self.uss + other.uss)


def parse_smaps_rollup(text: str) -> Memory:
    """The totals in a smaps_rollup file (values are in kB)."""
    fields: dict[str, int] = {}
    for line in text.splitlines():
        key, sep, rest = line.partition(":")
        parts = rest.split()
        if sep and len(parts) == 2 and parts[1] == "kB":
            fields[key.strip()] = int(parts[0]) * KB
    return Memory(rss=fields.get("Rss", 0), pss=fields.get("Pss", 0),
                  uss=fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0))


def process_memory(pid: int) -> Memory:
    """A process's memory now; zero if it has gone."""
    try:
        return parse_smaps_rollup(Path(f"/proc/{pid}/smaps_rollup").read_text())
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return Memory()


def total_memory(pids: list[int]) -> Memory:
    total = Memory()
    for pid in pids:
        total = total + process_memory(pid)
    return total


def processes() -> list[tuple[int, list[str], str]]:
    """Every process as (pid, argv, exe path as seen from here)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace").split("\0")
            exe = os.readlink(f"/proc/{entry}/exe")
        except OSError:
            continue
        out.append((int(entry), argv, exe))
    return out


def mib(n: float) -> str:
    return f"{n / (1024 * 1024):.2f} MiB"
