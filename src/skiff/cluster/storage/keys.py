"""Key-space helpers shared by the backends."""

from __future__ import annotations


def prefix_end(prefix: str) -> str:
    """The smallest key greater than every key starting with `prefix` ("" when unbounded).

    Keys are compared as UTF-8 bytes by etcd and as strings by SQLite (BINARY collation,
    which for UTF-8 text is the same order), so bumping the last code point works for both.
    """
    chars = list(prefix)
    while chars:
        last = ord(chars[-1])
        if last < 0x10FFFF:
            chars[-1] = chr(last + 1)
            return "".join(chars)
        chars.pop()
    return ""



def prefix_end_bytes(prefix: bytes) -> bytes:
    """etcd's range_end for a prefix: the prefix with its last byte bumped (b"\\0" = all keys)."""
    b = bytearray(prefix)
    while b:
        if b[-1] < 0xFF:
            b[-1] += 1
            return bytes(b)
        b.pop()
    return b"\0"
