"""Parsers for profiler output (pure): py-spy's collapsed stacks and `python -X importtime`."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^():]*?)(?::(?P<line>\d+))?\)$")
IMPORT = re.compile(r"^import time:\s+(?P<self>\d+) \|\s+(?P<cum>\d+) \|(?P<indent>\s*)(?P<name>\S+)\s*$")


def frame_name(frame: str, strip_prefix: str = "") -> str:
    """'handle (/x/skiff/engine/api/app.py:12)' -> 'handle (skiff/engine/api/app.py)'."""
    m = FRAME.match(frame)
    if not m:
        return frame
    path = m["file"]
    if strip_prefix and path.startswith(strip_prefix):
        path = path[len(strip_prefix):]
    for marker in ("/site-packages/", "/lib/python3."):
        if marker in path:
            path = path.split(marker, 1)[1]
            if marker == "/lib/python3.":
                path = "stdlib:" + path.split("/", 1)[-1]
            break
    return f"{m['func']} ({path})"


@dataclass
class StackProfile:
    total: int
    inclusive: Counter
    self_: Counter
    in_child: int  # samples taken in forked children (e.g. container init before exec)


def parse_collapsed(text: str, strip_prefix: str = "", waiting: frozenset[str] = frozenset()) -> StackProfile:
    """Aggregate `py-spy record --format raw` output by function: inclusive and self samples.
    Stacks through a function in `waiting` (blocked until work comes, which py-spy cannot
    always tell from work) are left out."""
    inclusive: Counter = Counter()
    self_: Counter = Counter()
    total = in_child = 0
    for line in text.splitlines():
        stack, _, count_s = line.rpartition(" ")
        if not stack or not count_s.isdigit():
            continue
        count = int(count_s)
        frames = stack.split(";")
        processes = [f for f in frames if f.startswith("process ")]
        frames = [frame_name(f, strip_prefix) for f in frames if not f.startswith(("process ", "thread "))]
        if waiting.intersection(frames):
            continue
        total += count
        if len(processes) > 1:
            in_child += count
        for name in set(frames):
            inclusive[name] += count
        if frames:
            self_[frames[-1]] += count
    return StackProfile(total, inclusive, self_, in_child)


@dataclass(frozen=True)
class ImportEntry:
    name: str
    self_us: int
    cumulative_us: int
    depth: int


def parse_importtime(stderr: str) -> list[ImportEntry]:
    entries = []
    for line in stderr.splitlines():
        m = IMPORT.match(line)
        if m:
            depth = (len(m["indent"]) - 1) // 2
            entries.append(ImportEntry(m["name"], int(m["self"]), int(m["cum"]), depth))
    return entries


def top_level_packages(entries: list[ImportEntry]) -> Counter:
    """Cumulative import time per top-level package (e.g. 'skiff', 'json', 'http')."""
    out: Counter = Counter()
    for e in entries:
        if e.depth == 0:
            out[e.name.split(".")[0]] += e.cumulative_us
    return out


def top_cumulative(stats: dict, limit: int, strip_prefix: str = "", min_s: float = 0.001) -> list[tuple[str, float, float]]:
    """From a pstats `Stats.stats` dict: [(function, cumulative s, own s)], biggest cumulative first.

    Interpreter plumbing (frozen importlib, runpy, `<built-in method builtins.exec>`) is left out so
    the list shows what the program itself spent time on.
    """
    rows = []
    for (filename, line, func), (_cc, _nc, own, cumulative, _callers) in stats.items():
        if cumulative < min_s or filename.startswith("<frozen") or func in ("<built-in method builtins.exec>",):
            continue
        name = frame_name(f"{func} ({filename}:{line})", strip_prefix) if filename != "~" else func
        rows.append((name, cumulative, own))
    rows.sort(key=lambda r: -r[1])
    return rows[:limit]


STRACE_LINE = re.compile(r"^(?P<pid>\d+)\s+[\d:.]+\s+(?P<call>\w+)\((?P<args>.*)\)\s+=\s+(?P<ret>-?\w+).*<(?P<dur>[\d.]+)>$")
OPEN_PATH = re.compile(r'^(?:AT_FDCWD|\d+), "(?P<path>[^"]*)"')
# Calls that sleep until something happens elsewhere (the event loop idling, a worker waiting
# for a child): their time is waiting, not work, so they are left out of the totals.
WAITING = frozenset({"epoll_wait", "epoll_pwait", "futex", "read", "wait4", "waitid", "poll", "ppoll", "select",
                     "pselect6", "accept4", "accept", "recvfrom", "recvmsg", "clock_nanosleep", "nanosleep"})


@dataclass
class SyscallProfile:
    seconds: Counter  # syscall name -> total seconds
    calls: Counter  # syscall name -> count
    slow: list[tuple[float, str]]  # (seconds, "write cgroup.procs ...") for single calls over the threshold


def parse_strace(text: str, slow_s: float = 0.002) -> SyscallProfile:
    """Aggregate `strace -f -T -tt` output; an fd argument is named by the path its openat returned."""
    seconds: Counter = Counter()
    calls: Counter = Counter()
    slow: list[tuple[float, str]] = []
    fd_paths: dict[tuple[str, str], str] = {}
    for line in text.splitlines():
        m = STRACE_LINE.match(line.strip())
        if not m:
            continue
        call, args, dur = m["call"], m["args"], float(m["dur"])
        if call in ("openat", "open"):
            p = OPEN_PATH.match(args)
            if p and m["ret"].isdigit():
                fd_paths[(m["pid"], m["ret"])] = p["path"]
        if call in WAITING:
            continue
        seconds[call] += dur
        calls[call] += 1
        if dur >= slow_s:
            fd = args.split(",", 1)[0]
            target = fd_paths.get((m["pid"], fd), args[:80])
            slow.append((dur, f"{call} {target}"))
    slow.sort(reverse=True)
    return SyscallProfile(seconds, calls, slow)
