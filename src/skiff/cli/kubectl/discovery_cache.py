"""Discovery kept on disk between invocations, as kubectl keeps it (~/.kube/cache): two
requests fewer per command. A name the cached copy does not know refreshes it first."""

from __future__ import annotations

import json
import os
import time
from typing import Any

from skiff.cluster.client.paths import Resource

TTL_SECONDS = 6 * 3600  # kubectl's disk cache lifetime
VERSION = 1


def cache_dir(environ: dict[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    if env.get("KUBECACHEDIR"):
        return env["KUBECACHEDIR"]
    return os.path.join(env.get("HOME") or os.path.expanduser("~"), ".kube", "cache")


def cache_file(server: str, environ: dict[str, str] | None = None) -> str:
    """One file per server URL (`https://127.0.0.1:6443` → `skiff-discovery/127.0.0.1_6443.json`)."""
    host = server.split("://", 1)[-1].strip("/").replace("/", "_").replace(":", "_")
    return os.path.join(cache_dir(environ), "skiff-discovery", f"{host}.json")


def load(path: str, now: float | None = None) -> list[Resource] | None:
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("version") != VERSION:
        return None
    if (now or time.time()) - float(doc.get("written", 0)) > TTL_SECONDS:
        return None
    try:
        rows: list[list[Any]] = doc["resources"]
        return [Resource._make(tuple(v) if isinstance(v, list) else v for v in row) for row in rows]
    except (TypeError, KeyError):
        return None


def store(path: str, resources: list[Resource]) -> None:
    """Best effort: a read-only home only means no cache."""
    doc: dict[str, Any] = {"version": VERSION, "written": time.time(), "resources": [list(r) for r in resources]}
    try:
        os.makedirs(os.path.dirname(path), mode=0o750, exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(doc, f, separators=(",", ":"))
        os.replace(tmp, path)
    except OSError:
        pass
