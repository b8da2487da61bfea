"""htpasswd files with bcrypt entries, as the reference registry accepts them."""

from __future__ import annotations

import base64
import binascii

from skiff.common.errors import InvalidArgument


def parse_htpasswd(text: str) -> dict[str, bytes]:
    """user → bcrypt hash. Other hash kinds are refused, as the reference registry refuses them."""
    users: dict[str, bytes] = {}
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, hashed = line.partition(":")
        if not sep or not user:
            raise InvalidArgument(f"htpasswd line {n}: expected user:hash")
        if not hashed.startswith(("$2y$", "$2a$", "$2b$")):
            raise InvalidArgument(f"htpasswd line {n}: user {user!r} has no bcrypt hash (use htpasswd -B)")
        users[user] = hashed.encode()
    return users


def basic_credentials(header: str) -> tuple[str, str] | None:
    """The (user, password) of an `Authorization: Basic ...` header, or None."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


class Htpasswd:
    def __init__(self, users: dict[str, bytes]):
        self.users = users
        self._ok: set[tuple[str, str]] = set()  # bcrypt is slow on purpose: remember what matched

    @classmethod
    def from_file(cls, path: str) -> Htpasswd:
        try:
            with open(path) as f:
                return cls(parse_htpasswd(f.read()))
        except OSError as e:
            raise InvalidArgument(f"cannot read htpasswd file {path}: {e.strerror}") from None

    def check(self, user: str, password: str) -> bool:
        import bcrypt

        hashed = self.users.get(user)
        if hashed is None:
            return False
        if (user, password) in self._ok:
            return True
        try:
            ok = bcrypt.checkpw(password.encode(), hashed)
        except ValueError:
            return False
        if ok:
            self._ok.add((user, password))
        return ok
