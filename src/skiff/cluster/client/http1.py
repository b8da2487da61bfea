"""A small HTTP/1.1 keep-alive client for request/response calls to the API server.

Components such as the scheduler make thousands of small calls a second (a binding, an
event); a general client's per-request machinery (aiohttp's request objects, timers,
cookie jar, tracing hooks) costs more CPU than the API server's answer. This one keeps a
pool of persistent connections (TLS or plain) and does one request at a time per
connection: write the request, read the status line and headers, then a Content-Length or
chunked body. Anything unexpected closes the connection; a request that failed on a reused
connection before any byte of the answer came back is retried once on a new one (the
server may have closed an idle keep-alive connection meanwhile).

Streaming calls (watch) are not its business: `aio.AsyncClient` uses aiohttp for those.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_HEADER_BYTES = 64 * 1024
READ_SIZE = 256 * 1024


class ProtocolError(OSError):
    """The server's answer was not HTTP/1.1 as expected (the connection is dropped)."""


class StaleConnection(ConnectionError):
    """A reused connection ended before any byte of the answer: the request can be sent again."""


@dataclass
class Response:
    status: int
    headers: dict[str, str]  # lower-cased names; a repeated header keeps its last value
    body: bytes


def parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    """Status code and headers of a response head (without the blank line)."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise ProtocolError(f"malformed HTTP status line {lines[0][:80]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise ProtocolError(f"malformed HTTP header line {line[:80]!r}")
        headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


def encode_request(method: str, target: str, host: str, headers: dict[str, str], body: bytes | None) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body is not None or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body or b'')}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader = reader
        self.writer = writer

    def close(self) -> None:
        self.writer.close()

    @property
    def usable(self) -> bool:
        return not self.writer.is_closing() and not self.reader.at_eof()

    async def roundtrip(self, data: bytes, head_only: bool) -> tuple[Response, bool]:
        """One exchange; also says whether the connection may be reused."""
        self.writer.write(data)
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError as e:
            raise ProtocolError("HTTP response head too large") from e
        except asyncio.IncompleteReadError as e:
            if not e.partial:
                raise StaleConnection("the server closed the connection") from e
            raise ProtocolError("the server closed the connection mid-answer") from e
        except ConnectionResetError as e:
            raise StaleConnection(str(e)) from e
        status, headers = parse_head(head[:-4])
        reusable = headers.get("connection", "").lower() != "close"
        if head_only or status in (204, 304) or 100 <= status < 200:
            return Response(status, headers, b""), reusable
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._chunked()
        elif "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        else:  # delimited by the end of the connection
            body = await self.reader.read()
            reusable = False
        return Response(status, headers, body), reusable

    async def _chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size_line = await self.reader.readuntil(b"\r\n")
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while (await self.reader.readuntil(b"\r\n")) != b"\r\n":
                    pass  # trailers
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)


class Http1Pool:
    """Persistent connections to one server (`https://host:port` or `http://...`)."""

    def __init__(self, server: str, tls: ssl.SSLContext | None, limit: int = 32, timeout: float = 300.0):
        url = urlsplit(server)
        self.host = url.hostname or "localhost"
        self.port = url.port or (443 if url.scheme == "https" else 80)
        self.host_header = url.netloc
        self.tls = tls if url.scheme == "https" else None
        self.timeout = timeout
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(limit)
        self._all: set[_Connection] = set()

    async def _connect(self) -> _Connection:
        reader, writer = await asyncio.open_connection(
            self.host, self.port, ssl=self.tls, limit=MAX_HEADER_BYTES,
            server_hostname=self.host if self.tls is not None else None)
        conn = _Connection(reader, writer)
        self._all.add(conn)
        return conn

    def _drop(self, conn: _Connection) -> None:
        self._all.discard(conn)
        conn.close()

    async def request(self, method: str, target: str, headers: dict[str, str], body: bytes | None = None) -> Response:
        data = encode_request(method, target, self.host_header, headers, body)
        async with self._slots:
            while self._idle:
                conn = self._idle.pop()
                if not conn.usable:
                    self._drop(conn)
                    continue
                try:
                    return await self._exchange(conn, data, method)
                except StaleConnection:
                    continue  # an idle connection the server closed: try another, then a new one
            return await self._exchange(await self._connect(), data, method)

    async def _exchange(self, conn: _Connection, data: bytes, method: str) -> Response:
        try:
            async with asyncio.timeout(self.timeout):
                resp, reusable = await conn.roundtrip(data, method == "HEAD")
        except asyncio.IncompleteReadError as e:
            self._drop(conn)
            raise ProtocolError("the server closed the connection mid-answer") from e
        except BaseException:
            self._drop(conn)
            raise
        if reusable:
            self._idle.append(conn)
        else:
            self._drop(conn)
        return resp

    async def close(self) -> None:
        conns = list(self._all)
        self._all.clear()
        self._idle.clear()
        for conn in conns:
            conn.close()
        for conn in conns:
            try:
                await conn.writer.wait_closed()
            except (OSError, ssl.SSLError):
                pass
