"""Image records and references on disk: `images/<id hex>.json`, `images/repositories.json`."""

from __future__ import annotations

import os
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

import orjson

from skiff.common.digest import hex_of
from skiff.engine.snapshots.metadata import write_atomic


@dataclass
class ImageRecord:
    id: str  # sha256:<config digest>
    manifest_digest: str = ""
    parent: str = ""
    loaded: str = ""  # RFC 3339 time it arrived here (Metadata.LastTagTime falls back to it)
    last_tag_time: str = ""
    size: int = 0
    repo_digests: list[str] = field(default_factory=list)


class ImageStore:
    """Thread-safe maps: image id → record, full reference string → image id."""

    def __init__(self, root: str | Path):
        self.dir = Path(root)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._refs_path = self.dir / "repositories.json"
        self.lock = threading.RLock()
        self.records: dict[str, ImageRecord] = {}
        self.refs: dict[str, str] = {}
        for entry in os.scandir(self.dir):
            if entry.name.endswith(".json") and len(entry.name) == 69:
                raw = orjson.loads(Path(entry.path).read_bytes())
                known = {k: v for k, v in raw.items() if k in ImageRecord.__dataclass_fields__}
                rec = ImageRecord(**known)
                self.records[rec.id] = rec
        if self._refs_path.exists():
            self.refs = orjson.loads(self._refs_path.read_bytes()).get("refs", {})
            self.refs = {r: i for r, i in self.refs.items() if i in self.records}

    def save_record(self, rec: ImageRecord) -> None:
        with self.lock:
            write_atomic(self.dir / (hex_of(rec.id) + ".json"), orjson.dumps(asdict(rec)))
            self.records[rec.id] = rec

    def delete_record(self, image_id: str) -> None:
        with self.lock:
            self.records.pop(image_id, None)
            try:
                os.unlink(self.dir / (hex_of(image_id) + ".json"))
            except FileNotFoundError:
                pass

    def set_ref(self, ref: str, image_id: str) -> str | None:
        """Point `ref` at `image_id`; returns the image it pointed at before (if another)."""
        with self.lock:
            old = self.refs.get(ref)
            self.refs[ref] = image_id
            self._save_refs()
            return old if old != image_id else None

    def delete_ref(self, ref: str) -> str | None:
        with self.lock:
            old = self.refs.pop(ref, None)
            if old is not None:
                self._save_refs()
            return old

    def refs_of(self, image_id: str) -> list[str]:
        with self.lock:
            return sorted(r for r, i in self.refs.items() if i == image_id)

    def _save_refs(self) -> None:
        write_atomic(self._refs_path, orjson.dumps({"refs": self.refs}, option=orjson.OPT_SORT_KEYS))
