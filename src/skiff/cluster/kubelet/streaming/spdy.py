"""SPDY/3.1 framing, pure: what kubectl's port-forward speaks (tunneled inside WebSocket binary
messages under the `SPDY/3.1+portforward.k8s.io` subprotocol).

Frames are a control frame (high bit set: version 3, a type, flags, a 24-bit length) or a data
frame (a 31-bit stream id, flags, a 24-bit length). Header blocks are name/value pairs with
32-bit lengths, compressed by one zlib stream per direction primed with the protocol's fixed
dictionary (SPDY draft 3, 2.6.10.1). Flow control is not enforced: Go's spdystream, kubectl's
library, neither honours nor sends window updates.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

VERSION = 3
SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE = 1, 2, 3, 4, 6, 7, 8, 9
FLAG_FIN = 0x01
RST_PROTOCOL_ERROR, RST_INVALID_STREAM, RST_REFUSED_STREAM, RST_CANCEL = 1, 2, 3, 5

_WORDS = (
    "options head post put delete trace accept accept-charset accept-encoding accept-language accept-ranges age "
    "allow authorization cache-control connection content-base content-encoding content-language content-length "
    "content-location content-md5 content-range content-type date etag expect expires from host if-match "
    "if-modified-since if-none-match if-range if-unmodified-since last-modified location max-forwards pragma "
    "proxy-authenticate proxy-authorization range referer retry-after server te trailer transfer-encoding upgrade "
    "user-agent vary via warning www-authenticate method get status"
).split() + ["200 OK", "version", "HTTP/1.1", "url", "public", "set-cookie", "keep-alive", "origin"]
_TAIL = (
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized"
    "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable"
    "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT"
    "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
    "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0."
)
DICTIONARY = b"".join(struct.pack(">I", len(w)) + w.encode() for w in _WORDS) + _TAIL.encode()


@dataclass
class Frame:
    control: bool
    kind: int  # the control frame type, or 0 for data
    flags: int
    stream_id: int  # 0 for frames about the connection
    payload: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    value: int = 0  # RST_STREAM/GOAWAY status, PING id, WINDOW_UPDATE delta

    @property
    def fin(self) -> bool:
        return bool(self.flags & FLAG_FIN)


class ProtocolError(Exception):
    pass


def encode_header_block(headers: dict[str, str]) -> bytes:
    out = [struct.pack(">I", len(headers))]
    for name, value in headers.items():
        n, v = name.lower().encode(), value.encode()
        out.append(struct.pack(">I", len(n)) + n + struct.pack(">I", len(v)) + v)
    return b"".join(out)


def decode_header_block(block: bytes) -> dict[str, str]:
    try:
        (count,), pos, headers = struct.unpack_from(">I", block), 4, {}
        for _ in range(count):
            (n,) = struct.unpack_from(">I", block, pos)
            name = block[pos + 4: pos + 4 + n].decode()
            pos += 4 + n
            (v,) = struct.unpack_from(">I", block, pos)
            headers[name] = block[pos + 4: pos + 4 + v].decode().split("\0")[0]
            pos += 4 + v
        return headers
    except (struct.error, UnicodeDecodeError) as e:
        raise ProtocolError(f"bad header block: {e}") from None


class Codec:
    """One connection's frame reader and writer (each direction's zlib stream lives as long as it)."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._inflate = zlib.decompressobj(zdict=DICTIONARY)
        self._deflate = zlib.compressobj(zdict=DICTIONARY)

    # ---- reading -------------------------------------------------------------------------------
    def feed(self, data: bytes) -> list[Frame]:
        self._buf += data
        frames = []
        while len(self._buf) >= 8:
            (length,) = struct.unpack(">I", b"\0" + self._buf[5:8])
            if len(self._buf) < 8 + length:
                break
            head, body = bytes(self._buf[:8]), bytes(self._buf[8: 8 + length])
            del self._buf[: 8 + length]
            frames.append(self._parse(head, body))
        return frames

    def _headers(self, block: bytes) -> dict[str, str]:
        try:
            return decode_header_block(self._inflate.decompress(block))
        except zlib.error as e:
            raise ProtocolError(f"header decompression failed: {e}") from None

    def _parse(self, head: bytes, body: bytes) -> Frame:
        first, flags = struct.unpack(">I", head[:4])[0], head[4]
        if not first & 0x80000000:
            return Frame(False, 0, flags, first & 0x7FFFFFFF, body)
        version, kind = (first >> 16) & 0x7FFF, first & 0xFFFF
        if version != VERSION:
            raise ProtocolError(f"unsupported SPDY version {version}")
        if kind == SYN_STREAM:
            return Frame(True, kind, flags, struct.unpack(">I", body[:4])[0] & 0x7FFFFFFF,
                         headers=self._headers(body[10:]))
        if kind in (SYN_REPLY, HEADERS):
            return Frame(True, kind, flags, struct.unpack(">I", body[:4])[0] & 0x7FFFFFFF,
                         headers=self._headers(body[4:]))
        if kind in (RST_STREAM, WINDOW_UPDATE):
            sid, value = struct.unpack(">II", body[:8])
            return Frame(True, kind, flags, sid & 0x7FFFFFFF, value=value)
        if kind == GOAWAY:
            sid, value = struct.unpack(">II", body[:8])
            return Frame(True, kind, flags, 0, value=value)
        if kind == PING:
            return Frame(True, kind, flags, 0, value=struct.unpack(">I", body[:4])[0])
        return Frame(True, kind, flags, 0, body)  # SETTINGS and unknown types: not acted on

    # ---- writing -------------------------------------------------------------------------------
    @staticmethod
    def _control(kind: int, flags: int, body: bytes) -> bytes:
        return struct.pack(">HHI", 0x8000 | VERSION, kind, (flags << 24) | len(body)) + body

    def _compressed(self, headers: dict[str, str]) -> bytes:
        block = encode_header_block(headers)
        return self._deflate.compress(block) + self._deflate.flush(zlib.Z_SYNC_FLUSH)

    def syn_reply(self, stream_id: int, headers: dict[str, str] | None = None, fin: bool = False) -> bytes:
        return self._control(SYN_REPLY, FLAG_FIN if fin else 0,
                             struct.pack(">I", stream_id) + self._compressed(headers or {}))

    def syn_stream(self, stream_id: int, headers: dict[str, str], fin: bool = False) -> bytes:
        """(For tests: what a client sends to open a stream.)"""
        return self._control(SYN_STREAM, FLAG_FIN if fin else 0,
                             struct.pack(">IIH", stream_id, 0, 0) + self._compressed(headers))

    @staticmethod
    def data(stream_id: int, payload: bytes, fin: bool = False) -> bytes:
        return struct.pack(">II", stream_id & 0x7FFFFFFF, ((FLAG_FIN if fin else 0) << 24) | len(payload)) + payload

    @classmethod
    def rst_stream(cls, stream_id: int, status: int) -> bytes:
        return cls._control(RST_STREAM, 0, struct.pack(">II", stream_id, status))

    @classmethod
    def ping(cls, ping_id: int) -> bytes:
        return cls._control(PING, 0, struct.pack(">I", ping_id))

    @classmethod
    def goaway(cls, last_stream: int, status: int = 0) -> bytes:
        return cls._control(GOAWAY, 0, struct.pack(">II", last_stream, status))
