"""Docker's JSON progress messages and the layer decompressor (pure)."""

import gzip
import zlib

import pytest
import zstandard

from skiff.common.errors import InvalidArgument
from skiff.engine.registry import progress
from skiff.engine.registry.fetch import Decompressor


def test_human_size_like_docker():
    assert progress.human_size(0) == "0B"
    assert progress.human_size(999) == "999B"
    assert progress.human_size(1000) == "1kB"
    assert progress.human_size(1_234_567) == "1.235MB"


def test_bar_shape():
    text = progress.bar(50, 100)
    assert text.startswith("[" + "=" * 24 + ">")
    assert text.endswith("50B/100B")
    assert progress.bar(100, 100).startswith("[" + "=" * 50 + "]")


def test_messages():
    assert progress.ticking("Downloading", "abc", 1, 2)["progressDetail"] == {"current": 1, "total": 2}
    assert progress.layer("Pull complete", "abc") == {"status": "Pull complete", "progressDetail": {}, "id": "abc"}
    assert progress.error("boom") == {"errorDetail": {"message": "boom"}, "error": "boom"}
    assert progress.aux("v1", "sha256:x", 5)["aux"] == {"Tag": "v1", "Digest": "sha256:x", "Size": 5}
    assert progress.short("sha256:" + "ab" * 32) == "abababababab"


def test_throttle_lets_the_last_tick_through():
    t = progress.Throttle(10 << 20)
    assert t.due(1, 10 << 20)
    assert not t.due(2, 10 << 20)
    assert t.due(10 << 20, 10 << 20)


def _feed(data: bytes, piece: int) -> bytes:
    d = Decompressor()
    out = b"".join(d.feed(data[i:i + piece]) for i in range(0, len(data), piece))
    return out + d.finish()


PAYLOAD = bytes(range(256)) * 4000


@pytest.mark.parametrize("piece", [1, 3, 4096, 1 << 20])
def test_decompressor_gzip_in_any_pieces(piece):
    assert _feed(gzip.compress(PAYLOAD), piece) == PAYLOAD


def test_decompressor_concatenated_gzip_members():
    data = gzip.compress(PAYLOAD[:1000]) + gzip.compress(PAYLOAD[1000:])
    assert _feed(data, 777) == PAYLOAD


def test_decompressor_zstd_and_plain():
    assert _feed(zstandard.ZstdCompressor().compress(PAYLOAD), 5000) == PAYLOAD
    assert _feed(PAYLOAD, 999) == PAYLOAD
    assert _feed(b"ab", 1) == b"ab"


def test_decompressor_truncated_gzip_is_an_error():
    data = gzip.compress(PAYLOAD)[:-20]
    with pytest.raises(InvalidArgument, match="truncated"):
        _feed(data, 4096)


def test_deterministic_push_compression(tmp_path):
    from skiff.engine.registry.push import Compressor

    p = tmp_path / "layer"
    p.write_bytes(PAYLOAD)
    digests = []
    for _ in range(2):
        with open(p, "rb") as f:
            c = Compressor(f)
            out = b""
            while not c.done:
                out += c.next()
        assert zlib.decompress(out, 16 + zlib.MAX_WBITS) == PAYLOAD
        digests.append(c.digest)
    assert digests[0] == digests[1]
