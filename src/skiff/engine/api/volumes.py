"""/volumes routes: parse, call VolumeService, serialize."""

from __future__ import annotations

from aiohttp import web

from skiff.common.errors import InvalidArgument
from skiff.engine.api.context import ctx
from skiff.engine.api.wire import json_response, no_content, parse_filters, query_bool, read_json


async def list_volumes(request: web.Request) -> web.Response:
    return json_response(await ctx(request).volumes.list(parse_filters(request.query.get("filters"))))


async def create(request: web.Request) -> web.Response:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise InvalidArgument("invalid JSON: expected a VolumeCreateOptions object")
    volume = await ctx(request).volumes.create(
        name=body.get("Name") or None, driver=body.get("Driver") or "local",
        driver_opts=body.get("DriverOpts") or None, labels=body.get("Labels") or None)
    return json_response(volume, 201)


async def inspect(request: web.Request) -> web.Response:
    return json_response(await ctx(request).volumes.inspect(request.match_info["name"]))


async def remove(request: web.Request) -> web.Response:
    await ctx(request).volumes.remove(request.match_info["name"], force=query_bool(request.query, "force"))
    return no_content()


async def prune(request: web.Request) -> web.Response:
    return json_response(await ctx(request).volumes.prune(parse_filters(request.query.get("filters"))))


ROUTES = [
    ("GET", "/volumes", list_volumes),
    ("POST", "/volumes/create", create),
    ("POST", "/volumes/prune", prune),
    ("GET", "/volumes/{name}", inspect),
    ("DELETE", "/volumes/{name}", remove),
]
