"""Layers: uncompressed layer blobs in the content store, unpacked into snapshots by chain ID."""

from __future__ import annotations

import contextlib
import os
import uuid
from typing import BinaryIO

from skiff.common.errors import Conflict, InvalidArgument, NotFound
from skiff.engine.content.store import ContentStore
from skiff.engine.images.compression import decompressed, detect
from skiff.engine.images.unpack import apply_layer
from skiff.oci.image import chain_ids

SIZE_LABEL = "skiff.layer.size"


class LayerStore:
    def __init__(self, content: ContentStore, snapshotter):
        self.content = content
        self.snapshotter = snapshotter
        self.fmt = "overlay" if snapshotter.name == "overlay" else "native"

    def ingest(self, src: BinaryIO) -> tuple[str, bool]:
        """Store a layer stream (any compression) uncompressed; returns (diff_id, newly added)."""
        try:
            stream, _ = decompressed(src)
            with self.content.writer() as w:
                while chunk := stream.read(1 << 20):
                    w.write(chunk)
                existed = self.content.exists(w.digest)
                return w.commit(), not existed
        except (OSError, EOFError) as e:
            raise InvalidArgument(f"invalid layer: {e} (the data is truncated or corrupt)") from None

    def uncompressed(self, blob: str) -> tuple[str, bool]:
        """The diff_id of a stored blob, decompressing into a new blob when needed."""
        with self.content.open(blob) as f:
            head = f.read(6)
        if not detect(head):
            return blob, False
        with self.content.open(blob) as f:
            return self.ingest(f)

    def unpack(self, diff_ids: list[str]) -> list[str]:
        """Make sure a committed snapshot exists for every chain ID; returns those created now.

        On failure, what this call created is removed again and the error re-raised.
        """
        created: list[str] = []
        parent: str | None = None
        try:
            for diff_id, chain in zip(diff_ids, chain_ids(diff_ids), strict=True):
                if not self.snapshotter.exists(chain):
                    if self._unpack_one(diff_id, chain, parent):
                        created.append(chain)
                parent = chain
        except BaseException:
            self.discard(created)
            raise
        return created

    def discard(self, chains: list[str]) -> None:
        """Undo `unpack`: remove these committed snapshots, newest first; ones now in use stay."""
        for chain in reversed(chains):
            with contextlib.suppress(Conflict):
                self.snapshotter.remove(chain)

    def _unpack_one(self, diff_id: str, chain: str, parent: str | None) -> bool:
        key = f"extract-{uuid.uuid4().hex}"
        self.snapshotter.prepare(key, parent)
        try:
            try:
                blob = self.content.open(diff_id)
            except NotFound:
                raise InvalidArgument(f"layer {diff_id} is missing from the content store") from None
            with blob:
                size = apply_layer(blob, self.snapshotter.upper_dir(key), self.fmt)
            try:
                self.snapshotter.commit(chain, key, {SIZE_LABEL: str(size)})
            except Conflict:
                self.snapshotter.remove(key)  # someone unpacked the same layer meanwhile
                return False
            return True
        except BaseException:
            if self.snapshotter.exists(key):
                self.snapshotter.remove(key)
            raise

    def size(self, chain: str) -> int:
        try:
            info = self.snapshotter.stat(chain)
        except NotFound:
            return 0
        value = info.labels.get(SIZE_LABEL)
        return int(value) if value is not None else self.snapshotter.usage(chain)

    def sizes(self, diff_ids: list[str]) -> list[int]:
        return [self.size(c) for c in chain_ids(diff_ids)]

    def gc(self, keep_chains: set[str], keep_blobs: set[str]) -> tuple[list[str], int]:
        """Remove committed layer snapshots and blobs nothing keeps; returns (chains removed, bytes)."""
        removed: list[str] = []
        freed = 0
        progress = True
        while progress:  # children first, so parents become removable
            progress = False
            for info in self.snapshotter.list():
                if info.kind != "committed" or info.key in keep_chains or not info.key.startswith("sha256:"):
                    continue
                if self.snapshotter.store.children(info.key):
                    continue
                freed += self.size(info.key)
                self.snapshotter.remove(info.key)
                removed.append(info.key)
                progress = True
        for digest, _size in list(self.content.walk()):
            if digest not in keep_blobs:
                self.content.delete(digest)
        return removed, freed

    def clean_partial(self) -> None:
        """Drop unpacks a crash left half done (call at start only)."""
        for info in self.snapshotter.list():
            if info.key.startswith("extract-"):
                try:
                    self.snapshotter.remove(info.key)
                except Conflict:
                    pass


def blob_size(content: ContentStore, digest: str) -> int:
    try:
        return os.stat(content.path(digest)).st_size
    except FileNotFoundError:
        return 0
