"""Layer downloads resume after a drop, with or without Range support, and give up clearly."""

import asyncio
import gzip
import hashlib
import os

import aiohttp
import pytest

from skiff.common.errors import InvalidArgument, Unavailable
from skiff.engine.content.store import ContentStore
from skiff.engine.registry import fetch
from skiff.engine.registry.fetch import LayerDownload, download

PLAIN = os.urandom(300_000) + b"text " * 50_000
BLOB = gzip.compress(PLAIN)
DIGEST = "sha256:" + hashlib.sha256(BLOB).hexdigest()


class FakeContent:
    def __init__(self, data: bytes, cut: int | None):
        self.data, self.cut = data, cut

    async def iter_chunked(self, n: int):
        sent = 0
        while sent < len(self.data):
            if self.cut is not None and sent >= self.cut:
                raise aiohttp.ClientPayloadError("connection reset")
            piece = self.data[sent:sent + min(n, 10_000)]
            sent += len(piece)
            yield piece


class FakeResponse:
    def __init__(self, status: int, data: bytes, cut: int | None):
        self.status = status
        self.content = FakeContent(data, cut)

    def release(self) -> None:
        pass


class FakeRepo:
    """Serves BLOB; the first `drops` responses break after `cut` bytes."""

    def __init__(self, drops: int, cut: int = 100_000, honours_range: bool = True, blob: bytes = BLOB):
        self.drops, self.cut, self.honours_range, self.blob = drops, cut, honours_range, blob
        self.offsets: list[int] = []

    async def open_blob(self, digest: str, offset: int = 0):
        self.offsets.append(offset)
        cut = self.cut if self.drops else None
        self.drops -= 1 if self.drops > 0 else 0
        if offset and self.honours_range:
            return FakeResponse(206, self.blob[offset:], cut)
        return FakeResponse(200, self.blob, cut)


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch):
    monkeypatch.setattr(fetch, "BACKOFF", 0)
    monkeypatch.setattr(fetch, "FLUSH", 16 << 10)


def _run(repo, tmp_path, digest=DIGEST, size=len(BLOB)):
    store = ContentStore(tmp_path)
    dl = LayerDownload(digest, size, store.writer())
    asyncio.run(download(repo, dl))
    return dl, store


@pytest.mark.parametrize("honours_range", [True, False])
def test_resumes_after_drops(tmp_path, honours_range):
    repo = FakeRepo(drops=2, honours_range=honours_range)
    dl, store = _run(repo, tmp_path)
    assert dl.writer.commit("sha256:" + hashlib.sha256(PLAIN).hexdigest())
    assert repo.offsets[0] == 0 and repo.offsets[1] > 0  # the second request asked for the rest
    assert dl.received == len(BLOB)


def test_gives_up_after_the_retries(tmp_path):
    with pytest.raises(Unavailable, match=f"failed after {fetch.RETRIES} retries"):
        _run(FakeRepo(drops=100, cut=20_000), tmp_path)


def test_wrong_bytes_fail_verification(tmp_path):
    other = gzip.compress(b"something else")
    with pytest.raises(InvalidArgument, match="filesystem layer verification failed"):
        _run(FakeRepo(drops=0, blob=other), tmp_path, size=len(other))


def test_corrupt_gzip_is_a_verification_error(tmp_path):
    bad = bytearray(BLOB)
    bad[5000:5100] = b"\0" * 100
    with pytest.raises(InvalidArgument, match="filesystem layer verification failed"):
        _run(FakeRepo(drops=0, blob=bytes(bad)), tmp_path)
