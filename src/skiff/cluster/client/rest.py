"""A blocking HTTP(S) client over the Kubernetes API: one keep-alive connection, JSON in and out.

Verbs work on a `Resource` (from discovery) plus namespace and name; errors come back as
`StatusError` with the server's Status object.
"""

from __future__ import annotations

import http.client
import json
import os
import ssl
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from skiff.cluster.client.errors import StatusError
from skiff.cluster.client.kubeconfig import Connection
from skiff.cluster.client.paths import Resource, path_for, with_query

JSON = "application/json"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
PATCH_TYPES = {"json": "application/json-patch+json", "merge": "application/merge-patch+json",
               "strategic": "application/strategic-merge-patch+json", "apply": "application/apply-patch+yaml"}
USER_AGENT = "skiff-kubectl/v1.32.0 (linux/amd64)"


def warning_text(header: str) -> str:
    """The text of a `Warning` header (`299 - "unknown field \\"x\\""`, RFC 7234's form). Pure."""
    parts = header.split(" ", 2)
    if len(parts) == 3 and parts[0].isdigit() and parts[2].startswith('"'):
        body = parts[2]
        end = len(body) - 1
        while end > 0 and not (body[end] == '"' and body[end - 1] != "\\"):
            end -= 1
        return body[1:end].replace('\\"', '"').replace("\\\\", "\\")
    return header


class ConnectionFailed(Exception):
    """The server could not be reached at all (kubectl's "The connection to the server ... was refused")."""


def ssl_context(conn: Connection) -> ssl.SSLContext:
    """Trust only what the kubeconfig names (the system store only when it names nothing):
    loading the system store costs a CLI start tens of milliseconds for nothing."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if conn.insecure:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif conn.ca_data:
        ctx.load_verify_locations(cadata=conn.ca_data.decode())
    elif conn.ca_file:
        ctx.load_verify_locations(cafile=conn.ca_file)
    else:
        ctx.load_default_certs()
    if conn.cert_data or conn.cert_file:
        _load_client_cert(ctx, conn)
    return ctx


def _load_client_cert(ctx: ssl.SSLContext, conn: Connection) -> None:
    """ssl only loads certificates from files: inline data goes through a private temp file."""
    if conn.cert_file and not conn.cert_data and not conn.key_data:
        ctx.load_cert_chain(conn.cert_file, conn.key_file)
        return
    cert = conn.cert_data or open(conn.cert_file or "", "rb").read()
    key = conn.key_data or (open(conn.key_file, "rb").read() if conn.key_file else b"")
    import time

    base = "/dev/shm" if os.path.isdir("/dev/shm") else os.environ.get("TMPDIR", "/tmp")
    path = os.path.join(base, f"skiff-kubectl-{os.getpid()}-{time.monotonic_ns()}.pem")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # private, and never someone else's file
    try:
        os.write(fd, cert + b"\n" + key)
        os.close(fd)
        ctx.load_cert_chain(path)
    finally:
        os.unlink(path)


class _HeaderPairs:
    """Headers http.client sends one by one, a name possibly repeated (it reads keys and items())."""

    def __init__(self, pairs: list[tuple[str, str]]):
        self.pairs = pairs

    def __iter__(self):
        return iter(k for k, _ in self.pairs)

    def items(self) -> list[tuple[str, str]]:
        return self.pairs


class RestClient:
    def __init__(self, conn: Connection, timeout: float | None = None):
        self.conn = conn
        self.timeout = timeout
        url = urlsplit(conn.server)
        self.scheme = url.scheme
        self.host = url.hostname or "localhost"
        self.port = url.port or (443 if url.scheme == "https" else 80)
        self.base = url.path.rstrip("/")
        self._http: http.client.HTTPConnection | None = None
        # called with the text of each `Warning: 299 - "text"` header (kubectl prints them)
        self.on_warning: Callable[[str], None] | None = None
        # more headers, repeatable (kubectl's --as-group sends one Impersonate-Group per group)
        self.extra_headers: list[tuple[str, str]] = []

    # -- transport -------------------------------------------------------------------
    def _connection(self) -> http.client.HTTPConnection:
        if self._http is None:
            if self.scheme == "https":
                self._http = http.client.HTTPSConnection(self.host, self.port, context=ssl_context(self.conn),
                                                         timeout=self.timeout)
            else:
                self._http = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self._http

    def _headers(self, accept: str, content_type: str | None) -> dict[str, str]:
        headers = {"Accept": accept, "User-Agent": USER_AGENT}
        if content_type:
            headers["Content-Type"] = content_type
        if self.conn.token:
            headers["Authorization"] = f"Bearer {self.conn.token}"
        elif self.conn.username is not None:
            import base64

            pair = f"{self.conn.username}:{self.conn.password or ''}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        return headers

    def open(self, method: str, path: str, body: bytes | None = None, accept: str = JSON,
             content_type: str | None = None) -> http.client.HTTPResponse:
        """Send a request and return the response unread (raises StatusError for codes >= 400)."""
        headers: Any = self._headers(accept, content_type if body is not None else None)
        if self.extra_headers:
            headers = _HeaderPairs([*headers.items(), *self.extra_headers])
        for attempt in (0, 1):
            conn = self._connection()
            try:
                conn.request(method, self.base + path, body=body, headers=headers)
                resp = conn.getresponse()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()  # a kept-alive connection the server closed: retry once on a new one
                if attempt:
                    raise ConnectionFailed(self._refused()) from None
            except ssl.SSLError:
                self.close()
                raise
            except OSError:
                self.close()
                raise ConnectionFailed(self._refused()) from None
        if self.on_warning is not None:
            for value in resp.headers.get_all("Warning") or []:
                self.on_warning(warning_text(value))
        if resp.status >= 400:
            data = resp.read()
            raise StatusError.from_body(resp.status, data)
        return resp

    def _refused(self) -> str:
        return f"The connection to the server {self.host}:{self.port} was refused - did you specify the right host or port?"

    def request(self, method: str, path: str, body: Any = None, accept: str = JSON,
                content_type: str = JSON) -> Any:
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        resp = self.open(method, path, data, accept, content_type)
        raw = resp.read()
        if not raw:
            return {}
        if "json" not in (resp.getheader("Content-Type") or JSON):
            return raw.decode(errors="replace")
        return json.loads(raw)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    # -- verbs -----------------------------------------------------------------------
    def get(self, res: Resource, name: str, namespace: str | None = None, subresource: str | None = None,
            accept: str = JSON, params: dict | None = None) -> dict:
        return self.request("GET", with_query(path_for(res, namespace, name, subresource), params), accept=accept)

    def list(self, res: Resource, namespace: str | None = None, params: dict | None = None,
             accept: str = JSON) -> dict:
        return self.request("GET", with_query(path_for(res, namespace), params), accept=accept)

    def watch(self, res: Resource, namespace: str | None = None, name: str | None = None,
              params: dict | None = None, accept: str = JSON) -> Iterator[dict]:
        """The watch events, one dict per line, until the server ends the stream."""
        query = dict(params or {}, watch=True)
        if name:
            query["fieldSelector"] = f"metadata.name={name}"
        resp = self.open("GET", with_query(path_for(res, namespace), query), accept=accept)
        try:
            while True:
                line = resp.readline()
                if not line:
                    return
                if line.strip():
                    yield json.loads(line)
        finally:
            self.close()  # the stream was not read to its end: the connection cannot be reused

    def create(self, res: Resource, body: dict, namespace: str | None = None, params: dict | None = None) -> dict:
        return self.request("POST", with_query(path_for(res, namespace), params), body)

    def update(self, res: Resource, name: str, body: dict, namespace: str | None = None,
               subresource: str | None = None, params: dict | None = None) -> dict:
        return self.request("PUT", with_query(path_for(res, namespace, name, subresource), params), body)

    def patch(self, res: Resource, name: str, patch: Any, patch_type: str = "merge", namespace: str | None = None,
              subresource: str | None = None, params: dict | None = None) -> dict:
        body = patch if isinstance(patch, bytes) else json.dumps(patch).encode()
        return self.request("PATCH", with_query(path_for(res, namespace, name, subresource), params), body,
                            content_type=PATCH_TYPES[patch_type])

    def delete(self, res: Resource, name: str, namespace: str | None = None, options: dict | None = None,
               params: dict | None = None) -> dict:
        return self.request("DELETE", with_query(path_for(res, namespace, name), params), options)

    def delete_collection(self, res: Resource, namespace: str | None = None, params: dict | None = None,
                          options: dict | None = None) -> dict:
        return self.request("DELETE", with_query(path_for(res, namespace), params), options)
