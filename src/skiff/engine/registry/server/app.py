"""The registry server's aiohttp application: the distribution (v2) API, plus `/v1/search`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import orjson
from aiohttp import web

from skiff.common.digest import is_digest
from skiff.engine.registry.server.config import ServerConfig
from skiff.engine.registry.server.errors import RegistryError
from skiff.engine.registry.server.htpasswd import Htpasswd, basic_credentials
from skiff.engine.registry.server.paths import Route, page, route
from skiff.engine.registry.server.storage import Storage, Upload, check_name
from skiff.oci import mediatypes as mt

log = logging.getLogger("skiff.registry")

API_HEADER = {"Docker-Distribution-API-Version": "registry/2.0"}
MANIFEST_MAX = 4 << 20
FLUSH = 4 << 20  # bytes gathered before one write+hash in a worker thread
STORAGE: web.AppKey[Storage] = web.AppKey("storage", Storage)
AUTH: web.AppKey[Htpasswd | None] = web.AppKey("auth", object)  # type: ignore[arg-type]
CONFIG: web.AppKey[ServerConfig] = web.AppKey("config", ServerConfig)
Handler = Callable[[web.Request, Route], Awaitable[web.StreamResponse]]


def _json(data, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(data), content_type="application/json", headers=headers)


def _empty(status: int, headers: dict[str, str]) -> web.Response:
    return web.Response(status=status, headers=headers)


async def _head(request: web.Request, headers: dict[str, str], length: int) -> web.StreamResponse:
    """A HEAD answer carrying the length of the body a GET would send."""
    resp = web.StreamResponse(headers={**headers, **API_HEADER})
    resp.content_length = length
    await resp.prepare(request)
    await resp.write_eof()
    return resp


async def _receive(request: web.Request, up: Upload, storage: Storage) -> None:
    """Append the request body to an upload, hashing as it goes (in a thread, in large pieces)."""
    buf = bytearray()
    async for chunk in request.content.iter_chunked(1 << 20):
        buf += chunk
        if len(buf) >= FLUSH:
            await asyncio.to_thread(storage.append, up, bytes(buf))
            buf.clear()
    if buf:
        await asyncio.to_thread(storage.append, up, bytes(buf))


def _upload_headers(name: str, up: Upload) -> dict[str, str]:
    return {"Location": f"/v2/{name}/blobs/uploads/{up.id}", "Range": f"0-{max(up.size - 1, 0)}",
            "Docker-Upload-UUID": up.id}


def _blob_created(name: str, digest: str) -> web.Response:
    return _empty(201, {"Location": f"/v2/{name}/blobs/{digest}", "Docker-Content-Digest": digest})


# -- blobs -------------------------------------------------------------------------------
async def blob(request: web.Request, r: Route) -> web.StreamResponse:
    storage = request.app[STORAGE]
    if request.method == "DELETE":
        if not request.app[CONFIG].delete_enabled:
            raise RegistryError("UNSUPPORTED")
        storage.delete_blob(r.name, r.ref)
        return _empty(202, {"Docker-Content-Digest": r.ref})
    path = storage.blob_in_repo(r.name, r.ref)
    headers = {"Docker-Content-Digest": r.ref, "Content-Type": "application/octet-stream",
               "Accept-Ranges": "bytes"}
    if request.method == "HEAD":
        return await _head(request, headers, path.stat().st_size)
    return web.FileResponse(path, headers=headers, chunk_size=1 << 20)


async def uploads(request: web.Request, r: Route) -> web.StreamResponse:
    """POST: start an upload, or mount a blob from another repository, or take it whole."""
    if request.method != "POST":
        raise RegistryError("UNSUPPORTED")
    storage = request.app[STORAGE]
    q = request.query
    if q.get("mount") and q.get("from") and storage.mount_blob(r.name, q["mount"], q["from"]):
        return _blob_created(r.name, q["mount"])
    up = storage.start_upload(r.name)
    if "digest" in q:  # monolithic: the blob is this request's body
        try:
            await _receive(request, up, storage)
        except BaseException:
            storage.cancel_upload(up)
            raise
        await asyncio.to_thread(storage.finish_upload, up, q["digest"])
        return _blob_created(r.name, q["digest"])
    return _empty(202, _upload_headers(r.name, up))


async def upload(request: web.Request, r: Route) -> web.StreamResponse:
    storage = request.app[STORAGE]
    up = storage.upload(r.name, r.ref)
    if request.method == "GET":
        return _empty(204, _upload_headers(r.name, up))
    if request.method == "DELETE":
        storage.cancel_upload(up)
        return _empty(204, {})
    if request.method not in ("PATCH", "PUT"):
        raise RegistryError("UNSUPPORTED")
    content_range = request.headers.get("Content-Range", "")
    if content_range:
        start = content_range.split("-", 1)[0].removeprefix("bytes=").strip()
        if not start.isdigit() or int(start) != up.size:
            raise _range_error(r.name, up)
    await _receive(request, up, storage)
    if request.method == "PATCH":
        return _empty(202, _upload_headers(r.name, up))
    digest = request.query.get("digest", "")
    if not digest:
        storage.cancel_upload(up)
        raise RegistryError("DIGEST_INVALID", message="digest missing: the PUT closing an upload needs ?digest=")
    await asyncio.to_thread(storage.finish_upload, up, digest)
    return _blob_created(r.name, digest)


class _RangeError(RegistryError):
    def __init__(self, headers: dict[str, str]):
        super().__init__("RANGE_INVALID")
        self.headers = headers


def _range_error(name: str, up: Upload) -> _RangeError:
    return _RangeError(_upload_headers(name, up))


# -- manifests ---------------------------------------------------------------------------
def _check_references(storage: Storage, name: str, manifest: dict, media_type: str) -> None:
    """Every blob (or child manifest) a manifest names must be in the repository."""
    if mt.is_index(media_type):
        for d in manifest.get("manifests") or []:
            try:
                storage.resolve(name, d.get("digest", ""))
            except RegistryError:
                raise RegistryError("MANIFEST_BLOB_UNKNOWN", {"digest": d.get("digest")}) from None
        return
    config = manifest.get("config")
    layers = manifest.get("layers")
    if not isinstance(config, dict) or not isinstance(layers, list):
        raise RegistryError("MANIFEST_INVALID", message="manifest invalid: config and layers are required")
    for d in [config, *layers]:
        if not isinstance(d, dict):
            raise RegistryError("MANIFEST_INVALID")
        if d.get("urls") and d.get("mediaType") == mt.DOCKER_FOREIGN_LAYER:
            continue  # foreign layers live elsewhere
        try:
            storage.blob_in_repo(name, str(d.get("digest", "")))
        except RegistryError:
            raise RegistryError("MANIFEST_BLOB_UNKNOWN", {"digest": d.get("digest")}) from None


async def manifest(request: web.Request, r: Route) -> web.StreamResponse:
    storage = request.app[STORAGE]
    if request.method == "PUT":
        try:
            data = await request.read()  # the app's client_max_size is MANIFEST_MAX
        except web.HTTPRequestEntityTooLarge:
            raise RegistryError("MANIFEST_INVALID", message="manifest invalid: larger than 4 MiB") from None
        try:
            body = orjson.loads(data)
        except orjson.JSONDecodeError as e:
            raise RegistryError("MANIFEST_INVALID", {"error": str(e)}) from None
        if not isinstance(body, dict) or body.get("schemaVersion") != 2:
            raise RegistryError("MANIFEST_INVALID", message="manifest invalid: schemaVersion 2 expected")
        media_type = body.get("mediaType") or request.headers.get("Content-Type", "").split(";")[0].strip() \
            or mt.OCI_MANIFEST
        if not (mt.is_manifest(media_type) or mt.is_index(media_type)):
            raise RegistryError("MANIFEST_INVALID", message=f"manifest invalid: unsupported media type {media_type}")
        if is_digest(r.ref):
            import hashlib
            got = "sha256:" + hashlib.sha256(data).hexdigest()
            if got != r.ref:
                raise RegistryError("DIGEST_INVALID", {"expected": r.ref, "got": got})
        elif not _valid_tag(r.ref):
            raise RegistryError("TAG_INVALID", {"tag": r.ref}, "invalid tag")
        _check_references(storage, r.name, body, media_type)
        digest = storage.put_manifest(r.name, r.ref, data, media_type)
        return _empty(201, {"Location": f"/v2/{r.name}/manifests/{digest}", "Docker-Content-Digest": digest})
    if request.method == "DELETE":
        if not request.app[CONFIG].delete_enabled:
            raise RegistryError("UNSUPPORTED")
        storage.delete_manifest(r.name, r.ref)
        return _empty(202, {})
    digest, media_type, path = storage.manifest(r.name, r.ref)
    headers = {"Docker-Content-Digest": digest, "Content-Type": media_type, "Etag": f'"{digest}"'}
    if request.method == "HEAD":
        return await _head(request, headers, path.stat().st_size)
    return web.Response(body=path.read_bytes(), headers=headers)


def _valid_tag(tag: str) -> bool:
    from skiff.engine.registry.server.storage import TAG_RE

    return bool(TAG_RE.match(tag))


# -- listings ----------------------------------------------------------------------------
def _paged(request: web.Request, items: list[str], base: str) -> tuple[list[str], dict[str, str]]:
    n = request.query.get("n")
    try:
        chosen, more = page(items, n, request.query.get("last"))
    except ValueError:
        raise RegistryError("PAGINATION_NUMBER_INVALID", {"n": n}) from None
    headers = {}
    if more and chosen:
        headers["Link"] = f'<{base}?last={chosen[-1]}&n={n}>; rel="next"'
    return chosen, headers


async def tags(request: web.Request, r: Route) -> web.StreamResponse:
    items, headers = _paged(request, request.app[STORAGE].tags(r.name), f"/v2/{r.name}/tags/list")
    return _json({"name": r.name, "tags": items}, headers=headers)


async def catalog(request: web.Request, r: Route) -> web.StreamResponse:
    items, headers = _paged(request, request.app[STORAGE].catalog(), "/v2/_catalog")
    return _json({"repositories": items}, headers=headers)


async def base(request: web.Request, r: Route) -> web.StreamResponse:
    return _json({})


HANDLERS: dict[str, tuple[set[str], Handler]] = {
    "base": ({"GET", "HEAD"}, base),
    "catalog": ({"GET"}, catalog),
    "tags": ({"GET"}, tags),
    "manifest": ({"GET", "HEAD", "PUT", "DELETE"}, manifest),
    "uploads": ({"POST"}, uploads),
    "upload": ({"GET", "PATCH", "PUT", "DELETE"}, upload),
    "blob": ({"GET", "HEAD", "DELETE"}, blob),
}


# -- dispatch, auth, search --------------------------------------------------------------
def _authorized(request: web.Request) -> bool:
    auth = request.app[AUTH]
    if auth is None:
        return True
    creds = basic_credentials(request.headers.get("Authorization", ""))
    return creds is not None and auth.check(*creds)


def _unauthorized(request: web.Request) -> web.Response:
    realm = request.app[CONFIG].realm
    return RegistryError("UNAUTHORIZED").response({"WWW-Authenticate": f'Basic realm="{realm}"', **API_HEADER})


async def v2(request: web.Request) -> web.StreamResponse:
    if not _authorized(request):
        return _unauthorized(request)
    r = route(request.match_info.get("tail", ""))
    if r is None:
        return _json({"errors": [{"code": "UNSUPPORTED", "message": "page not found"}]}, 404, API_HEADER)
    methods, handler = HANDLERS[r.kind]
    try:
        if request.method not in methods:
            raise RegistryError("UNSUPPORTED")
        if r.name:
            check_name(r.name)
        resp = await handler(request, r)
    except _RangeError as e:
        return e.response({**e.headers, **API_HEADER})
    except RegistryError as e:
        return e.response(API_HEADER)
    if not resp.prepared:
        resp.headers.update(API_HEADER)
    return resp


async def search(request: web.Request) -> web.StreamResponse:
    """The v1 search API docker's `search` speaks, over the repositories this registry holds."""
    if not _authorized(request):
        return _unauthorized(request)
    term = request.query.get("q", "").lower()
    try:
        limit = int(request.query.get("n") or 25)
    except ValueError:
        limit = 25
    names = [n for n in request.app[STORAGE].catalog() if term in n]
    results = [{"name": n, "description": "", "star_count": 0, "is_official": False, "is_automated": False}
               for n in names[:limit]]
    return _json({"num_pages": 1, "num_results": len(names), "page_size": limit, "page": 1, "query": term,
                  "results": results})


def build_app(cfg: ServerConfig) -> web.Application:
    app = web.Application(client_max_size=MANIFEST_MAX)
    app[CONFIG] = cfg
    app[STORAGE] = Storage(cfg.root)
    app[AUTH] = Htpasswd.from_file(cfg.htpasswd_path) if cfg.htpasswd_path else None
    app.router.add_get("/v1/search", search)
    app.router.add_route("*", "/v2/{tail:.*}", v2)
    app.router.add_route("*", "/v2", v2)
    return app
