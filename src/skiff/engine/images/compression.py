"""Open a layer stream whatever its compression (gzip, zstd if available, or none)."""

from __future__ import annotations

import gzip
import io
from typing import BinaryIO, cast

from skiff.common.errors import InvalidArgument

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
BZIP2_MAGIC = b"BZh"
XZ_MAGIC = b"\xfd7zXZ\x00"


def detect(head: bytes) -> str:
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    if head.startswith(XZ_MAGIC):
        return "xz"
    if head.startswith(BZIP2_MAGIC):
        return "bzip2"
    return ""


def decompressed(src: BinaryIO) -> tuple[BinaryIO, str]:
    """A reader of the uncompressed bytes of `src`, and the compression found."""
    buffered = src if isinstance(src, io.BufferedReader) else io.BufferedReader(_Raw(src), 1 << 16)
    kind = detect(buffered.peek(6)[:6])
    if kind == "gzip":
        return cast(BinaryIO, gzip.GzipFile(fileobj=buffered, mode="rb")), kind
    if kind == "xz":
        import lzma
        return cast(BinaryIO, lzma.LZMAFile(buffered)), kind
    if kind == "bzip2":
        import bz2
        return cast(BinaryIO, bz2.BZ2File(buffered)), kind
    if kind == "zstd":
        try:
            import zstandard  # optional dependency
        except ImportError:
            raise InvalidArgument("zstd-compressed layers are not supported (install zstandard)") from None
        return zstandard.ZstdDecompressor().stream_reader(buffered, read_across_frames=True), kind
    return buffered, kind


class _Raw(io.RawIOBase):
    """Adapts any object with read(n) to RawIOBase so it can be buffered and peeked."""

    def __init__(self, f):
        self._f = f

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        data = self._f.read(len(b))
        n = len(data)
        b[:n] = data
        return n
