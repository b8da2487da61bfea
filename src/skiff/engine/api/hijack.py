"""The connection hijack behind attach and exec start.

Docker clients send `Connection: Upgrade` / `Upgrade: tcp` and expect `101 UPGRADED`, after
which the HTTP connection is a raw bidirectional byte stream: stdin one way, output (Docker's
multiplexed framing, or raw bytes for a tty) the other. The client half-closes its write side
when its stdin ends and keeps reading until we close.

aiohttp's request handler closes the socket on a half-close, so after sending the 101 we
swap the transport's protocol for `_RawProtocol`, which keeps the connection open on EOF
and hands aiohttp back its `connection_lost` when the stream is over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

log = logging.getLogger("skiff.engine.api")

EXIT_GRACE = 2.0  # seconds an exited process's output may take to drain
CLOSE_GRACE = 2.0  # seconds a client may take to close after the stream ended
READ_HIGH = 1 << 20  # client bytes queued for stdin before the client is no longer read
RAW_STREAM = "application/vnd.docker.raw-stream"
MULTIPLEXED_STREAM = "application/vnd.docker.multiplexed-stream"


class _RawProtocol(asyncio.Protocol):
    """Receives the client's bytes into a queue (None = EOF) and tracks write flow control."""

    def __init__(self, previous: asyncio.BaseProtocol, tail: bytes):
        self.previous = previous
        self.incoming: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.transport: asyncio.Transport | None = None
        self.queued = len(tail)  # bytes received and not yet read: past READ_HIGH the client is not read
        if tail:
            self.incoming.put_nowait(tail)
        self.closed = asyncio.get_running_loop().create_future()
        self._can_write = asyncio.Event()
        self._can_write.set()

    def data_received(self, data: bytes) -> None:
        self.incoming.put_nowait(data)
        self.queued += len(data)
        if self.queued >= READ_HIGH and self.transport is not None:
            self.transport.pause_reading()  # back-pressure to a client sending faster than stdin is taken

    def taken(self, n: int) -> None:
        self.queued -= n
        if self.queued < READ_HIGH and self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    def eof_received(self) -> bool:
        self.incoming.put_nowait(None)
        return True  # keep our write side open: output still flows after stdin ends

    def pause_writing(self) -> None:
        self._can_write.clear()

    def resume_writing(self) -> None:
        self._can_write.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.incoming.put_nowait(None)
        self._can_write.set()
        if not self.closed.done():
            self.closed.set_result(None)
        with contextlib.suppress(Exception):
            self.previous.connection_lost(exc)

    async def drain(self) -> None:
        await self._can_write.wait()


class Hijacked:
    """The raw stream after the upgrade: `write`, `read` (b"" at EOF), `close`."""

    def __init__(self, transport: asyncio.Transport, proto: _RawProtocol):
        self.transport = transport
        self.proto = proto
        proto.transport = transport

    @property
    def is_closing(self) -> bool:
        return self.transport.is_closing()

    async def write(self, data: bytes) -> None:
        if self.transport.is_closing():
            raise ConnectionResetError("client went away")
        self.transport.write(data)
        await self.proto.drain()

    async def read(self) -> bytes:
        data = await self.proto.incoming.get()
        if data is None:
            self.proto.incoming.put_nowait(None)  # stay at EOF for later readers
            return b""
        self.proto.taken(len(data))
        return data

    def close(self) -> None:
        self.transport.close()

    async def wait_closed(self) -> None:
        await self.proto.closed


async def hijack(request: web.Request, tty: bool) -> tuple[web.StreamResponse, Hijacked]:
    """Answer 101 UPGRADED (or 200 for a client that did not ask to upgrade) and take the socket."""
    upgrade = "upgrade" in request.headers.get("Connection", "").lower()
    content_type = RAW_STREAM if tty else MULTIPLEXED_STREAM
    if upgrade:
        resp = web.StreamResponse(status=101, reason="UPGRADED")
        resp.headers["Connection"] = "Upgrade"
        resp.headers["Upgrade"] = "tcp"
    else:
        resp = web.StreamResponse(status=200)
    resp.headers["Content-Type"] = content_type
    resp.force_close()
    if not upgrade:
        # without an upgrade the body runs until we close; no chunked framing around it
        resp.headers["Connection"] = "close"
        resp._length_check = False  # noqa: SLF001 - stream until close, as dockerd does
    writer = await resp.prepare(request)
    _flush_headers(writer)
    transport = request.transport
    if transport is None:
        raise ConnectionResetError("client went away")
    previous = request.protocol
    tail = _take_tail(previous)
    proto = _RawProtocol(previous, tail)
    transport.set_protocol(proto)
    if not transport.is_reading():
        transport.resume_reading()
    if "docker-sdk-python" in request.headers.get("User-Agent", ""):
        # docker-py parses the 101 with a buffered reader and then reads the raw socket: bytes
        # that arrive with the headers are lost to it. dockerd starts the process only after
        # the 101, so its output comes later; give docker-py the same breathing room.
        await asyncio.sleep(0.05)
    return resp, Hijacked(transport, proto)


def _flush_headers(writer: Any) -> None:
    send = getattr(writer, "send_headers", None)
    if send is not None:
        send()


def _take_tail(protocol: Any) -> bytes:
    """Bytes aiohttp already read past the request head (early stdin). aiohttp's C parser does
    not treat a POST with `Upgrade: tcp` as an upgrade, so with it this is always empty and
    bytes sent before the 101 are not seen; docker CLI and docker-py wait for the 101 first."""
    tail = getattr(protocol, "_message_tail", b"") or b""
    with contextlib.suppress(AttributeError):
        protocol._message_tail = b""
    return bytes(tail)


async def pump(conn: Hijacked, session: Any, before_close: Callable[[], Awaitable[None]] | None = None,
               exited: Callable[[], Awaitable[None]] | None = None, end_on_stdin_eof: bool = False) -> None:
    """Copy stdin from the client to the session and the session's output to the client.

    `session` follows containers.service.AttachSession. Ends when the output ends (the
    process exited), the client disconnects, or the client typed the detach keys.
    `before_close` runs when the output ended on its own, before the connection closes.
    `exited` resolves when the process is known to have exited: the output then gets a short
    grace to drain, so a lost end-of-output can never hang the client.
    `end_on_stdin_eof`: the client's stdin EOF ends this attach (dockerd's rule unless the
    container has StdinOnce and no tty); otherwise output keeps flowing until the process ends.
    """
    stdin_task = asyncio.create_task(_copy_stdin(conn, session))
    out_task = asyncio.create_task(_copy_output(conn, session))
    closed = asyncio.ensure_future(conn.wait_closed())
    exit_task = asyncio.ensure_future(exited()) if exited is not None else None
    waiting: set[asyncio.Future] = {stdin_task, out_task, closed}
    if exit_task is not None:
        waiting.add(exit_task)
    try:
        while True:
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if out_task in done or closed in done:
                break
            if stdin_task in done:
                waiting.discard(stdin_task)
                if stdin_task.cancelled() or stdin_task.exception() or stdin_task.result() != "eof":
                    break  # detach keys, or the client is gone
                if end_on_stdin_eof:
                    break
                # stdin ended normally: keep sending output until the process is done
            if exit_task is not None and exit_task in done:
                waiting.discard(exit_task)
                if not (await asyncio.wait({out_task, closed}, timeout=EXIT_GRACE))[0]:
                    log.warning("output of an exited process did not end within %ss; closing", EXIT_GRACE)
                break
        if out_task.done() and before_close is not None and not conn.is_closing:
            await before_close()
    finally:
        for t in (stdin_task, out_task, closed, *([exit_task] if exit_task else [])):
            t.cancel()
        await asyncio.gather(stdin_task, out_task, return_exceptions=True)
        with contextlib.suppress(Exception):
            await session.close()
        await _hang_up(conn)


async def _hang_up(conn: Hijacked) -> None:
    """End the stream with a half-close and drop what the client still sends until it closes
    (at most CLOSE_GRACE): closing a socket with unread input resets the connection, and the
    client then loses output it has not read yet (`docker run -i` of a process that exits
    without reading all its input would fail with "connection reset by peer")."""
    try:
        if not conn.is_closing and conn.transport.can_write_eof():
            conn.transport.write_eof()
            await asyncio.wait_for(_discard_input(conn), CLOSE_GRACE)
    except (TimeoutError, OSError, RuntimeError):
        pass
    finally:
        conn.close()


async def _discard_input(conn: Hijacked) -> None:
    while await conn.read():
        pass


async def _copy_stdin(conn: Hijacked, session: Any) -> str:
    while True:
        data = await conn.read()
        if not data:
            with contextlib.suppress(Exception):
                await session.close_stdin()
            return "eof"
        if not await session.write_stdin(data):
            return "detached"


async def _copy_output(conn: Hijacked, session: Any) -> None:
    try:
        async for chunk in session.output():
            await conn.write(chunk)
    except ConnectionError:
        pass
    except Exception:  # a broken shim connection ends this stream, not the engine
        log.exception("attach output failed")
