"""Docker's human forms of durations, sizes and timestamps (go-units and timetypes), pure."""

from __future__ import annotations

import re
import time

from skiff.common.durations import human_duration
from skiff.common.goduration import parse_go_duration

_SI = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]
_BINARY = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"]


def _go_g(value: float, precision: int) -> str:
    """Go's %.Ng: like C's %g (no trailing zeros), which Python's %g already matches."""
    return f"%.{precision}g" % value


def human_size(size: float, precision: int = 4) -> str:
    """SI units as `docker images` prints them: 1980000 → "1.98MB"."""
    i = 0
    size = float(size)
    while size >= 1000.0 and i < len(_SI) - 1:
        size /= 1000.0
        i += 1
    return _go_g(size, precision) + _SI[i]


def bytes_size(size: float) -> str:
    """Binary units as `docker stats` prints memory: 1048576 → "1MiB"."""
    i = 0
    size = float(size)
    while size >= 1024.0 and i < len(_BINARY) - 1:
        size /= 1024.0
        i += 1
    return _go_g(size, 3) + _BINARY[i]


def ago(then: float, now: float | None = None) -> str:
    """ "3 minutes ago" for a Unix time, as the CREATED column shows it."""
    now = time.time() if now is None else now
    return human_duration(now - then) + " ago"


def state_status(state: dict, now: float | None = None) -> str:
    """The STATUS text Docker derives from a container's State ("Up 3 seconds", "Exited (0) ...")."""
    from skiff.common.timefmt import parse_rfc3339

    now = time.time() if now is None else now
    started = parse_rfc3339(state.get("StartedAt", ""))
    finished = parse_rfc3339(state.get("FinishedAt", ""))
    if state.get("Running"):
        if state.get("Paused"):
            return f"Up {human_duration(now - started)} (Paused)"
        if state.get("Restarting"):
            return f"Restarting ({state.get('ExitCode', 0)}) {human_duration(now - finished)} ago"
        return f"Up {human_duration(now - started)}"
    if state.get("Dead"):
        return "Dead"
    if not started:
        return "Created"
    if not finished:
        return ""
    return f"Exited ({state.get('ExitCode', 0)}) {human_duration(now - finished)} ago"


_RAM = re.compile(r"^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$")
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def ram_in_bytes(text: str) -> int:
    """`--memory 512m` → bytes, binary multiples as go-units RAMInBytes reads them."""
    m = _RAM.match(text.strip())
    if not m:
        num = re.match(r"^\d+(?:\.\d+)?", text.strip())
        if num:
            raise ValueError(f"invalid suffix: '{text.strip()[num.end():].strip()}'")
        raise ValueError(f"invalid size: '{text}'")
    return int(float(m.group(1)) * _UNITS[(m.group(2) or "").lower()])


_TS_FORMATS = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H", "%Y-%m-%d"]


def timestamp_arg(value: str, now: float | None = None) -> str:
    """--since/--until values (RFC 3339, date, Unix seconds, or a duration ago) → "secs.nanos"."""
    from datetime import UTC, datetime

    now = time.time() if now is None else now
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return value
    try:
        secs = now - parse_go_duration(value)
        return f"{int(secs)}.{int((secs % 1) * 1e9):09d}"
    except ValueError:
        pass
    from skiff.common.timefmt import parse_rfc3339

    if re.search(r"(Z|[+-]\d\d:\d\d)$", value):
        secs = parse_rfc3339(value)
        return f"{int(secs)}.{int(round((secs % 1) * 1e9)):09d}"
    frac = 0.0
    m = re.search(r"\.(\d+)$", value)
    if m:
        frac = float("0." + m.group(1))
        value = value[: m.start()]
    for fmt in _TS_FORMATS:
        try:
            dt = datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
        return f"{int(dt.timestamp())}.{int(round(frac * 1e9)):09d}"
    raise ValueError(f'failed to parse value as time or duration: "{value}"')
