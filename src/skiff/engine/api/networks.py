"""/networks: create, list, inspect, remove, prune, connect and disconnect (Docker Engine API).

Thin: parse, call the NetworkService (or the container service, for connect/disconnect,
which change a container's record), serialize.
"""

from __future__ import annotations

from aiohttp import web

from skiff.common.errors import InvalidArgument
from skiff.engine.api.context import ctx
from skiff.engine.api.wire import json_response, parse_filters


async def _body(request: web.Request) -> dict:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError as e:
        raise InvalidArgument(f"invalid JSON: {e}") from None
    if not isinstance(body, dict):
        raise InvalidArgument("invalid JSON: expected an object")
    return body


async def list_networks(request: web.Request) -> web.Response:
    filters = parse_filters(request.query.get("filters"))
    return json_response(ctx(request).network.list(filters))


async def inspect(request: web.Request) -> web.Response:
    return json_response(ctx(request).network.inspect(request.match_info["id"]))


async def create(request: web.Request) -> web.Response:
    result = await ctx(request).network.create(await _body(request))
    return json_response(result, status=201)


async def remove(request: web.Request) -> web.Response:
    await ctx(request).network.remove(request.match_info["id"])
    return web.Response(status=204)


async def _container_body(request: web.Request) -> tuple[dict, str]:
    body = await _body(request)
    container = body.get("Container") or ""
    if not container:
        raise InvalidArgument("no container specified")
    return body, container


async def connect(request: web.Request) -> web.Response:
    body, container = await _container_body(request)
    await ctx(request).containers.network_connect(request.match_info["id"], container, body.get("EndpointConfig"))
    return web.Response(status=200)


async def disconnect(request: web.Request) -> web.Response:
    body, container = await _container_body(request)
    await ctx(request).containers.network_disconnect(request.match_info["id"], container, bool(body.get("Force")))
    return web.Response(status=200)


async def prune(request: web.Request) -> web.Response:
    filters = parse_filters(request.query.get("filters"))
    names = await ctx(request).network.prune(filters)
    return json_response({"NetworksDeleted": names or None})


ROUTES = [
    ("GET", "/networks", list_networks),
    ("POST", "/networks/create", create),
    ("POST", "/networks/prune", prune),
    ("GET", "/networks/{id}", inspect),
    ("DELETE", "/networks/{id}", remove),
    ("POST", "/networks/{id}/connect", connect),
    ("POST", "/networks/{id}/disconnect", disconnect),
]
