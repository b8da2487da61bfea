"""/containers/{id}/exec and /exec/{id}/... routes."""

from __future__ import annotations

import asyncio

from aiohttp import web

from skiff.common.errors import InvalidArgument, SkiffError
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
    exec_id = request.match_info["id"]
    session = await ctx(request).containers.exec_start(
        exec_id, detach=detach, tty=None if tty is None else bool(tty),
        console_size=body.get("ConsoleSize") or None, detach_keys=request.query.get("detachKeys") or None)
    if session is None:
        return web.Response(status=200)
    try:
        resp, conn = await hijack(request, session.tty)
    except BaseException:
        await session.close()
        raise
    await pump(conn, session, before_close=lambda: _exit_recorded(request, exec_id),
               exited=lambda: _exit_recorded(request, exec_id, limit=None))
    return resp


async def _exit_recorded(request: web.Request, exec_id: str, limit: float | None = 10.0) -> None:
    """The client reads the exit code with /exec/{id}/json as soon as the stream closes, so
    close it only once the engine has recorded that exit (dockerd orders it the same way)."""
    service = ctx(request).containers
    loop = asyncio.get_running_loop()
    deadline = None if limit is None else loop.time() + limit
    delay = 0.002
    while deadline is None or loop.time() < deadline:
        try:
            if not (await service.exec_inspect(exec_id)).get("Running"):
                return
        except SkiffError:
            return
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.05 if limit is not None else 0.25)


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
