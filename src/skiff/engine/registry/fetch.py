"""Downloading one layer: decompress as it arrives, verify both digests, resume after a drop.

The compressed bytes are hashed (they must match the manifest's digest) and decompressed
straight into a content-store writer (whose digest must match the config's diff_id), so
the layer is stored uncompressed without a second pass. A dropped connection is resumed
with `Range: bytes=N-`; a registry that ignores Range is read from the start and the bytes
already taken are skipped.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable

import aiohttp

from skiff.common.errors import InvalidArgument, SkiffError, Unavailable
from skiff.engine.content.store import Writer
from skiff.engine.images.compression import GZIP_MAGIC, ZSTD_MAGIC
from skiff.engine.registry import gzipcodec
from skiff.engine.registry.client import Repository

RETRIES = 5
BACKOFF = 0.2  # seconds, doubled each retry
FLUSH = 2 << 20  # bytes gathered before one hash+decompress+write step in a worker thread
DROPS = (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError, asyncio.TimeoutError, ConnectionError)


class Decompressor:
    """Incremental gzip / zstd / plain, detected from the first bytes; handles concatenated members."""

    def __init__(self) -> None:
        self.kind: str | None = None
        self._head = b""
        self._d = None

    def _new(self):
        if self.kind == "gzip":
            return gzipcodec.decompressor()
        import zstandard
        return zstandard.ZstdDecompressor().decompressobj()

    def feed(self, data: bytes) -> bytes:
        if self.kind is None:
            self._head += data
            if len(self._head) < 4:
                return b""
            data, self._head = self._head, b""
            self.kind = "gzip" if data.startswith(GZIP_MAGIC) else "zstd" if data.startswith(ZSTD_MAGIC) else ""
            if self.kind:
                self._d = self._new()
        if not self.kind:
            return data
        out: list[bytes] = []
        while data:
            assert self._d is not None
            out.append(self._d.decompress(data))
            data = getattr(self._d, "unused_data", b"") if getattr(self._d, "eof", False) else b""
            if data:
                self._d = self._new()
        return b"".join(out)

    def finish(self) -> bytes:
        if self.kind is None:
            data, self._head = self._head, b""
            return data
        if self.kind == "gzip" and self._d is not None:
            if not self._d.eof:
                raise InvalidArgument("unexpected EOF: the layer's gzip stream is truncated")
            return self._d.flush()
        return b""


class LayerDownload:
    """State of one layer being fetched: what arrived, both hashes, the writer it goes to."""

    def __init__(self, digest: str, size: int, writer: Writer):
        self.digest = digest
        self.size = size
        self.writer = writer
        self.received = 0
        self.hash = hashlib.sha256()
        self.decompressor = Decompressor()

    def take(self, data: bytes) -> None:
        """Runs in a worker thread: the hashing, inflating and writing release the GIL."""
        self.hash.update(data)
        try:
            out = self.decompressor.feed(data)
        except Exception as e:  # zlib.error, zstd.ZstdError: the bytes are not what was published
            raise InvalidArgument(f"filesystem layer verification failed for digest {self.digest}: {e}") from None
        if out:
            self.writer.write(out)

    def finish(self) -> None:
        got = "sha256:" + self.hash.hexdigest()
        if got != self.digest or (self.size and self.received != self.size):
            raise InvalidArgument(f"filesystem layer verification failed for digest {self.digest}")
        tail = self.decompressor.finish()
        if tail:
            self.writer.write(tail)


async def download(repo: Repository, dl: LayerDownload,
                   tick: Callable[[int], Awaitable[None]] | None = None) -> None:
    """Fetch the whole blob into `dl`, resuming after dropped connections; Unavailable after RETRIES."""
    failures = 0
    while True:
        try:
            await _read_from(repo, dl, tick)
            break
        except DROPS as e:
            failures += 1
            if failures > RETRIES:
                raise Unavailable(f"downloading layer {dl.digest[7:19]} failed after {RETRIES} retries: "
                                  f"{_why(e)} (received {dl.received} of {dl.size} bytes)") from None
            await asyncio.sleep(BACKOFF * (2 ** (failures - 1)))
    await asyncio.to_thread(dl.finish)


async def _read_from(repo: Repository, dl: LayerDownload, tick) -> None:
    resp = await repo.open_blob(dl.digest, dl.received)
    try:
        skip = dl.received if (dl.received and resp.status == 200) else 0  # Range ignored
        if resp.status not in (200, 206):
            raise SkiffError(f"downloading layer {dl.digest}: unexpected HTTP status {resp.status}")
        buf = bytearray()
        try:
            async for chunk in resp.content.iter_chunked(1 << 20):
                if skip:
                    cut = min(skip, len(chunk))
                    chunk, skip = chunk[cut:], skip - cut
                    if not chunk:
                        continue
                buf += chunk
                if len(buf) >= FLUSH:
                    await _flush(dl, buf, tick)
        except DROPS:
            if buf:  # keep what arrived: the retry asks only for the rest
                await _flush(dl, buf, tick)
            raise
        if buf:
            await _flush(dl, buf, tick)
        if dl.size and dl.received < dl.size:
            raise aiohttp.ClientPayloadError(f"connection closed after {dl.received} of {dl.size} bytes")
    finally:
        resp.release()


async def _flush(dl: LayerDownload, buf: bytearray, tick) -> None:
    data = bytes(buf)
    buf.clear()
    await asyncio.to_thread(dl.take, data)
    dl.received += len(data)
    if tick is not None:
        await tick(dl.received)


def _why(e: BaseException) -> str:
    if isinstance(e, asyncio.TimeoutError):
        return "timed out"
    return str(e) or type(e).__name__
