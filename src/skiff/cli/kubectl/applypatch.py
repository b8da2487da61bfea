"""The patch client-side `kubectl apply` sends: a three-way diff of the last applied
configuration, the new configuration and the live object. Pure.

Maps are merged key by key. A key the last configuration had and the new one drops is
deleted (null). Scalars are set where the live value differs (drift is corrected). Lists are
replaced whole, and only when the configuration changed them: the live copy of a list holds
the server's defaults, so comparing it with the configuration would never be equal.
"""

from __future__ import annotations

from typing import Any


def three_way(original: dict[str, Any] | None, modified: dict[str, Any], live: dict[str, Any]) -> dict[str, Any]:
    return _diff(original or {}, modified, live)


def _diff(original: dict[str, Any], modified: dict[str, Any], live: dict[str, Any]) -> dict[str, Any]:
    patch: dict[str, Any] = {}
    for key, want in modified.items():
        have = live.get(key) if isinstance(live, dict) else None
        before = original.get(key) if isinstance(original, dict) else None
        if isinstance(want, dict) and isinstance(have, dict):
            sub = _diff(before if isinstance(before, dict) else {}, want, have)
            if sub:
                patch[key] = sub
        elif isinstance(want, list):
            if want != before or have is None:
                if want != have:
                    patch[key] = want
        elif want != have:
            patch[key] = want
    for key in original:
        if key not in modified and isinstance(live, dict) and key in live:
            patch[key] = None
    return patch


def merge_diff(original: dict[str, Any], modified: dict[str, Any]) -> dict[str, Any]:
    """The JSON merge patch that turns `original` into `modified` (lists whole, removed keys null)."""
    patch: dict[str, Any] = {}
    for key, want in modified.items():
        have = original.get(key, _ABSENT)
        if isinstance(want, dict) and isinstance(have, dict):
            sub = merge_diff(have, want)
            if sub:
                patch[key] = sub
        elif want != have:
            patch[key] = want
    for key in original:
        if key not in modified:
            patch[key] = None
    return patch


_ABSENT = object()
