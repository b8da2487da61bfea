"""List continue tokens, in Kubernetes' format: base64 of {"v":"meta.k8s.io/v1","rv":REV,"start":KEY}.

The key is kept relative to the list's prefix, so a token from one list cannot walk another.
"""

from __future__ import annotations

import base64
import binascii

import orjson

VERSION = "meta.k8s.io/v1"


class InvalidToken(ValueError):
    pass


def encode(revision: int, last_key: str, prefix: str) -> str:
    start = last_key[len(prefix):] if last_key.startswith(prefix) else last_key
    raw = orjson.dumps({"v": VERSION, "rv": revision, "start": start + "\x00"})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, prefix: str) -> tuple[int, str]:
    """(revision, key to start after) for a token; InvalidToken if it is not one of ours."""
    try:
        data = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError) as e:
        raise InvalidToken(f"continue key is not valid: {e}") from None
    if not isinstance(data, dict) or data.get("v") != VERSION:
        raise InvalidToken("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
    rv, start = data.get("rv"), data.get("start")
    if not isinstance(rv, int) or rv <= 0 or not isinstance(start, str) or not start:
        raise InvalidToken("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
    start = start.removesuffix("\x00")
    if start.startswith("/") or ".." in start.split("/"):
        raise InvalidToken("continue key is not valid: start key may not be an absolute path")
    return rv, prefix + start
