"""Drive the skiff CLI on a pseudo-terminal, as a user at a terminal would."""

import fcntl
import os
import pty
import re
import select
import struct
import sys
import termios
import time
from collections.abc import Callable


def set_size(fd: int, rows: int, cols: int) -> None:
    """The terminal's window size (a SIGWINCH to the foreground process when it changes)."""
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def spawn_skiff_in_pty(engine, *args: str, size: tuple[int, int] | None = None) -> tuple[int, int]:
    """`skiff -H <engine> args...` with a new pty as its terminal; (pid, master fd). With size,
    the terminal has it before the client starts (set by the child: no race with its start)."""
    pid, fd = pty.fork()
    if pid == 0:
        if size:
            set_size(0, *size)
        os.execvpe(sys.executable, [sys.executable, "-m", "skiff", "-H", engine.host, *args], engine.env)
    return pid, fd


def read_pty(fd: int, done: Callable[[bytes], bool], timeout: float = 20, poke: bytes | None = None) -> bytes:
    """Read until done(data), EOF or the timeout; with poke, send it whenever the terminal goes quiet."""
    data = b""
    deadline = time.monotonic() + timeout
    quiet = True
    while not done(data) and time.monotonic() < deadline:
        if poke and quiet:
            os.write(fd, poke)
        ready, _, _ = select.select([fd], [], [], 0.5)
        quiet = not ready
        if ready:
            try:
                chunk = os.read(fd, 1024)
            except OSError:  # EIO: the other side of the pty is closed
                break
            if not chunk:
                break
            data += chunk
    return data


def read_match(fd: int, pattern: bytes, timeout: float = 20, poke: bytes | None = None) -> bytes:
    """Read until the regex matches (see read_pty)."""
    return read_pty(fd, lambda data: re.search(pattern, data) is not None, timeout, poke)


def read_to_eof(fd: int, timeout: float = 120) -> bytes:
    """Everything the process writes to its terminal until it closes it."""
    return read_pty(fd, lambda _data: False, timeout)
