"""The aiohttp application: versioned routes, dockerd's error shapes, the services it calls.

Each resource module exposes `ROUTES`, a list of (method, path, handler). Every route is
served both bare and under `/v{version}`; the version is checked against what we serve.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from skiff.common.errors import SkiffError
from skiff.engine.api import build, containers, images, networks, registry, system, volumes
from skiff.engine.api import exec as exec_routes
from skiff.engine.api.context import CONTEXT, EngineContext
from skiff.engine.api.system import SERVER
from skiff.engine.api.versions import API_VERSION, check_version
from skiff.engine.api.wire import error_response

log = logging.getLogger("skiff.engine.api")

COMMON_HEADERS = {"Server": SERVER, "API-Version": API_VERSION, "OSType": "linux"}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        version = request.match_info.get("api_version")
        if version is not None:
            check_version(version)
        return await handler(request)
    except SkiffError as e:
        if e.status == 304:
            return web.Response(status=304)
        if e.status >= 500:
            log.warning("%s %s: %s", request.method, request.path, e.message)
        return error_response(e.message, e.status)
    except web.HTTPNotFound:
        return error_response("page not found", 404)
    except web.HTTPMethodNotAllowed:
        return error_response("page not found", 404)
    except web.HTTPException:
        raise
    except NotImplementedError:
        return error_response(f"{request.method} {request.path}: not implemented in this engine yet", 501)
    except (ConnectionError, OSError) as e:
        if request.transport is None or request.transport.is_closing():
            raise
        log.exception("%s %s failed", request.method, request.path)
        return error_response(str(e), 500)
    except Exception as e:  # the engine keeps serving whatever a handler does
        log.exception("%s %s failed", request.method, request.path)
        return error_response(f"{type(e).__name__}: {e}", 500)


async def _common_headers(request: web.Request, response: web.StreamResponse) -> None:
    """dockerd puts these on every response, not only on /_ping."""
    response.headers.update(COMMON_HEADERS)


def build_app(ctx: EngineContext) -> web.Application:
    app = web.Application(middlewares=[errors_middleware], client_max_size=1024**4)
    app.on_response_prepare.append(_common_headers)
    app[CONTEXT] = ctx
    for module in (system, containers, exec_routes, images, registry, volumes, networks, build):
        for method, path, handler in module.ROUTES:
            app.router.add_route(method, path, handler)
            app.router.add_route(method, "/v{api_version:[0-9]+(?:\\.[0-9]+)*}" + path, handler)
    return app
