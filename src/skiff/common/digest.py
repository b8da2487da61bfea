"""sha256 digests in the `sha256:<hex>` form used by OCI and Docker."""

import hashlib
import re

from skiff.common.errors import InvalidArgument

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def is_digest(s: str) -> bool:
    return bool(_DIGEST.match(s))


def check_digest(s: str) -> str:
    if not is_digest(s):
        raise InvalidArgument(f"invalid digest {s!r}: expected sha256:<64 hex characters>")
    return s


def hex_of(digest: str) -> str:
    return check_digest(digest)[7:]
