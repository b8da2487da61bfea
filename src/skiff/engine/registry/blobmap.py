"""Which compressed blobs a registry holds for a local (uncompressed) layer.

Layers are stored uncompressed, so the registry's digest of a layer is only known after a
pull or a push. Remembering it (per registry host and repository) is what lets a push say
`Layer already exists` or mount the blob from another repository instead of uploading it.
`<data-root>/registry/blobsums.json`: {diff_id: [{"digest", "size", "mediaType", "host", "repo"}]}.
"""

from __future__ import annotations

import threading
from pathlib import Path

import orjson

from skiff.engine.snapshots.metadata import write_atomic

MAX_PER_LAYER = 16


class BlobMap:
    def __init__(self, root: str | Path):
        self.path = Path(root) / "registry" / "blobsums.json"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._map: dict[str, list[dict]] = orjson.loads(self.path.read_bytes())
        except (FileNotFoundError, orjson.JSONDecodeError):
            self._map = {}

    def known(self, diff_id: str, host: str) -> list[dict]:
        """Descriptors of this layer on `host`, most recent first."""
        with self._lock:
            return [e for e in self._map.get(diff_id, []) if e["host"] == host]

    def add(self, diff_id: str, host: str, repo: str, digest: str, size: int, media_type: str) -> None:
        entry = {"digest": digest, "size": size, "mediaType": media_type, "host": host, "repo": repo}
        with self._lock:
            entries = [e for e in self._map.get(diff_id, [])
                       if not (e["host"] == host and e["repo"] == repo and e["digest"] == digest)]
            self._map[diff_id] = [entry, *entries][:MAX_PER_LAYER]
            write_atomic(self.path, orjson.dumps(self._map))
