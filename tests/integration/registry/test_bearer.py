"""Bearer-token auth as Docker Hub does it: a front that answers 401 with a Bearer challenge, a token
service that checks basic credentials, and the skiff registry behind it."""

from __future__ import annotations

import asyncio
import base64
import secrets
import threading

import aiohttp
import pytest
from aiohttp import web

from tests.integration.registry.conftest import docker_with_config, import_unique
from tests.support.procs import ok
from tests.support.registry import free_port

pytestmark = [pytest.mark.root]

HOP = {"host", "authorization", "content-length", "transfer-encoding", "connection"}


class TokenFront:
    def __init__(self, upstream: str, user: str, password: str):
        self.upstream = upstream
        self.port = free_port()
        self.addr = f"127.0.0.1:{self.port}"
        self.basic = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.tokens: dict[str, set[str]] = {}  # token → scopes it grants
        self.scopes_asked: list[str] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()

    async def token(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != self.basic:
            return web.json_response({"details": "incorrect username or password"}, status=401)
        scopes = set(request.query.getall("scope", []))
        self.scopes_asked += sorted(scopes)
        tok = secrets.token_hex(8)
        self.tokens[tok] = scopes
        return web.json_response({"token": tok, "expires_in": 300})

    def _granted(self, request: web.Request, scope: str) -> bool:
        tok = request.headers.get("Authorization", "").removeprefix("Bearer ")
        granted = self.tokens.get(tok)
        if granted is None:
            return False
        if not scope:
            return True
        name, actions = scope.split(":")[1], scope.split(":")[2].split(",")
        return any(g.split(":")[1] == name and set(actions) <= set(g.split(":")[2].split(",")) for g in granted)

    async def v2(self, request: web.Request) -> web.StreamResponse:
        tail = request.match_info["tail"]
        name = tail.split("/blobs/")[0].split("/manifests/")[0].split("/tags/")[0] if tail else ""
        scope = f"repository:{name}:{'pull' if request.method in ('GET', 'HEAD') else 'pull,push'}" if name else ""
        if not self._granted(request, scope):
            challenge = f'Bearer realm="http://{self.addr}/token",service="front"' + (f',scope="{scope}"' if scope else "")
            return web.json_response({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
                                     status=401, headers={"WWW-Authenticate": challenge})
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP}
        async with aiohttp.ClientSession(auto_decompress=False) as s:
            async with s.request(request.method, self.upstream + request.path_qs, headers=headers,
                                 data=await request.read(), allow_redirects=False) as up:
                body = await up.read()
                out = {k: v for k, v in up.headers.items() if k.lower() not in HOP}
                return web.Response(status=up.status, body=body if request.method != "HEAD" else None, headers=out)

    def start(self) -> TokenFront:
        def run() -> None:
            asyncio.set_event_loop(self._loop)
            app = web.Application(client_max_size=1 << 30)
            app.router.add_get("/token", self.token)
            app.router.add_route("*", "/v2/{tail:.*}", self.v2)
            runner = web.AppRunner(app)
            self._loop.run_until_complete(runner.setup())
            self._loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
            self._runner = runner
            self._ready.set()
            self._loop.run_forever()
            self._loop.run_until_complete(runner.cleanup())
            self._loop.close()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@pytest.fixture
def front(skiff_registry):
    f = TokenFront(skiff_registry.url, "alice", "wonder").start()
    yield f
    f.stop()


def test_bearer_login_push_pull(engine, front, tmp_path):
    docker = docker_with_config(engine, tmp_path / "cfg")
    ref = f"{front.addr}/tok/app:v1"
    import_unique(engine, ref)
    try:
        r = docker("pull", ref)
        assert r.returncode == 1 and b"pull access denied" in r.stderr, r.stderr
        r = docker("login", "-u", "alice", "--password-stdin", front.addr, input=b"bad\n")
        assert r.returncode == 1 and b"incorrect username or password" in r.stderr, r.stderr
        r = docker("login", "-u", "alice", "--password-stdin", front.addr, input=b"wonder\n")
        assert r.returncode == 0, r.stderr
        assert "Pushed" in ok(docker("push", ref))
        assert "repository:tok/app:pull,push" in front.scopes_asked
        ok(engine.docker("rmi", ref))
        assert "Pull complete" in ok(docker("pull", ref))
        assert ok(engine.docker("image", "inspect", "-f", "{{index .RepoDigests 0}}", ref)).startswith(
            f"{front.addr}/tok/app@sha256:")
    finally:
        engine.docker("rmi", "-f", ref)
