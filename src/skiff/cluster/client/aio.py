"""An asyncio client over the Kubernetes API for in-process components (kubelet, scheduler, controllers).

JSON in and out (orjson), a bearer token or a client certificate. Request/response calls go
through `http1.Http1Pool`'s persistent connections (cheap per call: the scheduler makes two
per pod); `watch()` streams over aiohttp and yields the decoded events of a `?watch=1` stream.
Errors are `StatusError` with the server's Status.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import aiohttp
import orjson

from skiff.cluster.client.errors import StatusError
from skiff.cluster.client.http1 import Http1Pool

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
        self._pool: Http1Pool | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=self.tls, limit=32),
                                                  headers=self.headers)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @staticmethod
    def target(path: str, query: dict[str, Any] | None = None) -> str:
        q = {k: v for k, v in (query or {}).items() if v is not None}
        return path + (("?" + urlencode(q)) if q else "")

    def url(self, path: str, query: dict[str, Any] | None = None) -> str:
        return self.server + self.target(path, query)

    async def request(self, method: str, path: str, body: Any = None, query: dict[str, Any] | None = None,
                      content_type: str = "application/json") -> dict:
        data = orjson.dumps(body) if body is not None else None
        headers = {**self.headers, "Content-Type": content_type} if data is not None else self.headers
        if self._pool is None:
            self._pool = Http1Pool(self.server, self.tls)
        resp = await self._pool.request(method, self.target(path, query), headers, data)
        if resp.status >= 400:
            raise StatusError.from_body(resp.status, resp.body)
        return orjson.loads(resp.body) if resp.body else {}

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
                    yield orjson.loads(line)
