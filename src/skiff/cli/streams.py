"""Connecting a hijacked attach/exec stream to this process's stdin/stdout/stderr.

Output is copied on the calling thread (demultiplexed unless the container has a tty); stdin
is copied on a daemon thread, which half-closes the connection at EOF as docker does. With a
tty the terminal goes to raw mode and the detach key sequence (default ctrl-p,ctrl-q) is
recognised on the client side.
"""

from __future__ import annotations

import _socket  # not `socket`, which builds its enums at import: a few ms of every start
import os
import sys

from skiff.cli.flags import UsageError
from skiff.common.detachkeys import DetachMatcher, key_bytes
from skiff.common.stdcopy import STDERR, read_frames

TYPE_CHECKING = False  # not typing's: importing typing costs the CLI ~10 ms of start-up
if TYPE_CHECKING:
    import threading  # imported only when stdin is copied: it costs a plain `skiff run` ~3 ms

DEFAULT_DETACH_KEYS = "ctrl-p,ctrl-q"


def parse_detach_keys(text: str) -> bytes:
    """"ctrl-p,ctrl-q" → b"\\x10\\x11" with Docker's rules (ctrl-a..z, ctrl-@ [ \\ ] ^ _, or one char)."""
    try:
        return key_bytes(text)
    except ValueError as e:
        raise UsageError(f"Unknown character: '{e.args[0]}'") from None


class RawTerminal:
    """Puts the terminal on fd into raw mode for the life of the `with` block."""

    def __init__(self, fd: int):
        self.fd = fd
        self.saved = None

    def __enter__(self):
        import termios
        import tty

        try:
            self.saved = termios.tcgetattr(self.fd)
            tty.setraw(self.fd, termios.TCSANOW)  # keep what was typed ahead, as docker does
        except termios.error:
            self.saved = None
        return self

    def __exit__(self, *exc):
        if self.saved is not None:
            import termios

            termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)


def terminal_size(fd: int = 1) -> tuple[int, int] | None:
    try:
        size = os.get_terminal_size(fd)
        return size.lines, size.columns
    except OSError:
        return None


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _hang_up(sock: _socket.socket) -> None:
    try:
        sock.shutdown(_socket.SHUT_RDWR)
    except OSError:
        pass


def _copy_stdin(sock: _socket.socket, matcher: DetachMatcher | None, detached: threading.Event) -> None:
    try:
        while True:
            try:
                data = os.read(0, 32768)
            except OSError:
                data = b""
            if not data:
                break
            if matcher:
                data, hit = matcher.feed(data)
                if hit:
                    # The engine detaches on the same keys (detachKeys) and ends the stream without
                    # closing the container's stdin; cut the connection ourselves only if it does not.
                    detached.set()  # before sending: the engine may end the stream at once
                    sock.sendall(data + matcher.keys)
                    import threading

                    timer = threading.Timer(1.0, _hang_up, args=(sock,))
                    timer.daemon = True  # never keeps the client alive once the stream has ended
                    timer.start()
                    return
            if data:
                sock.sendall(data)
        sock.shutdown(_socket.SHUT_WR)
    except OSError:
        pass


def pump(sock: _socket.socket, body, tty: bool, stdin: bool, detach_keys: str | None = None,
         stdout_fd: int = 1, stderr_fd: int = 2) -> bool:
    """Copy the stream until the server ends it. Returns True when the user detached."""
    detached = None
    if stdin:
        import threading

        detached = threading.Event()
        matcher = DetachMatcher(parse_detach_keys(detach_keys or DEFAULT_DETACH_KEYS)) if tty else None
        threading.Thread(target=_copy_stdin, args=(sock, matcher, detached), daemon=True).start()
    try:
        if tty:
            while True:
                data = body.read_some()
                if not data:
                    break
                _write(stdout_fd, data)
        else:
            for stream, data in read_frames(body.read_exact):
                _write(stderr_fd if stream == STDERR else stdout_fd, data)
    except OSError:
        pass
    finally:
        try:
            sock.close()
        except OSError:
            pass
    return detached is not None and detached.is_set()


def stdin_is_tty() -> bool:
    try:
        return os.isatty(sys.stdin.fileno())
    except (OSError, ValueError):
        return False
