"""/containers routes: parse the request, call ContainerService, serialize its answer."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator

import orjson
from aiohttp import WSMsgType, web

from skiff.common.errors import InvalidArgument
from skiff.common.stdcopy import Deframer, frame
from skiff.engine.api.context import ctx
from skiff.engine.api.hijack import MULTIPLEXED_STREAM, RAW_STREAM, hijack, pump
from skiff.engine.api.wire import (
    json_line,
    json_response,
    no_content,
    open_stream,
    parse_filters,
    parse_timestamp,
    query_bool,
    query_int,
    read_json,
)

TAR = "application/x-tar"


def _id(request: web.Request) -> str:
    return request.match_info["id"]


async def create(request: web.Request) -> web.Response:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise InvalidArgument("invalid JSON: expected a ContainerCreate object")
    platform = request.query.get("platform", "")
    if platform and platform.split("/")[0] != "linux":
        raise InvalidArgument(f"invalid platform {platform!r}: only linux containers are supported")
    name = request.query.get("name") or None
    cid, warnings = await ctx(request).containers.create(body, name)
    return json_response({"Id": cid, "Warnings": warnings or []}, 201)


async def list_containers(request: web.Request) -> web.Response:
    q = request.query
    limit = query_int(q, "limit", -1)
    result = await ctx(request).containers.list(
        all=query_bool(q, "all"), limit=-1 if limit is None else limit, size=query_bool(q, "size"),
        filters=parse_filters(q.get("filters")))
    return json_response(result)


async def inspect(request: web.Request) -> web.Response:
    return json_response(await ctx(request).containers.inspect(_id(request), size=query_bool(request.query, "size")))


async def start(request: web.Request) -> web.Response:
    await ctx(request).containers.start(_id(request))
    return no_content()


async def stop(request: web.Request) -> web.Response:
    q = request.query
    await ctx(request).containers.stop(_id(request), timeout=query_int(q, "t"), signal=q.get("signal") or None)
    return no_content()


async def restart(request: web.Request) -> web.Response:
    q = request.query
    await ctx(request).containers.restart(_id(request), timeout=query_int(q, "t"), signal=q.get("signal") or None)
    return no_content()


async def kill(request: web.Request) -> web.Response:
    await ctx(request).containers.kill(_id(request), request.query.get("signal") or "KILL")
    return no_content()


async def pause(request: web.Request) -> web.Response:
    await ctx(request).containers.pause(_id(request))
    return no_content()


async def unpause(request: web.Request) -> web.Response:
    await ctx(request).containers.unpause(_id(request))
    return no_content()


async def wait(request: web.Request) -> web.StreamResponse:
    condition = request.query.get("condition") or "not-running"
    if condition not in ("not-running", "next-exit", "removed"):
        raise InvalidArgument(f"invalid condition: {condition!r}")
    task = asyncio.ensure_future(ctx(request).containers.wait(_id(request), condition))
    # let the service resolve the container first, so "No such container" is a real 404
    for _ in range(3):
        await asyncio.sleep(0)
    if task.done():
        return json_response(task.result())
    # the docker CLI waits for these headers before it starts the container
    try:
        resp = await open_stream(request)
        result = await task
    finally:
        task.cancel()
    await resp.write(json_line(result))
    await resp.write_eof()
    return resp


async def remove(request: web.Request) -> web.Response:
    q = request.query
    await ctx(request).containers.remove(_id(request), force=query_bool(q, "force"), volumes=query_bool(q, "v"),
                                         link=query_bool(q, "link"))
    return no_content()


async def rename(request: web.Request) -> web.Response:
    name = request.query.get("name", "")
    if not name:
        raise InvalidArgument("Neither old nor new names may be empty")
    await ctx(request).containers.rename(_id(request), name)
    return no_content()


async def update(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await ctx(request).containers.update(_id(request), body))


async def top(request: web.Request) -> web.Response:
    return json_response(await ctx(request).containers.top(_id(request), request.query.get("ps_args") or "-ef"))


async def stats(request: web.Request) -> web.StreamResponse:
    q = request.query
    stream = query_bool(q, "stream", True)
    one_shot = query_bool(q, "one-shot")
    gen = ctx(request).containers.stats(_id(request), stream=stream, one_shot=one_shot)
    if not stream:
        async for item in gen:
            return json_response(item)
        return json_response({})
    first = await anext(gen, None)  # surfaces "No such container" before the 200 goes out
    resp = await open_stream(request)
    if first is not None:
        await resp.write(json_line(first))
    async for item in gen:
        await resp.write(json_line(item))
    await resp.write_eof()
    return resp


async def changes(request: web.Request) -> web.Response:
    return json_response(await ctx(request).containers.changes(_id(request)) or None)


async def prune(request: web.Request) -> web.Response:
    return json_response(await ctx(request).containers.prune(parse_filters(request.query.get("filters"))))


def _path(request: web.Request) -> str:
    path = request.query.get("path", "")
    if not path:
        raise InvalidArgument("Path cannot be empty")
    return path


def _stat_header(stat: dict) -> dict[str, str]:
    return {"X-Docker-Container-Path-Stat": base64.b64encode(orjson.dumps(stat)).decode()}


async def archive_head(request: web.Request) -> web.Response:
    stat = await ctx(request).containers.archive_head(_id(request), _path(request))
    return web.Response(status=200, headers=_stat_header(stat))


async def _send_tar(request: web.Request, chunks: AsyncIterator[bytes], first: bytes = b"",
                    headers: dict[str, str] | None = None) -> web.StreamResponse:
    """A 200 tar body streamed from `chunks` (after `first`, a chunk already taken to surface errors)."""
    resp = web.StreamResponse(headers=headers)
    resp.content_type = TAR
    await resp.prepare(request)
    if first:
        await resp.write(first)
    async for chunk in chunks:
        await resp.write(chunk)
    await resp.write_eof()
    return resp


async def archive_get(request: web.Request) -> web.StreamResponse:
    stat, chunks = await ctx(request).containers.archive_get(_id(request), _path(request))
    return await _send_tar(request, chunks, headers=_stat_header(stat))


async def archive_put(request: web.Request) -> web.Response:
    q = request.query
    await ctx(request).containers.archive_put(
        _id(request), _path(request), request.content.iter_chunked(1 << 16),
        no_overwrite_dir_non_dir=query_bool(q, "noOverwriteDirNonDir"), copy_uid_gid=query_bool(q, "copyUIDGID"))
    return web.Response(status=200)


async def export(request: web.Request) -> web.StreamResponse:
    chunks = ctx(request).containers.export(_id(request))
    first = await anext(chunks, b"")  # surfaces NotFound before the 200 goes out
    return await _send_tar(request, chunks, first)


async def logs(request: web.Request) -> web.StreamResponse:
    q = request.query
    stdout, stderr = query_bool(q, "stdout"), query_bool(q, "stderr")
    if not (stdout or stderr):
        raise InvalidArgument("Bad parameters: you must choose at least one stream")
    tty, chunks = await ctx(request).containers.logs(
        _id(request), stdout=stdout, stderr=stderr, follow=query_bool(q, "follow"),
        since=parse_timestamp(q.get("since")) or 0, until=parse_timestamp(q.get("until")) or 0,
        timestamps=query_bool(q, "timestamps"), tail=q.get("tail") or "all")
    resp = await open_stream(request, RAW_STREAM if tty else MULTIPLEXED_STREAM)
    with contextlib.suppress(ConnectionError):
        async for stream, data in chunks:
            await resp.write(data if tty else frame(stream, data))
        await resp.write_eof()
    return resp


async def attach(request: web.Request) -> web.StreamResponse:
    q = request.query
    service = ctx(request).containers
    stdin = query_bool(q, "stdin")
    session = await service.attach(
        _id(request), stdin=stdin, stdout=query_bool(q, "stdout"), stderr=query_bool(q, "stderr"),
        stream=query_bool(q, "stream"), logs=query_bool(q, "logs"), detach_keys=q.get("detachKeys") or None)
    try:
        end_on_eof = stdin and await _stdin_eof_ends_attach(service, _id(request))
        resp, conn = await hijack(request, session.tty)
    except BaseException:
        await session.close()
        raise
    await pump(conn, session, end_on_stdin_eof=end_on_eof)
    return resp


async def _stdin_eof_ends_attach(service, ref: str) -> bool:
    """dockerd: the client's stdin EOF closes the container's stdin (and output runs on to the
    end) only for a StdinOnce container without a tty; for any other it just ends the attach."""
    config = (await service.inspect(ref)).get("Config") or {}
    return bool(config.get("Tty")) or not config.get("StdinOnce")


async def attach_ws(request: web.Request) -> web.StreamResponse:
    """Attach over a websocket: binary messages carry stdin in and raw output out (never framed)."""
    q = request.query
    session = await ctx(request).containers.attach(
        _id(request), stdin=query_bool(q, "stdin"), stdout=query_bool(q, "stdout"), stderr=query_bool(q, "stderr"),
        stream=query_bool(q, "stream"), logs=query_bool(q, "logs"), detach_keys=q.get("detachKeys") or None)
    ws = web.WebSocketResponse()
    try:
        await ws.prepare(request)
    except BaseException:
        await session.close()
        raise
    deframer = None if session.tty else Deframer()

    async def send_output() -> None:
        with contextlib.suppress(ConnectionError):
            async for chunk in session.output():
                data = chunk if deframer is None else b"".join(p for _, p in deframer.feed(chunk))
                if data:
                    await ws.send_bytes(data)
        await ws.close()

    sender = asyncio.create_task(send_output())
    try:
        async for msg in ws:
            if msg.type not in (WSMsgType.BINARY, WSMsgType.TEXT):
                break
            data = msg.data if isinstance(msg.data, bytes) else msg.data.encode()
            if not await session.write_stdin(data):
                break
    finally:  # the client closed (a websocket has no half-close), detached, or the output ended
        sender.cancel()
        await session.close()
        await ws.close()
    return ws


async def resize(request: web.Request) -> web.Response:
    q = request.query
    await ctx(request).containers.resize(_id(request), query_int(q, "h", 0), query_int(q, "w", 0))
    return web.Response(status=200)


_C = "/containers/{id}"
ROUTES = [
    ("POST", "/containers/create", create),
    ("GET", "/containers/json", list_containers),
    ("POST", "/containers/prune", prune),
    ("GET", _C + "/json", inspect),
    ("POST", _C + "/start", start),
    ("POST", _C + "/stop", stop),
    ("POST", _C + "/restart", restart),
    ("POST", _C + "/kill", kill),
    ("POST", _C + "/pause", pause),
    ("POST", _C + "/unpause", unpause),
    ("POST", _C + "/wait", wait),
    ("DELETE", _C, remove),
    ("DELETE", "/containers/{id:.+}", remove),  # `rm --link /web/db`: a link name has slashes
    ("POST", _C + "/rename", rename),
    ("POST", _C + "/update", update),
    ("GET", _C + "/top", top),
    ("GET", _C + "/stats", stats),
    ("GET", _C + "/changes", changes),
    ("HEAD", _C + "/archive", archive_head),
    ("GET", _C + "/archive", archive_get),
    ("PUT", _C + "/archive", archive_put),
    ("GET", _C + "/export", export),
    ("GET", _C + "/logs", logs),
    ("POST", _C + "/attach", attach),
    ("GET", _C + "/attach/ws", attach_ws),
    ("POST", _C + "/resize", resize),
]
