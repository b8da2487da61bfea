"""`skiff registry garbage-collect`: delete blobs no manifest refers to, as the reference
registry's command does (run it while the registry is stopped or read-only)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import orjson

from skiff.engine.registry.server.storage import Storage


@dataclass
class Collected:
    kept: set[str] = field(default_factory=set)
    deleted: list[str] = field(default_factory=list)
    untagged_manifests: list[str] = field(default_factory=list)  # name@digest, with delete_untagged


def _referenced(storage: Storage, data: bytes) -> list[str]:
    try:
        m = orjson.loads(data)
    except orjson.JSONDecodeError:
        return []
    out = [d.get("digest", "") for d in m.get("manifests") or [] if isinstance(d, dict)]
    if isinstance(m.get("config"), dict):
        out.append(m["config"].get("digest", ""))
    out += [d.get("digest", "") for d in m.get("layers") or [] if isinstance(d, dict)]
    return [d for d in out if d.startswith("sha256:")]


def collect(storage: Storage, dry_run: bool = False, delete_untagged: bool = False) -> Collected:
    """Mark what every repository's manifests (and their children) use; sweep the rest."""
    result = Collected()
    for name in storage.catalog():
        revisions = storage.repo_dir / name / "_manifests" / "revisions"
        tagged = {storage.resolve(name, t) for t in storage.tags(name)}
        for entry in sorted(os.listdir(revisions)) if revisions.is_dir() else []:
            digest = "sha256:" + entry
            if delete_untagged and digest not in tagged and not _is_child(storage, name, digest, tagged):
                result.untagged_manifests.append(f"{name}@{digest}")
                if not dry_run:
                    (revisions / entry).unlink()
                continue
            stack = [digest]
            while stack:
                d = stack.pop()
                if d in result.kept:
                    continue
                result.kept.add(d)
                path = storage.blob_path(d)
                if path.is_file() and path.stat().st_size <= 4 << 20:
                    stack += _referenced(storage, path.read_bytes())
    for entry in sorted(os.listdir(storage.blob_dir)):
        digest = "sha256:" + entry
        if digest not in result.kept:
            result.deleted.append(digest)
            if not dry_run:
                (storage.blob_dir / entry).unlink(missing_ok=True)
                for repo in storage.repo_dir.rglob(f"_layers/{entry}"):
                    repo.unlink(missing_ok=True)
    return result


def _is_child(storage: Storage, name: str, digest: str, tagged: set[str]) -> bool:
    """A platform manifest of a tagged index counts as tagged."""
    for top in tagged:
        path = storage.blob_path(top)
        if path.is_file() and digest in _referenced(storage, path.read_bytes()):
            return True
    return False
