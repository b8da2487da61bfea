"""Paths outside the resource tree: health, version, metrics, OpenAPI."""

from __future__ import annotations

import platform
from typing import Any

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


async def openapi_v2(request: web.Request) -> web.Response:
    return web.Response(body=_cached("v2", _openapi().openapi_v2), content_type="application/json")


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
