"""`docker images --filter` and `image prune --filter` (pure)."""

from __future__ import annotations

import re
import time

from skiff.common.errors import InvalidArgument
from skiff.common.timefmt import parse_rfc3339

KNOWN = {"dangling", "label", "before", "since", "reference", "until"}


def _glob(pattern: str) -> re.Pattern:
    """Go's path.Match: `*` and `?` do not cross `/`."""
    out = ""
    for ch in pattern:
        out += "[^/]*" if ch == "*" else "[^/]" if ch == "?" else re.escape(ch)
    return re.compile(out + r"\Z")


def _truthy(v: str, key: str) -> bool:
    if v.lower() in ("true", "1"):
        return True
    if v.lower() in ("false", "0"):
        return False
    raise InvalidArgument(f"Invalid filter '{key}={v}'")


def parse_until(v: str) -> float:
    """A Unix timestamp, an RFC 3339 time, or a duration like 24h/10m/30s before now."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(h|m|s)", v)
    if m:
        n = float(m.group(1)) * {"h": 3600, "m": 60, "s": 1}[m.group(2)]
        return time.time() - n
    try:
        return float(v)
    except ValueError:
        pass
    try:
        return parse_rfc3339(v if ("Z" in v or "+" in v) else v + "Z")
    except ValueError:
        raise InvalidArgument(f"invalid filter 'until={v}'") from None


def reference_matches(pattern: str, tags: list[str]) -> bool:
    rx = _glob(pattern)
    for t in tags:
        name = t.rsplit(":", 1)[0] if ":" in t.split("/")[-1] else t
        if rx.match(t) if ":" in pattern.split("/")[-1] else rx.match(name):
            return True
    return False


def matches_filters(img, filters: dict[str, list[str]], by_ref: dict) -> bool:
    for key in filters:
        if key not in KNOWN:
            raise InvalidArgument(f"invalid filter '{key}'")
    created = parse_rfc3339(img.created) if img.created else 0.0
    for v in filters.get("dangling", []):
        if _truthy(v, "dangling") == bool(img.repo_tags):
            return False
    labels = (img.config.get("config") or {}).get("Labels") or {}
    for v in filters.get("label", []):
        k, eq, want = v.partition("=")
        if k not in labels or (eq and labels[k] != want):
            return False
    for v in filters.get("before", []):
        other = by_ref[v]
        if not created < (parse_rfc3339(other.created) if other.created else 0.0):
            return False
    for v in filters.get("since", []):
        other = by_ref[v]
        if not created > (parse_rfc3339(other.created) if other.created else 0.0):
            return False
    refs = filters.get("reference", [])
    if refs and not any(reference_matches(p, img.repo_tags) for p in refs):
        return False
    for v in filters.get("until", []):
        if not created < parse_until(v):
            return False
    return True
