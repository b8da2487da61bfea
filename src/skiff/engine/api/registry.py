"""Registry routes: pull (POST /images/create?fromImage=), push, /auth, search, /distribution.

Progress is streamed as Docker's JSON messages. The stream opens with the first message,
so an error before it (a bad name, a missing manifest, refused credentials) is an HTTP
error status as dockerd gives it; an error after it is an `errorDetail` message.
"""

from __future__ import annotations

import logging

from aiohttp import web

from skiff.common.errors import InvalidArgument, SkiffError
from skiff.engine.api import images
from skiff.engine.api.context import ctx
from skiff.engine.api.wire import json_line, json_response, open_stream, parse_filters, query_int, read_json
from skiff.engine.registry import progress
from skiff.engine.registry.dockerconfig import AuthConfig, decode_auth_header

log = logging.getLogger("skiff.engine.api")


class NoRegistryClient(SkiffError):
    """An engine context built without a RegistryService (the API's fake-service harness)."""

    status = 501


def _registry(request: web.Request):
    registry = ctx(request).registry
    if registry is None:
        raise NoRegistryClient("this engine has no registry client: load images with `docker load` instead")
    return registry


def _auth(request: web.Request) -> AuthConfig:
    return decode_auth_header(request.headers.get("X-Registry-Auth", ""))


class _Stream:
    """A JSON message stream opened on the first message."""

    def __init__(self, request: web.Request):
        self.request = request
        self.resp: web.StreamResponse | None = None

    async def send(self, message: dict) -> None:
        if self.resp is None:
            self.resp = await open_stream(self.request)
        await self.resp.write(json_line(message))

    async def run(self, work) -> web.StreamResponse:
        try:
            await work
        except SkiffError as e:
            if self.resp is None:
                raise
            await self.resp.write(json_line(progress.error(e.message)))
        except Exception as e:  # the stream is open: say it there, the connection stays sound
            if self.resp is None:
                raise
            log.exception("%s %s failed", self.request.method, self.request.path)
            await self.resp.write(json_line(progress.error(f"{type(e).__name__}: {e}")))
        if self.resp is None:
            self.resp = await open_stream(self.request)
        await self.resp.write_eof()
        return self.resp


async def create(request: web.Request) -> web.StreamResponse:
    """`fromImage` pulls; anything else is an import (images.create)."""
    q = request.query
    if "fromImage" not in q:
        return await images.create(request)
    name, tag = q["fromImage"], q.get("tag", "")
    if not name:
        raise InvalidArgument("invalid reference format: repository name must have at least one component")
    if tag:
        name += ("@" if tag.startswith("sha256:") else ":") + tag
    registry = _registry(request)
    stream = _Stream(request)
    if not tag and "@" not in name and ":" not in name.rsplit("/", 1)[-1]:
        work = registry.pull_all_tags(name, _auth(request), stream.send, q.get("platform", ""))
    else:
        work = registry.pull(name, _auth(request), stream.send, q.get("platform", ""))
    return await stream.run(work)


async def push(request: web.Request) -> web.StreamResponse:
    stream = _Stream(request)
    work = _registry(request).push(request.match_info["name"], request.query.get("tag", ""), _auth(request),
                                      stream.send)
    return await stream.run(work)


async def auth(request: web.Request) -> web.Response:
    body = await read_json(request, required=True)
    if not isinstance(body, dict):
        raise InvalidArgument("invalid JSON: expected an AuthConfig object")
    fields = AuthConfig.__dataclass_fields__
    config = AuthConfig(**{k: str(v) for k, v in body.items() if k in fields and v is not None})
    return json_response(await _registry(request).login(config))


async def search(request: web.Request) -> web.Response:
    q = request.query
    limit = query_int(q, "limit", 25) or 25
    if not 1 <= limit <= 100:
        raise InvalidArgument(f"limit {limit} is outside the range of [1, 100]")
    results = await _registry(request).search(q.get("term", ""), limit, _auth(request))
    filters = parse_filters(q.get("filters"))
    for value in filters.get("is-official", []):
        results = [r for r in results if r["is_official"] == (value.lower() == "true")]
    for value in filters.get("is-automated", []):
        results = [r for r in results if r["is_automated"] == (value.lower() == "true")]
    for value in filters.get("stars", []):
        if not value.isdigit():
            raise InvalidArgument(f"invalid filter 'stars={value}'")
        results = [r for r in results if r["star_count"] >= int(value)]
    return json_response(results)


async def distribution(request: web.Request) -> web.Response:
    return json_response(await _registry(request).distribution(request.match_info["name"], _auth(request)))


ROUTES = [
    ("POST", "/images/create", create),
    ("GET", "/images/search", search),
    ("POST", "/auth", auth),
    ("GET", "/distribution/{name:.+}/json", distribution),
    ("POST", "/images/{name:.+}/push", push),
]
