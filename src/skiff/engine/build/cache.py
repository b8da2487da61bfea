"""The classic builder's layer cache: a step is cached when an image whose parent is the
current image was committed with the same probe config (its `container_config`: the runtime
config with Cmd = the step's shell + `#(nop)` comment, or the RUN command with its build
args; COPY/ADD comments carry the sources' checksum). Lives in the image records, so it
survives engine restarts and goes away with `docker image prune`."""

from __future__ import annotations

from typing import Any

# Fields that take part in the comparison (Docker's image/cache/compare.go, plus the
# fields a build can change).
KEYS = ("Cmd", "Env", "Labels", "ExposedPorts", "Entrypoint", "Volumes", "WorkingDir", "User",
        "OnBuild", "Shell", "StopSignal", "Healthcheck")


def cache_key(config: dict) -> dict:
    """The comparable part of a probe config; empty values count as absent."""
    return {k: config[k] for k in KEYS if config.get(k) not in (None, "", [], {})}


def find_cached(images: Any, parent_id: str, probe: dict) -> str | None:
    """The id of a child of `parent_id` built with the same probe config, newest first, or None."""
    want = cache_key(probe)
    hits = []
    with images.store.lock:
        records = [r for r in images.store.records.values() if r.parent == parent_id]
    for rec in records:
        try:
            cfg = images._config(rec.id)
        except (OSError, KeyError, ValueError):
            continue
        stored = cfg.get("container_config")
        if stored is None:
            continue
        if cache_key(stored) == want:
            hits.append((cfg.get("created", ""), rec.id))
    return max(hits)[1] if hits else None
