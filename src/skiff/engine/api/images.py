"""/images routes and /commit: parse, call ImageService (or ContainerService.commit), serialize.

Tarball bodies are spooled to a file under the data root first, because ImageService reads
a seekable file object in a worker thread; saves are written to a file and then streamed.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from typing import BinaryIO

from aiohttp import web

from skiff.common.errors import InvalidArgument
from skiff.engine.api.context import ctx
from skiff.engine.api.versions import version_tuple
from skiff.engine.api.wire import json_line, json_response, open_stream, parse_filters, query_bool, read_json

TAR = "application/x-tar"


def _name(request: web.Request) -> str:
    return request.match_info["name"]


async def list_images(request: web.Request) -> web.Response:
    q = request.query
    return json_response(ctx(request).images.list(all=query_bool(q, "all"), filters=parse_filters(q.get("filters")),
                                                  digests=query_bool(q, "digests")))


# What dockerd still answers below API 1.44: docker-compose 1.x reads ContainerConfig.Volumes
# when it recreates a container (KeyError without it).
_LEGACY_CONTAINER_CONFIG = {
    "Hostname": "", "Domainname": "", "User": "", "AttachStdin": False, "AttachStdout": False,
    "AttachStderr": False, "Tty": False, "OpenStdin": False, "StdinOnce": False, "Env": None, "Cmd": None,
    "Image": "", "Volumes": None, "WorkingDir": "", "Entrypoint": None, "OnBuild": None, "Labels": None}


async def inspect(request: web.Request) -> web.Response:
    body = ctx(request).images.inspect(_name(request))
    version = request.match_info.get("api_version")
    if version and version_tuple(version) < (1, 44):
        body.setdefault("Container", "")
        body.setdefault("ContainerConfig", dict(_LEGACY_CONTAINER_CONFIG))
    return json_response(body)


async def history(request: web.Request) -> web.Response:
    return json_response(ctx(request).images.history(_name(request)))


async def tag(request: web.Request) -> web.Response:
    q = request.query
    repo = q.get("repo", "")
    if not repo:
        raise InvalidArgument("repository name must have at least one component")
    ctx(request).images.tag(_name(request), repo, q.get("tag") or None)
    return web.Response(status=201)


async def remove(request: web.Request) -> web.Response:
    q = request.query
    return json_response(ctx(request).images.remove(_name(request), force=query_bool(q, "force"),
                                                    noprune=query_bool(q, "noprune")))


@contextlib.contextmanager
def _spool_file(request: web.Request):
    tmp_dir = os.path.join(ctx(request).data_root, "tmp")
    os.makedirs(tmp_dir, exist_ok=True)
    with tempfile.TemporaryFile(dir=tmp_dir) as f:
        yield f


async def _spool_body(request: web.Request, f: BinaryIO) -> None:
    async for chunk in request.content.iter_chunked(1 << 20):
        f.write(chunk)
    f.flush()
    f.seek(0)


async def load(request: web.Request) -> web.StreamResponse:
    quiet = query_bool(request.query, "quiet")
    with _spool_file(request) as f:
        await _spool_body(request, f)
        if f.seek(0, os.SEEK_END) == 0:
            raise InvalidArgument("no image data: the request body is empty")
        f.seek(0)
        lines = await ctx(request).images.load(f, quiet=quiet)
    resp = await open_stream(request)
    for line in lines:
        await resp.write(json_line({"stream": line.rstrip("\n") + "\n"}))
    await resp.write_eof()
    return resp


async def _stream_file(request: web.Request, f: BinaryIO) -> web.StreamResponse:
    size = f.seek(0, os.SEEK_END)
    f.seek(0)
    resp = web.StreamResponse()
    resp.content_type = TAR
    resp.content_length = size
    await resp.prepare(request)
    while chunk := f.read(1 << 20):
        await resp.write(chunk)
    await resp.write_eof()
    return resp


async def _save(request: web.Request, names: list[str]) -> web.StreamResponse:
    if not names:
        raise InvalidArgument("no images given to save")
    with _spool_file(request) as f:
        await ctx(request).images.save(names, f)
        f.flush()
        return await _stream_file(request, f)


async def save_many(request: web.Request) -> web.StreamResponse:
    return await _save(request, request.query.getall("names", []))


async def save_one(request: web.Request) -> web.StreamResponse:
    return await _save(request, [_name(request)])


async def create(request: web.Request) -> web.StreamResponse:
    """POST /images/create with `fromSrc=-`: imports a rootfs tarball (api/registry.py routes pulls)."""
    q = request.query
    src = q.get("fromSrc", "")
    if src != "-":
        if src:
            raise InvalidArgument(f"importing from a URL ({src}) is not supported: send the tarball in the body")
        raise InvalidArgument("one of fromImage or fromSrc is required")
    with _spool_file(request) as f:
        await _spool_body(request, f)
        image_id = await ctx(request).images.import_rootfs(
            f, repo=q.get("repo") or None, tag=q.get("tag") or None, changes=q.getall("changes", []),
            message=q.get("message", ""), platform=q.get("platform", ""))
    resp = await open_stream(request)
    await resp.write(json_line({"status": image_id}))
    await resp.write_eof()
    return resp


async def prune(request: web.Request) -> web.Response:
    filters = parse_filters(request.query.get("filters"))
    dangling = filters.pop("dangling", ["true"])
    prune_all = any(v.lower() in ("false", "0") for v in dangling)
    return json_response(await ctx(request).images.prune(all=prune_all, filters=filters))


async def commit(request: web.Request) -> web.Response:
    q = request.query
    if not q.get("container"):
        raise InvalidArgument("No container given to commit")
    config = await read_json(request)
    if not isinstance(config, dict):
        raise InvalidArgument("invalid JSON: expected a container Config object")
    image_id = await ctx(request).containers.commit(
        q.get("container", ""), repo=q.get("repo") or None, tag=q.get("tag") or None,
        comment=q.get("comment", ""), author=q.get("author", ""), changes=q.getall("changes", []),
        pause=query_bool(q, "pause", True), config=config or None)
    return json_response({"Id": image_id}, 201)


ROUTES = [
    ("GET", "/images/json", list_images),
    ("POST", "/images/load", load),
    ("GET", "/images/get", save_many),
    ("POST", "/images/prune", prune),
    ("POST", "/commit", commit),
    ("GET", "/images/{name:.+}/json", inspect),
    ("GET", "/images/{name:.+}/history", history),
    ("POST", "/images/{name:.+}/tag", tag),
    ("GET", "/images/{name:.+}/get", save_one),
    ("DELETE", "/images/{name:.+}", remove),
]
