"""Routing of `/v2/...` paths, whose repository names contain slashes (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_ROUTES = [
    ("base", re.compile(r"^$")),
    ("catalog", re.compile(r"^_catalog$")),
    ("tags", re.compile(r"^(?P<name>.+)/tags/list$")),
    ("manifest", re.compile(r"^(?P<name>.+)/manifests/(?P<ref>[^/]+)$")),
    ("uploads", re.compile(r"^(?P<name>.+)/blobs/uploads/?$")),
    ("upload", re.compile(r"^(?P<name>.+)/blobs/uploads/(?P<ref>[^/]+)$")),
    ("blob", re.compile(r"^(?P<name>.+)/blobs/(?P<ref>[^/]+)$")),
]


@dataclass(frozen=True)
class Route:
    kind: str  # base, catalog, tags, manifest, uploads, upload, blob
    name: str = ""
    ref: str = ""  # tag or digest, upload id, blob digest


def route(tail: str) -> Route | None:
    """`tail` is the path after `/v2/`."""
    for kind, rx in _ROUTES:
        m = rx.match(tail)
        if m:
            return Route(kind, m.groupdict().get("name") or "", m.groupdict().get("ref") or "")
    return None


def page(items: list[str], n: str | None, last: str | None) -> tuple[list[str], bool]:
    """The `n`/`last` pagination of the catalog and tags list: (this page, more after it)."""
    if last:
        items = [i for i in items if i > last]
    if n is None or n == "":
        return items, False
    count = int(n)
    if count < 0:
        raise ValueError(n)
    return items[:count], len(items) > count
