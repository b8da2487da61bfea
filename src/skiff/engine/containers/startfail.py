"""Docker's answer when a container's process cannot start.

dockerd answers 400 (and records exit code 127 or 126) when the message says the command
was not found or could not be executed, and 500 otherwise. The docker CLI picks its own exit
code (127/126/125) from the same message words, so the wording matters.
"""

from __future__ import annotations

from skiff.common.errors import InvalidArgument, SkiffError, SystemError_

PREFIX = ("failed to create task for container: failed to create shim task: OCI runtime create failed: "
          "unable to start container process: ")


def classify(message: str) -> int:
    """The exit code dockerd records for a start failure message (0: not a command problem)."""
    low = message.lower()
    if "executable file not found" in low or "no such file or directory" in low:
        return 127
    if "not a directory" in low:
        return 127
    if "permission denied" in low or "is a directory" in low:
        return 126
    return 0


def translate_start_error(message: str) -> SkiffError:
    """The error `POST /containers/{id}/start` answers, with `.exit_code` for the container's state."""
    if message.startswith(("unable to find", "cannot join", "driver failed programming")):
        err: SkiffError = SystemError_(message)
        setattr(err, "exit_code", 128)  # noqa: B010 (an extra attribute on a shared error class)
        return err
    text = message if message.startswith("failed to create task") else PREFIX + message
    if not text.endswith(": unknown"):
        text += ": unknown"
    code = classify(message)
    err = InvalidArgument(text) if code else SystemError_(text)
    setattr(err, "exit_code", code or 128)  # noqa: B010
    return err
