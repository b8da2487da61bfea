"""Timestamps as Docker writes them (RFC 3339 with nanoseconds, UTC) and parses them."""

import re
import time
from datetime import UTC, datetime

ZERO_TIME = "0001-01-01T00:00:00Z"


def now_rfc3339() -> str:
    return rfc3339(time.time_ns())


def rfc3339(ns: int) -> str:
    secs, frac = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{frac:09d}Z"


_FRAC = re.compile(r"\.(\d+)")


def parse_rfc3339(s: str) -> float:
    """Seconds since the epoch of an RFC 3339 timestamp (nanoseconds trimmed to what float holds)."""
    if not s or s == ZERO_TIME:
        return 0.0
    frac = 0.0
    m = _FRAC.search(s)
    if m:
        frac = float("0." + m.group(1))
        s = s[: m.start()] + s[m.end():]
    s = s.replace("Z", "+00:00")
    return datetime.fromisoformat(s).astimezone(UTC).timestamp() + frac
