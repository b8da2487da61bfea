"""Errors shared by every layer.

Each carries the HTTP status the real system answers with, so the API layers turn
any of them into Docker's `{"message": ...}` or a Kubernetes Status without a table
of special cases.
"""


class SkiffError(Exception):
    """Base class: a message a person understands, and the HTTP status that goes with it."""

    status = 500

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidArgument(SkiffError):
    """Bad input from the caller: a malformed reference, flag, tarball, Dockerfile, ..."""

    status = 400


class Unauthorized(SkiffError):
    status = 401


class Forbidden(SkiffError):
    status = 403


class NotFound(SkiffError):
    status = 404


class Conflict(SkiffError):
    """A name already taken, an image in use, a container that is running, ..."""

    status = 409


class NotModified(SkiffError):
    """Docker answers 304 to starting a started container or stopping a stopped one."""

    status = 304


class Unavailable(SkiffError):
    status = 503


class SystemError_(SkiffError):
    """An operation the host refused (a syscall, a mount, a cgroup write)."""

    status = 500
