"""Object metadata helpers: uids, RFC 3339 timestamps, generateName, accessors."""

from __future__ import annotations

import os
import secrets
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

# k8s.io/apimachinery/pkg/util/rand: consonants and digits that cannot spell words.
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
RANDOM_SUFFIX_LENGTH = 5
MAX_NAME_LENGTH = 63
MAX_GENERATED_PREFIX = MAX_NAME_LENGTH - RANDOM_SUFFIX_LENGTH


_random_pool = b""
_random_lock = threading.Lock()


def new_uid() -> str:
    """A random (version 4) UUID. The random bytes come from os.urandom 256 UIDs at a time: each
    os.urandom call gives the GIL away, and on a busy API server getting it back costs more than
    the call (every create stamps a uid)."""
    global _random_pool
    with _random_lock:  # two threads must never take the same bytes
        if len(_random_pool) < 16:
            _random_pool = os.urandom(4096)
        raw, _random_pool = _random_pool[:16], _random_pool[16:]
    return str(uuid.UUID(bytes=raw, version=4))


_this_second: tuple[int, str] = (0, "")


def now_rfc3339(now: datetime | None = None) -> str:
    """A metav1.Time: second precision, UTC, 'Z'."""
    if now is not None:
        return format_rfc3339(now)
    global _this_second
    second = int(time.time())
    if second != _this_second[0]:  # formatted once a second: every write stamps a time or two
        _this_second = (second, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second)))
    return _this_second[1]


def format_rfc3339(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_rfc3339_micro(now: datetime | None = None) -> str:
    """A metav1.MicroTime (events, leases): microseconds, 'Z'."""
    return (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_rfc3339(text: str) -> datetime:
    """Parse a metav1.Time or MicroTime; naive times are taken as UTC."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def random_suffix(length: int = RANDOM_SUFFIX_LENGTH) -> str:
    return "".join(secrets.choice(NAME_ALPHABET) for _ in range(length))


def generate_name(prefix: str) -> str:
    """SimpleNameGenerator: the prefix cut to 58 characters, then 5 random characters."""
    return prefix[:MAX_GENERATED_PREFIX] + random_suffix()


def metadata(obj: dict[str, Any]) -> dict[str, Any]:
    """The object's metadata dict, created if missing."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        meta = {}
        obj["metadata"] = meta
    return meta


def name_of(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name") or "")


def namespace_of(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("namespace") or "")


def labels_of(obj: dict[str, Any]) -> dict[str, str]:
    return dict((obj.get("metadata") or {}).get("labels") or {})


def get_path(obj: Any, *path: str | int, default: Any = None) -> Any:
    """Walk dicts and lists; `default` when any step is missing."""
    current = obj
    for step in path:
        if isinstance(step, int):
            if not isinstance(current, list) or step >= len(current):
                return default
        elif not isinstance(current, dict) or step not in current:
            return default
        current = current[step]
    return default if current is None else current
