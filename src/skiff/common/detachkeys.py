"""Docker's detach key sequences (`--detach-keys`, `detachKeys`): parsing and matching.

Shared by the CLI and the engine, so standard library only (the CLI must start fast).
"""

from __future__ import annotations

_CTRL_SPECIAL = {"@": 0, "[": 27, "\\": 28, "]": 29, "^": 30, "_": 31}


def key_bytes(spec: str, lenient: bool = False) -> bytes:
    """"ctrl-p,ctrl-q" → b"\\x10\\x11": comma-separated single characters or `ctrl-<x>` with x in
    a..z or @ [ \\ ] ^ _. `lenient` also takes spaces around keys and "CTRL-" in any case (the
    engine's reading). Raises ValueError(key) naming the first key that is neither."""
    out = bytearray()
    for key in spec.split(","):
        k = key.strip() if lenient else key
        if len(k) == 1:
            out.append(ord(k))
            continue
        prefix = k[:5].lower() if lenient else k[:5]
        if prefix != "ctrl-" or len(k) != 6:
            raise ValueError(key)
        c = k[5].lower()
        if "a" <= c <= "z":
            out.append(ord(c) - ord("a") + 1)
        elif c in _CTRL_SPECIAL:
            out.append(_CTRL_SPECIAL[c])
        else:
            raise ValueError(key)
    return bytes(out)


class DetachMatcher:
    """Finds the detach sequence in stdin bytes, holding back a partial match until it resolves;
    a broken partial match is forwarded as typed."""

    def __init__(self, keys: bytes):
        self.keys = keys
        self.held = b""

    def feed(self, data: bytes) -> tuple[bytes, bool]:
        """(bytes to forward, detached?)."""
        out = bytearray()
        for b in data:
            candidate = self.held + bytes([b])
            if self.keys and self.keys.startswith(candidate):
                self.held = candidate
                if candidate == self.keys:
                    self.held = b""
                    return bytes(out), True
                continue
            out += candidate
            self.held = b""
        return bytes(out), False
