"""Which Docker Engine API versions this engine serves, and dockerd's answers to the others."""

from __future__ import annotations

from skiff.common.errors import InvalidArgument

MIN_API_VERSION = "1.41"
API_VERSION = "1.50"  # what docker 28.2's client asks for; it negotiates down via /_ping otherwise


def version_tuple(v: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in v.split("."))
    except ValueError:
        raise InvalidArgument(f"invalid API version {v!r}") from None


_MIN = version_tuple(MIN_API_VERSION)
_MAX = version_tuple(API_VERSION)


def check_version(v: str) -> None:
    """Raise dockerd's 400 for a client version outside [MIN_API_VERSION, API_VERSION]."""
    t = version_tuple(v)
    if t < _MIN:
        raise InvalidArgument(
            f"client version {v} is too old. Minimum supported API version is {MIN_API_VERSION}, "
            "please upgrade your client to a newer version"
        )
    if t > _MAX:
        raise InvalidArgument(f"client version {v} is too new. Maximum supported API version is {API_VERSION}")
