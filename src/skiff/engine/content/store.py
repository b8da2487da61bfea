"""Content-addressed blob store: `blobs/sha256/<hex>`, written only through verified ingest.

A writer streams into a temp file under `ingest/`, fsyncs it, checks the digest (and size
when known) and renames it into place, so a blob that exists is always whole and correct.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from skiff.common.digest import check_digest, hex_of
from skiff.common.errors import InvalidArgument, NotFound

CHUNK = 1 << 20


class Writer:
    """An open ingest: write() bytes, then commit() (verifies) or abort()."""

    def __init__(self, store: ContentStore):
        self._store = store
        fd, self.path = tempfile.mkstemp(dir=store.ingest_dir, prefix="ingest-")
        self._f = os.fdopen(fd, "wb")
        self._hash = hashlib.sha256()
        self.size = 0
        self._done = False

    def write(self, data: bytes) -> int:
        self._f.write(data)
        self._hash.update(data)
        self.size += len(data)
        return len(data)

    @property
    def digest(self) -> str:
        return "sha256:" + self._hash.hexdigest()

    def commit(self, expected: str | None = None, expected_size: int | None = None) -> str:
        """Verify and move into place; returns the digest. InvalidArgument on a mismatch."""
        try:
            self._f.flush()
            os.fsync(self._f.fileno())
            self._f.close()
            digest = self.digest
            if expected is not None and check_digest(expected) != digest:
                raise InvalidArgument(f"digest mismatch: expected {expected}, got {digest}")
            if expected_size is not None and expected_size != self.size:
                raise InvalidArgument(f"size mismatch for {digest}: expected {expected_size} bytes, got {self.size}")
            final = self._store.path(digest)
            os.rename(self.path, final)  # atomic; an existing identical blob is simply replaced
            self._done = True
            return digest
        finally:
            if not self._done:
                self.abort()

    def abort(self) -> None:
        if not self._f.closed:
            self._f.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        self._done = True

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc) -> None:
        if not self._done:
            self.abort()


class ContentStore:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.blob_dir = self.root / "blobs" / "sha256"
        self.ingest_dir = self.root / "ingest"
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        self.ingest_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def path(self, digest: str) -> Path:
        return self.blob_dir / hex_of(digest)

    def exists(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def size(self, digest: str) -> int:
        try:
            return self.path(digest).stat().st_size
        except FileNotFoundError:
            raise NotFound(f"content {digest}: not found") from None

    def open(self, digest: str) -> BinaryIO:
        try:
            return open(self.path(digest), "rb")
        except FileNotFoundError:
            raise NotFound(f"content {digest}: not found") from None

    def read(self, digest: str) -> bytes:
        with self.open(digest) as f:
            return f.read()

    def writer(self) -> Writer:
        return Writer(self)

    def put(self, data: bytes, expected: str | None = None) -> str:
        if expected and self.exists(expected):
            return expected
        with self.writer() as w:
            w.write(data)
            return w.commit(expected)

    def ingest(self, src: BinaryIO, expected: str | None = None, expected_size: int | None = None) -> str:
        """Copy a stream in; returns its digest."""
        with self.writer() as w:
            while chunk := src.read(CHUNK):
                w.write(chunk)
            return w.commit(expected, expected_size)

    def delete(self, digest: str) -> bool:
        with self._lock:
            try:
                os.unlink(self.path(digest))
                return True
            except FileNotFoundError:
                return False

    def walk(self) -> Iterator[tuple[str, int]]:
        """(digest, size) of every blob."""
        for entry in os.scandir(self.blob_dir):
            if entry.is_file() and len(entry.name) == 64:
                yield "sha256:" + entry.name, entry.stat().st_size

    def clean_ingest(self) -> None:
        """Drop partial writes left by a crash (call at start, before any writer)."""
        for entry in os.scandir(self.ingest_dir):
            try:
                os.unlink(entry.path)
            except OSError:
                pass
