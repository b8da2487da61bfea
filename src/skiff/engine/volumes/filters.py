"""Docker's volume list filters: name, label, driver, dangling (pure)."""

from __future__ import annotations

from skiff.common.errors import InvalidArgument

KNOWN = {"name", "label", "driver", "dangling", "label!"}


def _truthy(v: str) -> bool:
    if v.lower() in ("1", "true"):
        return True
    if v.lower() in ("0", "false"):
        return False
    raise InvalidArgument(f"invalid filter 'dangling={v}'")


def matches(rec: dict, filters: dict[str, list[str]], in_use: bool) -> bool:
    for key, values in filters.items():
        if not values:
            continue
        if key not in KNOWN:
            raise InvalidArgument(f"invalid filter '{key}'")
        labels = rec.get("Labels") or {}
        if key == "name" and not any(v in rec["Name"] for v in values):
            return False
        if key == "driver" and rec.get("Driver", "local") not in values:
            return False
        if key == "dangling" and any(_truthy(v) == in_use for v in values):
            return False
        if key == "label":
            for v in values:
                k, sep, want = v.partition("=")
                if k not in labels or (sep and labels[k] != want):
                    return False
        if key == "label!":
            for v in values:
                k, sep, want = v.partition("=")
                if k in labels and (not sep or labels[k] == want):
                    return False
    return True
