"""Read a container's json-file log (`<id>-json.log` plus rotated `.1`, `.2`, ...) as Docker's `logs` does.

Each line of the file is `{"log": "...", "stream": "stdout"|"stderr", "time": RFC3339Nano}`.
Readers yield `(stream, bytes)` with stream 1 for stdout and 2 for stderr; the API frames them.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import orjson

from skiff.common.timefmt import parse_rfc3339

STREAMS = {"stdout": 1, "stderr": 2}
Entry = tuple[int, bytes, str]  # (stream, bytes, RFC 3339 time as written)
POLL = 0.1


@dataclass
class LogOptions:
    stdout: bool = True
    stderr: bool = True
    since: float = 0.0  # seconds since the epoch, 0: from the start
    until: float = 0.0  # 0: no end
    timestamps: bool = False
    tail: int = -1  # -1: all


def parse_tail(tail: str | int | None) -> int:
    if tail is None or tail == "" or tail == "all":
        return -1
    try:
        n = int(tail)
    except ValueError:
        return -1
    return n if n >= 0 else -1


def log_files(live: Path) -> list[Path]:
    """Oldest first: the highest rotation number down to the live file."""
    rotated = []
    for p in live.parent.glob(live.name + ".*"):
        suffix = p.name[len(live.name) + 1:]
        if suffix.isdigit():
            rotated.append((int(suffix), p))
    return [p for _, p in sorted(rotated, reverse=True)] + ([live] if live.exists() else [])


def _decode(line: bytes) -> Entry | None:
    try:
        msg = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    stream = STREAMS.get(msg.get("stream", ""), 0)
    if not stream:
        return None
    return stream, msg.get("log", "").encode("utf-8", "surrogateescape"), msg.get("time", "")


def _select(entry: Entry, opts: LogOptions) -> bool | None:
    """True: show; False: skip; None: past `until`, stop. In dockerd's order: the reader skips
    entries before `since` and stops at the first after `until` whatever its stream; the
    stream choice is applied only when writing."""
    stream, _, ts = entry
    if opts.since or opts.until:
        t = parse_rfc3339(ts) if ts else 0.0
        if opts.since and t < opts.since:
            return False
        if opts.until and t > opts.until:
            return None
    return not ((stream == 1 and not opts.stdout) or (stream == 2 and not opts.stderr))


def fixed_nano(ts: str) -> str:
    """dockerd prints timestamps with exactly nine fractional digits (RFC3339NanoFixed)."""
    body, zone = (ts[:-1], "Z") if ts.endswith("Z") else (ts, "")
    head, _, frac = body.partition(".")
    if len(frac) == 9 or not head:
        return ts
    return f"{head}.{frac[:9]:0<9}{zone}"


def _render(entry: Entry, opts: LogOptions) -> tuple[int, bytes]:
    stream, data, ts = entry
    if opts.timestamps:
        data = fixed_nano(ts).encode() + b" " + data
    return stream, data


def _entries(lines: Iterable[bytes]) -> Iterator[Entry]:
    for line in lines:
        entry = _decode(line)
        if entry is not None:
            yield entry


def _shown(entries: Iterable[Entry], opts: LogOptions, out: list[tuple[int, bytes]]) -> bool:
    """Appends what `opts` lets through to `out`; False once past `until` (nothing more to show)."""
    for entry in entries:
        sel = _select(entry, opts)
        if sel is None:
            return False
        if sel:
            out.append(_render(entry, opts))
    return True


def _lines(path: Path) -> Iterator[bytes]:
    try:
        with open(path, "rb") as f:
            yield from f
    except FileNotFoundError:
        return


def _read_existing(live: Path, opts: LogOptions, live_file=None) -> tuple[list[tuple[int, bytes]], bool]:
    paths = log_files(live)
    sources: list = [_lines(p) for p in paths if p != live]
    if live_file is not None:
        data = live_file.read()
        complete = data[: data.rfind(b"\n") + 1]
        live_file.seek(len(complete) - len(data), os.SEEK_CUR)  # re-read a half-written line later
        sources.append(iter(complete.splitlines()))
    elif live in paths:
        sources.append(_lines(live))
    entries: Iterable[Entry] = chain.from_iterable(_entries(lines) for lines in sources)
    if opts.tail >= 0:
        # dockerd takes the last lines of the file first, of both streams, then filters them
        entries = deque(entries, maxlen=opts.tail)
    out: list[tuple[int, bytes]] = []
    more = _shown(entries, opts, out)
    return out, more


def read_existing(live: Path, opts: LogOptions, live_file=None) -> list[tuple[int, bytes]]:
    """Everything already logged that matches `opts` (tail applied). With `live_file` (an open
    handle on the live log) the live part is read through it, leaving it at the end for following."""
    return _read_existing(live, opts, live_file)[0]


async def follow(live: Path, opts: LogOptions, running: Callable[[], bool]) -> AsyncIterator[tuple[int, bytes]]:
    """The existing log (tail applied), then new entries as they are written, until the container
    stops and the file has been read to its end. Survives rotation by reopening on a new inode."""
    try:
        f = open(live, "rb")  # noqa: SIM115 (kept open while following)
    except FileNotFoundError:
        f = None
    existing, more = await asyncio.to_thread(_read_existing, live, opts, f)
    for item in existing:
        yield item
    if not more or (opts.until and opts.until <= time.time()):
        # nothing later can be shown (dockerd does not follow past `until` either)
        if f is not None:
            f.close()
        return
    pending = b""
    try:
        while True:
            alive = running()
            if f is None:
                try:
                    f = open(live, "rb")  # noqa: SIM115
                except FileNotFoundError:
                    if not alive:
                        return
                    await asyncio.sleep(POLL)
                    continue
            chunk = f.read()
            if chunk:
                pending += chunk
                *lines, pending = pending.split(b"\n")
                shown: list[tuple[int, bytes]] = []
                more = _shown(_entries(lines), opts, shown)
                for item in shown:
                    yield item
                if not more:
                    return
                continue
            try:
                rotated = os.stat(live).st_ino != os.fstat(f.fileno()).st_ino
            except FileNotFoundError:
                rotated = False
            if rotated:
                f.close()
                f = open(live, "rb")  # noqa: SIM115
                pending = b""
                continue
            if not alive:
                return
            await asyncio.sleep(POLL)
    finally:
        if f is not None:
            f.close()
