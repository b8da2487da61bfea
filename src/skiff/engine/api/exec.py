"""/containers/{id}/exec and /exec/{id}/... routes."""

from __future__ import annotations

from aiohttp import web

from skiff.common.errors import InvalidArgument
from skiff.engine.api.context import ctx
from skiff.engine.api.hijack import hijack, pump
from skiff.engine.api.wire import json_response, query_int, read_json


async def create(request: web.Request) -> web.Response:
    body = await read_json(request, required=True)
    if not isinstance(body, dict):
        raise InvalidArgument("invalid JSON: expected an ExecConfig object")
    if not body.get("Cmd"):
        raise InvalidArgument("No exec command specified")
    exec_id = await ctx(request).containers.exec_create(request.match_info["id"], body)
    return json_response({"Id": exec_id}, 201)


async def start(request: web.Request) -> web.StreamResponse:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise InvalidArgument("invalid JSON: expected an ExecStartConfig object")
    detach = bool(body.get("Detach"))
    tty = body.get("Tty")
    session = await ctx(request).containers.exec_start(
        request.match_info["id"], detach=detach, tty=None if tty is None else bool(tty),
        console_size=body.get("ConsoleSize") or None, detach_keys=request.query.get("detachKeys") or None)
    if session is None:
        return web.Response(status=200)
    try:
        resp, conn = await hijack(request, session.tty)
    except BaseException:
        await session.close()
        raise
    await pump(conn, session)
    return resp


async def inspect(request: web.Request) -> web.Response:
    return json_response(await ctx(request).containers.exec_inspect(request.match_info["id"]))


async def resize(request: web.Request) -> web.Response:
    q = request.query
    await ctx(request).containers.exec_resize(request.match_info["id"], query_int(q, "h", 0), query_int(q, "w", 0))
    return web.Response(status=200)


ROUTES = [
    ("POST", "/containers/{id}/exec", create),
    ("POST", "/exec/{id}/start", start),
    ("GET", "/exec/{id}/json", inspect),
    ("POST", "/exec/{id}/resize", resize),
]
