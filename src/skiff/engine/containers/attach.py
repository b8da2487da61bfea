"""Attach sessions: a client's stream to a container's (or exec's) stdio through the shim's attach socket.

The shim speaks Docker's wire format already (multiplexed frames, or raw bytes with a tty), so
output is relayed as is. On the stdin path the detach key sequence (ctrl-p ctrl-q by default)
is recognised with a tty, as dockerd does, and ends the session without touching the container.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import orjson

from skiff.common.detachkeys import DetachMatcher, key_bytes
from skiff.common.errors import InvalidArgument
from skiff.common.stdcopy import frame

DEFAULT_DETACH_KEYS = b"\x10\x11"  # ctrl-p, ctrl-q
PENDING_STDIN_LIMIT = 1 << 20  # stdin held for a process not started yet; more waits for the start


def parse_detach_keys(spec: str | None) -> bytes:
    """Docker's `--detach-keys` syntax: comma-separated `ctrl-<x>` or single characters."""
    if not spec:
        return DEFAULT_DETACH_KEYS
    try:
        return key_bytes(spec, lenient=True)
    except ValueError:
        raise InvalidArgument(f"Invalid escape keys ({spec}) provided") from None


class AttachSession:
    """One attach (or exec) stream, pumped by the API between the hijacked connection and the shim.

    - `tty`: True when the process has a terminal (raw stream, no multiplexing).
    - `async for chunk in session.output()`: bytes ready for the wire (Docker's 8-byte framed
      stream unless `tty`); ends when the process's output ends or the session is closed.
    - `await session.write_stdin(data) -> bool`: forwards stdin; returns False once the detach
      key sequence was seen (the API then closes the connection; the container keeps running).
    - `await session.close_stdin()`: the client half-closed its side (stdin EOF).
    - `await session.close()`: drop the connection to the shim.
    """

    tty: bool


class ShimAttach(AttachSession):
    """An attach session; `connect(path)` may come later than creation (attach before start).

    The client's stdin EOF is passed on in-band, as a half-close of the shim connection: the shim
    (run with --stdin-once exactly when the container has StdinOnce, and for every exec) closes
    the process's stdin after writing everything before it. (Not the runtime's close_stdin on
    the shim's control socket: that could overtake stdin bytes still in flight.)
    """

    def __init__(self, tty: bool, stdin: bool, stdout: bool, stderr: bool, detach_keys: bytes | None,
                 prefix: list[tuple[int, bytes]] | None = None, on_detach: Callable[[], None] | None = None):
        self.tty = tty
        self.want = {"stdin": stdin, "stdout": stdout, "stderr": stderr}
        # as dockerd: the detach keys are looked for only with a tty (binary stdin passes as is)
        self.matcher = DetachMatcher(detach_keys) if stdin and tty and detach_keys else None
        self.prefix = prefix or []
        self.on_detach = on_detach
        self._connected = asyncio.Event()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._closed = False
        self._pending_stdin = bytearray()
        self._stdin_eof = False

    async def connect(self, path: str) -> None:
        try:
            reader, writer = await asyncio.open_unix_connection(path)
            writer.write(orjson.dumps(self.want) + b"\n")
            await writer.drain()
            # No need to wait for the shim to read it: the shim reads every pending header
            # before it hands out any output (shim.c, accept_pending).
            # Stdin sent before now goes behind the header. Not drained here: the process that
            # reads it starts only once connect has returned.
            if self._pending_stdin:
                writer.write(bytes(self._pending_stdin))
                self._pending_stdin.clear()
            if self._stdin_eof:
                writer.write_eof()
            self._reader, self._writer = reader, writer
        except OSError:
            self._reader = self._writer = None
        finally:
            self._connected.set()

    def abandon(self) -> None:
        """The process will not start (or already ended): end the output stream."""
        self._connected.set()

    async def output(self) -> AsyncIterator[bytes]:
        for stream, data in self.prefix:
            yield data if self.tty else frame(stream, data)
        await self._connected.wait()
        if self._reader is None:
            return
        while not self._closed:
            chunk = await self._reader.read(65536)
            if not chunk:
                return
            yield chunk

    async def write_stdin(self, data: bytes) -> bool:
        if not self.want["stdin"]:
            return True
        detached = False
        if self.matcher is not None:
            data, detached = self.matcher.feed(data)
        if data:
            if self._writer is None and not self._connected.is_set():
                self._pending_stdin += data
                if len(self._pending_stdin) >= PENDING_STDIN_LIMIT:
                    await self._connected.wait()  # back-pressure until the process starts
            elif self._writer is not None:
                self._writer.write(data)
                with contextlib.suppress(ConnectionError):
                    await self._writer.drain()
        if detached:
            if self.on_detach:
                self.on_detach()
            return False
        return True

    async def close_stdin(self) -> None:
        """The client's stdin ended: half-close the shim connection, which stays open for output.
        The half-close travels behind the stdin bytes, so the shim sees it only after all of them;
        with stdin_once it then closes the process's stdin once those bytes are written."""
        if not self.want["stdin"] or self._stdin_eof:
            return
        self._stdin_eof = True
        if self._writer is not None:
            with contextlib.suppress(OSError, RuntimeError):
                self._writer.write_eof()

    async def close(self) -> None:
        self._closed = True
        self._connected.set()
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(Exception):
                await self._writer.wait_closed()
