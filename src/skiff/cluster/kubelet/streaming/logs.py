"""Container logs options (the PodLogOptions query), pure: parsing and the byte limit."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class LogOptions:
    follow: bool = False
    previous: bool = False
    timestamps: bool = False
    tail: str = "all"  # the engine's form: "all" or a count
    since: float = 0.0  # epoch seconds, 0 for the beginning
    limit_bytes: int | None = None


def _int(query, name: str, minimum: int) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name}: Invalid value: {raw!r}: must be an integer") from None
    if value < minimum:
        qualifier = "greater than 0" if minimum == 1 else "greater than or equal to 0"
        raise ValueError(f"{name}: Invalid value: {value}: must be {qualifier}")
    return value


def parse_time(text: str) -> float:
    """RFC 3339 (sinceTime) to epoch seconds."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise ValueError(f"sinceTime: Invalid value: {text!r}: must be RFC3339") from None


def parse_options(query, now: float | None = None) -> LogOptions:
    """PodLogOptions from a query (a multidict) as the API server validates them."""
    truthy = ("1", "true", "True")
    since_seconds = _int(query, "sinceSeconds", 1)
    since_time = query.get("sinceTime") or ""
    if since_seconds is not None and since_time:
        raise ValueError("at most one of sinceTime or sinceSeconds may be specified")
    since = 0.0
    if since_seconds is not None:
        since = (time.time() if now is None else now) - since_seconds
    elif since_time:
        since = parse_time(since_time)
    tail = _int(query, "tailLines", 0)
    return LogOptions(follow=query.get("follow", "") in truthy, previous=query.get("previous", "") in truthy,
                      timestamps=query.get("timestamps", "") in truthy, tail="all" if tail is None else str(tail),
                      since=since, limit_bytes=_int(query, "limitBytes", 1))


class ByteLimit:
    """Cuts a stream after `limit` bytes (None: no limit)."""

    def __init__(self, limit: int | None):
        self.left = limit

    def take(self, data: bytes) -> bytes:
        if self.left is None:
            return data
        data = data[: self.left]
        self.left -= len(data)
        return data

    @property
    def done(self) -> bool:
        return self.left is not None and self.left <= 0
