"""A Docker Engine API client over a unix socket (or tcp://), with the standard library only.

HTTP/1.1 is spoken by hand: it is a few dozen lines, it starts faster than http.client, and it
makes the attach/exec connection hijack (``Upgrade: tcp`` → ``101``, then a raw socket) easy.
One connection per request; the engine is local, so connecting costs microseconds.
"""

from __future__ import annotations

import _socket  # not `socket`, which builds its enums at import: a few ms of every start
import io
import os

from skiff.cli import fastjson

TYPE_CHECKING = False  # not typing's: importing typing costs the CLI ~10 ms of start-up
if TYPE_CHECKING:
    from collections.abc import Iterator

CLIENT_MAX_API = "1.45"
DEFAULT_HOST = "unix:///run/skiff/engine.sock"


class APIError(Exception):
    """The engine answered with an error status; `message` is its ``{"message": ...}``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message

    def __str__(self) -> str:
        return f"Error response from daemon: {self.message}"


class ConnectError(Exception):
    """Nothing answers at the host address."""


def _version_tuple(v: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in v.split("."))
    except ValueError:
        return (0,)


_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")


def quote(text: str) -> str:
    """Percent-encoding of a query component (urllib.parse costs milliseconds to import)."""
    return "".join(chr(b) if b in _SAFE else f"%{b:02X}" for b in text.encode())


def encode_query(params: dict | None) -> str:
    if not params:
        return ""
    parts = []
    for key, value in params.items():
        if value is None:
            continue
        values = value if isinstance(value, list) else [value]
        for v in values:
            if isinstance(v, bool):
                v = "1" if v else "0"
            elif isinstance(v, dict):
                v = fastjson.dumps(v, compact=True)
            parts.append(f"{quote(key)}={quote(str(v))}")
    return "?" + "&".join(parts) if parts else ""


class Body:
    """A response body read incrementally: by Content-Length, chunked, or until the server closes."""

    def __init__(self, reader, headers: dict[str, str]):
        self._r = reader
        self._chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        length = headers.get("content-length")
        self._left = int(length) if length is not None and not self._chunked else -1
        self._chunk_left = 0
        self._done = self._left == 0
        self._pending = b""  # bytes read past what read_exact needed

    def read_some(self) -> bytes:
        """The next piece of the body as soon as it arrives; b"" at the end."""
        if self._pending:
            data, self._pending = self._pending, b""
            return data
        if self._done:
            return b""
        if self._chunked:
            if self._chunk_left == 0:
                line = self._r.readline()
                if not line:
                    self._done = True
                    return b""
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self._r.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    self._done = True
                    return b""
                self._chunk_left = size
            data = self._r.read1(self._chunk_left)
            if not data:
                self._done = True
                return b""
            self._chunk_left -= len(data)
            if self._chunk_left == 0:
                self._r.readline()
            return data
        n = self._left if self._left >= 0 else 65536
        data = self._r.read1(min(n, 65536))
        if not data:
            self._done = True
            return b""
        if self._left >= 0:
            self._left -= len(data)
            self._done = self._left == 0
        return data

    def read(self) -> bytes:
        out = bytearray()
        while True:
            data = self.read_some()
            if not data:
                return bytes(out)
            out += data

    def read_exact(self, n: int) -> bytes:
        """Exactly n bytes, or fewer only at the end of the body."""
        out = bytearray()
        while len(out) < n:
            data = self.read_some()
            if not data:
                break
            need = n - len(out)
            out += data[:need]
            if len(data) > need:
                self._pending = data[need:]
        return bytes(out)

    def lines(self) -> Iterator[bytes]:
        buf = b""
        while True:
            data = self.read_some()
            if not data:
                if buf.strip():
                    yield buf
                return
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if line.strip():
                    yield line

    def json_stream(self) -> Iterator[dict]:
        """Docker's streams of JSON objects (progress, events, stats), one a line."""
        import json

        decoder = json.JSONDecoder()
        for line in self.lines():
            text = line.decode("utf-8", "replace").strip()
            while text:
                obj, end = decoder.raw_decode(text)
                yield obj
                text = text[end:].lstrip()


class Response:
    def __init__(self, sock: _socket.socket, reader, status: int, headers: dict[str, str]):
        self.sock = sock
        self.reader = reader
        self.status = status
        self.headers = headers
        self.body = Body(reader, headers) if status not in (101, 204, 304) else Body(reader, {"content-length": "0"})

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def json(self):
        data = self.body.read()
        self.close()
        return fastjson.loads(data) if data.strip() else None


def error_message(status: int, data: bytes) -> str:
    try:
        return fastjson.loads(data)["message"]
    except (ValueError, KeyError, TypeError):
        text = data.decode("utf-8", "replace").strip()
        return text or f"status {status}"


class Client:
    def __init__(self, host: str | None = None, version: str | None = None):
        self.host = host or os.environ.get("DOCKER_HOST") or DEFAULT_HOST
        self.version = version or os.environ.get("DOCKER_API_VERSION") or None
        self._negotiated = self.version is not None

    # -- connection -------------------------------------------------------------------------
    def _connect(self) -> _socket.socket:
        host = self.host
        try:
            if host.startswith("unix://"):
                s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
                s.connect(host[len("unix://"):])
            elif host.startswith(("tcp://", "http://")):
                hostport = host.split("://", 1)[1].rstrip("/")
                name, _, port = hostport.rpartition(":")
                import socket as socket_mod

                s = socket_mod.create_connection((name or "localhost", int(port or 2375)))
            else:
                raise ConnectError(f"unsupported host: {host}")
        except PermissionError:
            raise ConnectError(
                f"permission denied while trying to connect to the skiff engine socket at {host}") from None
        except OSError:
            raise ConnectError(
                f"Cannot connect to the skiff engine at {host}. Is the skiff engine running?") from None
        return s

    def negotiate(self) -> None:
        if self._negotiated:
            return
        self._negotiated = True
        resp = self._send("GET", "/_ping", None, None, {}, versioned=False)
        server = resp.headers.get("api-version")
        resp.body.read()
        resp.close()
        if server:
            self.version = min(server, CLIENT_MAX_API, key=_version_tuple)

    def _path(self, path: str, versioned: bool = True) -> str:
        if versioned and self.version:
            return f"/v{self.version}{path}"
        return path

    def _send(self, method: str, path: str, body, content_type: str | None, headers: dict,
              versioned: bool = True) -> Response:
        sock = self._write_request(method, path, body, content_type, headers, versioned)
        return self._read_response(sock)

    def _write_request(self, method: str, path: str, body, content_type: str | None, headers: dict,
                       versioned: bool = True) -> _socket.socket:
        sock = self._connect()
        lines = [f"{method} {self._path(path, versioned)} HTTP/1.1", "Host: api", "User-Agent: skiff-cli"]
        for k, v in headers.items():
            lines.append(f"{k}: {v}")
        payload = b""
        stream = None
        if isinstance(body, bytes | bytearray):
            payload = bytes(body)
            lines.append(f"Content-Length: {len(payload)}")
        elif body is not None:
            stream = body  # a binary file object: sent chunked
            lines.append("Transfer-Encoding: chunked")
        elif method in ("POST", "PUT"):
            lines.append("Content-Length: 0")
        if content_type:
            lines.append(f"Content-Type: {content_type}")
        try:
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
            if stream is not None:
                while True:
                    chunk = stream.read(1 << 16)
                    if not chunk:
                        break
                    sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early (an error); read its answer below
        return sock

    def _read_response(self, sock: _socket.socket) -> Response:
        reader = io.BufferedReader(_SocketReader(sock))
        status_line = reader.readline()
        if not status_line:
            sock.close()
            raise ConnectError(f"the skiff engine at {self.host} closed the connection without answering")
        parts = status_line.decode("latin-1").split(" ", 2)
        status = int(parts[1])
        hdrs: dict[str, str] = {}
        while True:
            line = reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            k, _, v = line.decode("latin-1").partition(":")
            hdrs[k.strip().lower()] = v.strip()
        return Response(sock, reader, status, hdrs)

    def send_request(self, method: str, path: str, params: dict | None = None) -> _socket.socket:
        """Send a request now and read its answer later with `read_response` (wait before start)."""
        self.negotiate()
        return self._write_request(method, path + encode_query(params), None, None, {})

    def read_response(self, sock: _socket.socket):
        """The JSON answer of a request sent with `send_request`; APIError on an error status."""
        resp = self._read_response(sock)
        data = resp.body.read()
        resp.close()
        if resp.status >= 400:
            raise APIError(resp.status, error_message(resp.status, data))
        return fastjson.loads(data) if data.strip() else None

    # -- requests ---------------------------------------------------------------------------
    def request(self, method: str, path: str, params: dict | None = None, body=None,
                content_type: str | None = None, headers: dict | None = None,
                raise_for_status: bool = True) -> Response:
        self.negotiate()
        if isinstance(body, dict | list):
            body = fastjson.dumps(body).encode()
            content_type = content_type or "application/json"
        resp = self._send(method, path + encode_query(params), body, content_type, headers or {})
        if method == "HEAD":
            resp.body = Body(resp.reader, {"content-length": "0"})
        if raise_for_status and resp.status >= 400:
            data = resp.body.read()
            resp.close()
            raise APIError(resp.status, error_message(resp.status, data))
        return resp

    def get(self, path: str, params: dict | None = None):
        return self.request("GET", path, params).json()

    def post(self, path: str, params: dict | None = None, body=None):
        return self.request("POST", path, params, body).json()

    def delete(self, path: str, params: dict | None = None):
        return self.request("DELETE", path, params).json()

    def hijack(self, path: str, params: dict | None = None, body=None) -> tuple[_socket.socket, Body]:
        """POST with ``Upgrade: tcp``; returns the raw socket and a reader of the stream after ``101``.

        A server that answers 200 instead of 101 (allowed by the API) still streams the body
        on the same connection, so both work the same way for the caller.
        """
        resp = self.request("POST", path, params, body,
                            headers={"Connection": "Upgrade", "Upgrade": "tcp"})
        if resp.status == 101:
            raw = Body(resp.reader, {})  # until the server closes its side
            return resp.sock, raw
        return resp.sock, resp.body


class _SocketReader(io.RawIOBase):
    """The read side of a socket for io.BufferedReader (what socket.makefile("rb") gives)."""

    def __init__(self, sock: _socket.socket):
        super().__init__()
        self._sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        return self._sock.recv_into(buf)


def demux(body: Body) -> Iterator[tuple[int, bytes]]:
    """(stream, payload) pairs of a body in Docker's multiplexed stream framing."""
    from skiff.common.stdcopy import read_frames

    return read_frames(body.read_exact)
