"""An authenticated HTTP session with one registry: scheme choice, auth challenges, token cache.

The first request to a host is `GET /v2/`: it settles https or (for insecure registries
only) plain http, and tells which auth the registry wants. Later requests carry the
credentials up front, so a streamed upload body is never refused half-sent for want of them.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import orjson
import yarl

from skiff.common.errors import InvalidArgument, SkiffError, Unauthorized, Unavailable
from skiff.engine.registry.challenge import Challenge, parse_challenges
from skiff.engine.registry.dockerconfig import AuthConfig
from skiff.engine.registry.hosts import api_host, is_insecure

TIMEOUT = aiohttp.ClientTimeout(total=None, connect=15, sock_read=60)


class RegistryError(SkiffError):
    """What a registry answered with an error status, in Docker's wording (`code: message`)."""

    def __init__(self, message: str, status: int = 500, code: str = ""):
        super().__init__(message)
        self.status = status
        self.code = code


def describe_errors(status: int, body: bytes) -> tuple[str, str]:
    """(first error code, `manifest unknown: manifest unknown` style text) of an error body."""
    try:
        errors = orjson.loads(body).get("errors") or []
    except (orjson.JSONDecodeError, AttributeError):
        errors = []
    if errors and isinstance(errors[0], dict):
        code = str(errors[0].get("code", "UNKNOWN"))
        text = "; ".join(f"{str(e.get('code', 'unknown')).lower().replace('_', ' ')}: {e.get('message', '')}"
                         for e in errors if isinstance(e, dict))
        return code, text
    text = body.decode(errors="replace").strip()[:200]
    return "", f"received unexpected HTTP status: {status}" + (f" ({text})" if text else "")


def error_from(status: int, body: bytes, prefix: str = "") -> RegistryError:
    code, text = describe_errors(status, body)
    mapped = {401: 401, 403: 403, 404: 404, 400: 400}.get(status, 500)
    return RegistryError(prefix + text, mapped, code)


@dataclass
class HostState:
    base: str = ""  # "https://h" or "http://h"
    challenge: Challenge | None = None
    tokens: dict[tuple[str, str], tuple[str, float]] = field(default_factory=dict)  # (user, scope) → token


CERTS_DIR = "/etc/docker/certs.d"  # Docker's place for a registry's CA: <dir>/<host[:port]>/*.crt


class Registries:
    """What the engine remembers about registries between operations: schemes, challenges, tokens."""

    def __init__(self, insecure: list[str] | None = None, certs_dir: str = CERTS_DIR):
        self.insecure = list(insecure or [])
        self.certs_dir = Path(certs_dir)
        self.hosts: dict[str, HostState] = {}
        self._http: aiohttp.ClientSession | None = None
        self._contexts: dict[str, ssl.SSLContext] = {}

    def ssl_context(self, host: str) -> ssl.SSLContext:
        """The system's CAs plus any `*.crt` in `<certs_dir>/<host>/`, as dockerd trusts them."""
        ctx = self._contexts.get(host)
        if ctx is None:
            ctx = ssl.create_default_context()
            extra = self.certs_dir / host
            if extra.is_dir():
                for crt in sorted(extra.glob("*.crt")):
                    ctx.load_verify_locations(cafile=str(crt))
            self._contexts[host] = ctx
        return ctx

    def http(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            connector = aiohttp.TCPConnector(limit=32, limit_per_host=16)
            self._http = aiohttp.ClientSession(connector=connector, timeout=TIMEOUT, auto_decompress=False)
        return self._http

    def session(self, domain: str, auth: AuthConfig | None = None) -> Session:
        return Session(self, domain, auth or AuthConfig())

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()


class Session:
    def __init__(self, registries: Registries, domain: str, auth: AuthConfig):
        self.registries = registries
        self.domain = domain
        self.host = api_host(domain)
        self.auth = auth
        self.allow_http = is_insecure(domain, registries.insecure)
        self.state = registries.hosts.setdefault(self.host, HostState())

    @property
    def http(self) -> aiohttp.ClientSession:
        return self.registries.http()

    def _ssl_for(self, url: str) -> ssl.SSLContext | bool:
        """Plain http: no TLS. https to an insecure registry: TLS without verification (as Docker)."""
        if not url.startswith("https"):
            return False
        if self.allow_http and yarl.URL(url).host_port_subcomponent == self.host:
            return False
        return self.registries.ssl_context(yarl.URL(url).host_port_subcomponent or self.host)

    # -- scheme and challenge --------------------------------------------------------------
    async def ping(self) -> aiohttp.ClientResponse:
        """GET /v2/ over https, or http where allowed; records the scheme and the challenge."""
        schemes = ["https", "http"] if self.allow_http else ["https"]
        if self.state.base:
            schemes = [self.state.base.split(":", 1)[0]]
        last: Exception | None = None
        for scheme in schemes:
            url = f"{scheme}://{self.host}/v2/"
            try:
                resp = await self.http.get(url, ssl=self._ssl_for(url))
                await resp.read()
            except (TimeoutError, aiohttp.ClientError, ssl.SSLError, OSError) as e:
                last = e
                continue
            self.state.base = f"{scheme}://{self.host}"
            if resp.status == 401:
                found = parse_challenges(resp.headers.get("WWW-Authenticate", ""))
                self.state.challenge = found[0] if found else None
            return resp
        hint = "" if self.allow_http else (f"; if {self.domain} serves plain http, start the engine with "
                                           f"--insecure-registry {self.domain}")
        raise Unavailable(f"Get \"{schemes[0]}://{self.host}/v2/\": {_reason(last)}{hint}")

    async def login(self) -> None:
        """Check the credentials against the registry, as `docker login` does."""
        resp = await self.ping()
        if resp.status == 401:
            await self._authorization("", force=True)
            return
        if resp.status >= 400:
            body = await resp.read()
            raise error_from(resp.status, body, f"login attempt to {self.state.base}/v2/ failed: ")

    # -- credentials -----------------------------------------------------------------------
    def _basic(self) -> str:
        return "Basic " + base64.b64encode(f"{self.auth.username}:{self.auth.password}".encode()).decode()

    async def _authorization(self, scope: str, force: bool = False) -> str | None:
        ch = self.state.challenge
        if ch is None:
            return None
        if ch.scheme == "basic":
            if not self.auth.username:
                raise Unauthorized("no basic auth credentials")
            if force:  # a login checks the credentials now
                resp = await self.http.get(f"{self.state.base}/v2/", headers={"Authorization": self._basic()},
                                           ssl=self._ssl_for(self.state.base))
                await resp.read()
                if resp.status == 401:
                    raise Unauthorized(f"login attempt to {self.state.base}/v2/ failed with status: "
                                       "401 Unauthorized")
            return self._basic()
        if ch.scheme == "bearer":
            if self.auth.registrytoken:
                return "Bearer " + self.auth.registrytoken
            return "Bearer " + await self._token(ch, scope, force)
        return None

    async def _token(self, ch: Challenge, scope: str, force: bool) -> str:
        key = (self.auth.username, scope)
        cached = self.state.tokens.get(key)
        if cached and cached[1] > time.monotonic() and not force:
            return cached[0]
        realm = ch.params.get("realm", "")
        if not realm.startswith(("http://", "https://")):
            raise InvalidArgument(f"the registry's token realm {realm!r} is not an http(s) URL")
        params = [("service", ch.params.get("service", ""))] if ch.params.get("service") else []
        for s in scope.split(" ") if scope else []:
            params.append(("scope", s))
        headers = {"Authorization": self._basic()} if self.auth.username else {}
        try:
            resp = await self.http.get(realm, params=params, headers=headers, ssl=self._ssl_for(realm))
            body = await resp.read()
        except (TimeoutError, aiohttp.ClientError) as e:
            raise Unavailable(f"fetching a token from {realm}: {_reason(e)}") from None
        if resp.status in (401, 403):
            raise Unauthorized("unauthorized: incorrect username or password" if self.auth.username
                               else "unauthorized: authentication required")
        if resp.status >= 400:
            raise error_from(resp.status, body, f"fetching a token from {realm}: ")
        try:
            data = orjson.loads(body)
            token = data.get("token") or data.get("access_token")
        except (orjson.JSONDecodeError, AttributeError):
            token = None
        if not token:
            raise InvalidArgument(f"the token server at {realm} answered without a token")
        expires = float(data.get("expires_in") or 60)
        self.state.tokens[key] = (token, time.monotonic() + max(expires - 10, 10))
        return token

    # -- requests --------------------------------------------------------------------------
    async def request(self, method: str, path: str, scope: str, headers: dict[str, str] | None = None,
                      data=None, params=None, allow_redirects: bool = True,
                      retry_auth: bool = True) -> aiohttp.ClientResponse:
        """`path` is below the base URL (`/v2/...`) or absolute (an upload Location)."""
        if not self.state.base:
            await self.ping()
        url = path if path.startswith(("http://", "https://")) else self.state.base + path
        target = yarl.URL(url, encoded=True)  # upload Locations carry opaque, already-encoded state
        hdrs = dict(headers or {})
        authz = await self._authorization(scope)
        if authz:
            hdrs["Authorization"] = authz
        try:
            resp = await self.http.request(method, target, headers=hdrs, data=data, params=params,
                                           allow_redirects=allow_redirects, ssl=self._ssl_for(url))
        except (TimeoutError, aiohttp.ClientConnectionError) as e:
            raise Unavailable(f"{method} {url}: {_reason(e)}") from None
        if resp.status == 401 and retry_auth and not _is_stream(data):
            await resp.read()
            found = parse_challenges(resp.headers.get("WWW-Authenticate", ""))
            if found:
                self.state.challenge = found[0]
                if found[0].scheme == "bearer" and found[0].params.get("scope"):
                    scope = found[0].params["scope"]
                self.state.tokens.pop((self.auth.username, scope), None)
                return await self.request(method, path, scope, headers, data, params, allow_redirects, False)
        return resp


def _is_stream(data) -> bool:
    return data is not None and not isinstance(data, bytes | str)


def _reason(e: Exception | None) -> str:
    if e is None:
        return "no answer"
    if isinstance(e, asyncio.TimeoutError):
        return "timed out"
    if isinstance(e, aiohttp.ClientConnectorError):  # its str() shows the SSLContext object
        return f"dial tcp {e.host}:{e.port}: {e.os_error.strerror or e.os_error}"
    return str(e) or type(e).__name__
