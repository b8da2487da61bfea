"""Kubernetes' channel WebSocket protocol (`v4.channel.k8s.io`, `v5.channel.k8s.io`), pure.

Every binary message starts with one byte naming its channel: 0 stdin, 1 stdout, 2 stderr,
3 error (a Status JSON when the command ends), 4 resize (`{"Width":W,"Height":H}`). v5 adds
channel 255: `[255, N]` says the client closed channel N (stdin EOF) — v4 cannot say that.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"
PROTOCOLS = (V5, V4)  # preferred first, as the kubelet negotiates


@dataclass(frozen=True)
class StreamOptions:
    """What the client asked for in the exec/attach query."""
    stdin: bool
    stdout: bool
    stderr: bool
    tty: bool
    command: tuple[str, ...] = ()

    @property
    def stream_count(self) -> int:
        return sum((self.stdin, self.stdout, self.stderr and not self.tty))


def _flag(query, name: str) -> bool:
    return str(query.get(name, "")).lower() in ("1", "true")


def parse_options(query, exec_: bool) -> StreamOptions:
    """The options of a query (a multidict); raises ValueError in the kubelet's words."""
    opts = StreamOptions(_flag(query, "stdin"), _flag(query, "stdout"), _flag(query, "stderr"), _flag(query, "tty"),
                         tuple(query.getall("command", [])) if exec_ else ())
    if exec_ and not opts.command:
        raise ValueError("you must specify at least 1 command")
    if not (opts.stdin or opts.stdout or opts.stderr):
        raise ValueError("you must specify at least 1 of stdin, stdout, stderr")
    if opts.tty and opts.stderr:  # a tty merges stderr into stdout
        opts = StreamOptions(opts.stdin, opts.stdout, False, True, opts.command)
    return opts


def frame(channel: int, data: bytes) -> bytes:
    return bytes((channel,)) + data


def split(message: bytes) -> tuple[int, bytes]:
    """(channel, payload) of one message; an empty message is (-1, b'')."""
    if not message:
        return -1, b""
    return message[0], message[1:]


def parse_resize(payload: bytes) -> tuple[int, int] | None:
    """(height, width) from a resize message, None when it is not one."""
    try:
        size = json.loads(payload)
        return int(size.get("Height") or 0), int(size.get("Width") or 0)
    except (ValueError, TypeError, AttributeError):
        return None


def success_status() -> bytes:
    return json.dumps({"metadata": {}, "status": "Success"}).encode()


def exit_status(command: tuple[str, ...], code: int) -> bytes:
    """The Status kubectl turns into its own exit code (NonZeroExitCode with an ExitCode cause)."""
    if code == 0:
        return success_status()
    shown = "[" + " ".join(command) + "]"
    return json.dumps({
        "metadata": {}, "status": "Failure",
        "message": f"command terminated with non-zero exit code: error executing command {shown}, "
                   f"exit code {code}",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}).encode()


def failure_status(message: str) -> bytes:
    return json.dumps({"metadata": {}, "status": "Failure", "message": message,
                       "reason": "InternalError", "code": 500}).encode()
