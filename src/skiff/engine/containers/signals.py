"""Signal names as Docker accepts them: `KILL`, `SIGKILL`, `9`, `SIGRTMIN+3`."""

from __future__ import annotations

import signal as _signal

from skiff.common.errors import InvalidArgument


def parse_signal(value: str | int | None, default: int = _signal.SIGTERM) -> int:
    if value is None or value == "":
        return default
    if isinstance(value, int):
        return value
    s = str(value).strip().upper()
    if s.isdigit():
        n = int(s)
        if 0 < n <= _signal.SIGRTMAX:
            return n
        raise InvalidArgument(f"Invalid signal: {value}")
    if not s.startswith("SIG"):
        s = "SIG" + s
    if s.startswith("SIGRTMIN+") or s.startswith("SIGRTMAX-"):
        base, _, off = s[3:].partition("+" if "+" in s else "-")
        if off.isdigit():
            n = _signal.SIGRTMIN + int(off) if base == "RTMIN" else _signal.SIGRTMAX - int(off)
            if _signal.SIGRTMIN <= n <= _signal.SIGRTMAX:
                return n
        raise InvalidArgument(f"Invalid signal: {value}")
    try:
        return int(_signal.Signals[s])
    except KeyError:
        raise InvalidArgument(f"Invalid signal: {value}") from None
