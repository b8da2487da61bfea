"""Paths outside the resource tree: health, version, metrics, OpenAPI."""

from __future__ import annotations

import asyncio
import hashlib
import platform
from datetime import UTC, datetime
from typing import Any
from wsgiref.handlers import format_date_time

import orjson
from aiohttp import web

KUBE_VERSION = (1, 32, 0)


def version_info() -> dict[str, Any]:
    major, minor, patch = KUBE_VERSION
    machine = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    return {"major": str(major), "minor": str(minor), "gitVersion": f"v{major}.{minor}.{patch}+skiff",
            "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
            "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.23.0", "compiler": "gc",
            "platform": f"linux/{machine}"}


def _ctx(request: web.Request):
    from skiff.cluster.apiserver.app import CTX

    return request.app[CTX]


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok", content_type="text/plain")


async def readyz(request: web.Request) -> web.Response:
    if not _ctx(request).ready:
        return web.Response(status=500, text="[-]poststarthook/skiff-bootstrap failed: not finished\n"
                                             "readyz check failed", content_type="text/plain")
    return web.Response(text="ok", content_type="text/plain")


async def version(request: web.Request) -> web.Response:
    return web.json_response(version_info(), dumps=lambda v: orjson.dumps(v).decode())


async def metrics(request: web.Request) -> web.Response:
    return web.Response(text=_ctx(request).metrics.render(), content_type="text/plain",
                        charset="utf-8", headers={"X-Content-Type-Options": "nosniff"})


_cache: dict[str, bytes] = {}


def _openapi():
    from skiff.cluster.api import openapi  # large documents: built on first request, not at start

    return openapi


def _cached(key: str, build) -> bytes | None:
    if key not in _cache:
        doc = build()
        if doc is None:
            return None
        _cache[key] = orjson.dumps(doc)
    return _cache[key]


V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
V2_PROTOBUF_OLD = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"  # what kubectl asks for
_V2_TYPES = ("application/json", V2_PROTOBUF_OLD, V2_PROTOBUF)
_STARTED = datetime.now(UTC)


def v2_media_type(accept: str) -> str | None:
    """The form of /openapi/v2 to send, as kube-apiserver negotiates it (None: 406)."""
    clauses = []
    for i, part in enumerate((accept or "*/*").split(",")):
        fields = [f.strip() for f in part.split(";")]
        kind, _, sub = fields[0].lower().partition("/")
        q = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        clauses.append((-q, kind == "*", sub == "*", i, kind, sub))
    for *_, kind, sub in sorted(clauses):
        for offered in _V2_TYPES:
            offered_kind, _, offered_sub = offered.partition("/")
            if kind in (offered_kind, "*") and sub in (offered_sub, "*"):
                return V2_PROTOBUF if offered == V2_PROTOBUF_OLD else offered
    return None


def _v2_protobuf() -> bytes:
    if "v2.pb" not in _cache:
        from skiff.cluster.api import openapiv2_proto

        _cache["v2.pb"] = openapiv2_proto.document(_openapi().openapi_v2())
    return _cache["v2.pb"]


async def openapi_v2(request: web.Request) -> web.Response:
    media_type = v2_media_type(request.headers.get("Accept", ""))
    headers = {"Vary": "Accept"}
    if media_type is None:
        return web.Response(status=406, headers=headers)
    json_body = _cached("v2", _openapi().openapi_v2) or b""
    if "v2.etag" not in _cache:  # one ETag for both forms: the JSON's, as kube-openapi computes it
        _cache["v2.etag"] = b'"' + hashlib.sha512(json_body).hexdigest().upper().encode() + b'"'
    etag = _cache["v2.etag"].decode()
    headers.update({"Etag": etag, "Last-Modified": format_date_time(_STARTED.timestamp())})
    if etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    body = json_body if media_type == "application/json" else await asyncio.to_thread(_v2_protobuf)
    return web.Response(body=body, content_type=media_type, headers=headers)


async def openapi_v3_index(request: web.Request) -> web.Response:
    return web.Response(body=_cached("v3index", _openapi().openapi_v3_index), content_type="application/json")


async def openapi_v3_doc(request: web.Request) -> web.Response:
    path = request.match_info["path"]
    body = _cached("v3:" + path, lambda: _openapi().openapi_v3(path))
    if body is None:
        raise web.HTTPNotFound()
    cache = "public, immutable" if request.query.get("hash") else "no-cache"
    return web.Response(body=body, content_type="application/json", headers={"Cache-Control": cache})


ROUTES = [
    ("/healthz", healthz),
    ("/livez", healthz),
    ("/readyz", readyz),
    ("/version", version),
    ("/metrics", metrics),
    ("/openapi/v2", openapi_v2),
    ("/openapi/v3", openapi_v3_index),
    ("/openapi/v3/{path:.+}", openapi_v3_doc),
]
