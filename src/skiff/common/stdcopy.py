"""Docker's multiplexed stream framing (what moby calls stdcopy), used on attach, exec and logs
streams without a tty: each payload goes behind an 8-byte header — the stream (0 stdin,
1 stdout, 2 stderr), three zero bytes, the payload's length as a big-endian uint32.

Standard library only: the CLI imports it and must start fast.
"""

from __future__ import annotations

import struct

TYPE_CHECKING = False  # not typing's: importing typing costs the CLI ~10 ms of start-up
if TYPE_CHECKING:  # collections.abc costs the CLI's start-up ~2 ms; only annotations need it
    from collections.abc import Callable, Iterator

STDIN, STDOUT, STDERR = 0, 1, 2
_HEADER = struct.Struct(">BxxxL")
HEADER_SIZE = _HEADER.size


def frame(stream: int, data: bytes) -> bytes:
    """One payload, framed."""
    return _HEADER.pack(stream, len(data)) + data


def parse_header(header: bytes | bytearray) -> tuple[int, int]:
    """(stream, payload length) from the first HEADER_SIZE bytes of `header`."""
    stream, length = _HEADER.unpack_from(header)
    return stream, length


def read_frames(read_exact: Callable[[int], bytes]) -> Iterator[tuple[int, bytes]]:
    """(stream, payload) pairs from a blocking reader whose `read_exact(n)` returns fewer than n
    bytes only at the end of the stream; ends there (a cut-off payload is yielded as it is)."""
    while True:
        header = read_exact(HEADER_SIZE)
        if len(header) < HEADER_SIZE:
            return
        stream, length = parse_header(header)
        yield stream, read_exact(length)


class Deframer:
    """The incremental form, for streams that arrive in arbitrary chunks: `feed(data)` returns
    the (stream, payload) pairs completed so far and keeps any partial frame for the next call."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        self._buf += data
        out: list[tuple[int, bytes]] = []
        while len(self._buf) >= HEADER_SIZE:
            stream, length = parse_header(self._buf)
            end = HEADER_SIZE + length
            if len(self._buf) < end:
                break
            out.append((stream, bytes(self._buf[HEADER_SIZE:end])))
            del self._buf[:end]
        return out
