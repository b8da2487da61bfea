"""An asyncio client over the Kubernetes API for in-process components (the kubelet, later others).

JSON in and out over aiohttp, a bearer token or a client certificate, and `watch()` yielding
the decoded watch events of a `?watch=1` stream. Errors are `StatusError` with the server's Status.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import aiohttp

from skiff.cluster.client.errors import StatusError

USER_AGENT = "skiff-kubelet/v1.32.0 (linux/amd64)"


def make_ssl(ca_file: str = "", cert_file: str = "", key_file: str = "", insecure: bool = False) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=ca_file or None)
    if insecure or not ca_file:
        # no CA given: like `--insecure-skip-tls-verify`; the join token still authenticates us
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if cert_file:
        ctx.load_cert_chain(cert_file, key_file or None)
    return ctx


class AsyncClient:
    def __init__(self, server: str, token: str = "", tls: ssl.SSLContext | None = None):
        self.server = server.rstrip("/")
        self.headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.tls = tls if tls is not None else make_ssl()
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=self.tls, limit=32),
                                                  headers=self.headers)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def url(self, path: str, query: dict[str, Any] | None = None) -> str:
        q = {k: v for k, v in (query or {}).items() if v is not None}
        return self.server + path + (("?" + urlencode(q)) if q else "")

    async def request(self, method: str, path: str, body: Any = None, query: dict[str, Any] | None = None,
                      content_type: str = "application/json") -> dict:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": content_type} if data is not None else {}
        async with self.session.request(method, self.url(path, query), data=data, headers=headers) as resp:
            raw = await resp.read()
            if resp.status >= 400:
                raise StatusError.from_body(resp.status, raw)
            return json.loads(raw) if raw else {}

    async def get(self, path: str, **query: Any) -> dict:
        return await self.request("GET", path, query=query)

    async def create(self, path: str, body: dict) -> dict:
        return await self.request("POST", path, body)

    async def replace(self, path: str, body: dict) -> dict:
        return await self.request("PUT", path, body)

    async def merge_patch(self, path: str, patch: dict) -> dict:
        return await self.request("PATCH", path, patch, content_type="application/merge-patch+json")

    async def delete(self, path: str, body: dict | None = None) -> dict:
        return await self.request("DELETE", path, body)

    async def watch(self, path: str, **query: Any) -> AsyncIterator[dict]:
        """Events of one watch (`{"type": ..., "object": ...}`) until the server ends the stream."""
        query = {**query, "watch": "1", "allowWatchBookmarks": "true"}
        timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
        async with self.session.get(self.url(path, query), timeout=timeout) as resp:
            if resp.status >= 400:
                raise StatusError.from_body(resp.status, await resp.read())
            async for line in resp.content:
                if line.strip():
                    yield json.loads(line)
