"""The API server's aiohttp application: authentication, errors as Status, metrics, and the routes."""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
from aiohttp import web

from skiff.cluster.api import registry
from skiff.cluster.api.registry import Resource
from skiff.cluster.apimachinery.errors import (
    ApiError,
    internal,
    method_not_supported,
    too_large,
    unauthorized,
)
from skiff.cluster.apiserver import (
    deletes,
    discovery,
    metricsapi,
    nonresource,
    paths,
    podstreams,
    reads,
    subresources,
    watch,
    writes,
)
from skiff.cluster.apiserver.authn import PUBLIC_PATHS, User, service_account_user
from skiff.cluster.apiserver.authz import gate as authz_gate
from skiff.cluster.apiserver.call import Call
from skiff.cluster.apiserver.context import ApiContext
from skiff.cluster.apiserver.negotiation import parse_accept

log = logging.getLogger("skiff.apiserver")
CTX = web.AppKey("ctx", ApiContext)
USER = web.RequestKey("user", User)
INFO = web.RequestKey("info", paths.RequestInfo)
RES = web.RequestKey("res", Resource)
JSON = "application/json"


def json_response(status: int, body: Any, content_type: str = JSON, warnings: list[str] | None = None
                  ) -> web.Response:
    headers = {"Cache-Control": "no-cache, private"}
    resp = web.Response(status=status, body=orjson.dumps(body), content_type=content_type.split(";")[0],
                        headers=headers)
    if ";" in content_type:
        resp.headers["Content-Type"] = content_type
    for w in warnings or []:
        resp.headers.add("Warning", '299 - "' + w.replace('"', '\\"') + '"')
    return resp


def status_response(err: ApiError, warnings: list[str] | None = None) -> web.Response:
    return json_response(err.code, err.status(), warnings=warnings)


def not_found_response() -> web.Response:
    return status_response(ApiError(404, "NotFound", "the server could not find the requested resource", {}))


@web.middleware
async def serve(request: web.Request, handler) -> web.StreamResponse:
    ctx = request.app[CTX]
    started = time.monotonic()
    peercert = request.transport.get_extra_info("peercert") if request.transport else None
    authorization = request.headers.get("Authorization", "")
    user = ctx.authenticator.authenticate(peercert, authorization)
    if user is None and authorization:
        user = await _service_account(ctx, authorization)
    request[USER] = user or User("system:anonymous", groups=("system:unauthenticated",))
    try:
        if user is None and request.path not in PUBLIC_PATHS:
            resp: web.StreamResponse = status_response(unauthorized())
        else:
            early = None
            if user is not None and ctx.authorizer is not None:  # impersonation, 403s, reviews (authz/gate.py)
                request[USER], early = await authz_gate.check(ctx.authorizer, request, user)
            resp = early if early is not None else await handler(request)
    except ApiError as e:
        resp = status_response(e)
    except web.HTTPRequestEntityTooLarge:
        resp = status_response(too_large(f"limit is {ctx.settings.max_body}"))
    except web.HTTPException:
        raise
    except Exception as e:  # a bug must not take the server down; the client gets a 500 Status
        log.exception("internal error serving %s %s", request.method, request.path)
        resp = status_response(internal(f"{type(e).__name__}: {e}"))
    info = request.get(INFO)
    if info is not None:
        res = request.get(RES)
        scope = "cluster" if not info.namespace or (res and not res.namespaced) else "namespace"
        if info.verb in ("list", "watch") and not info.namespace and res and res.namespaced:
            scope = "cluster"
        verb = info.verb.upper() if info.verb != "deletecollection" else "DELETE"
        verb = {"GET": "GET", "LIST": "LIST", "WATCH": "WATCH", "CREATE": "POST", "UPDATE": "PUT",
                "PATCH": "PATCH", "DELETE": "DELETE"}.get(verb, verb)
        ctx.metrics.request(verb, info.group, info.version, info.resource, info.subresource, scope,
                            resp.status, time.monotonic() - started)
    return resp


async def _service_account(ctx: ApiContext, authorization: str) -> User | None:
    """A service account token: signed here, unexpired, and its account (same uid) still there."""
    claims = ctx.authenticator.service_account(authorization)
    if claims is None:
        return None
    sa = await ctx.get_object("", "serviceaccounts", claims.namespace, claims.name)
    if sa is None or sa["metadata"].get("uid") != claims.uid:
        return None
    return service_account_user(claims)


async def resource(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CTX]
    watching = request.query.get("watch", "") in ("1", "true", "True")
    info = paths.parse(request.method, request.path, watching)
    if info is None:
        return not_found_response()
    request[INFO] = info
    res = registry.find(info.group, info.version, info.resource)
    if res is None:
        return not_found_response()
    request[RES] = res
    if info.namespace and not res.namespaced and res.plural != "namespaces":
        return not_found_response()
    if res.namespaced and info.name and not info.namespace:
        return not_found_response()
    if res.namespaced and info.verb in ("create", "deletecollection") and not info.namespace:
        raise method_not_supported(res.plural, info.verb, res.group)
    if info.subresource and info.subresource.split("/", 1)[0] not in res.subresources:
        return not_found_response()
    if not info.subresource and info.verb not in res.verbs:
        raise method_not_supported(res.plural, info.verb, res.group)
    body = b""
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and request.can_read_body:
        if (request.content_length or 0) > ctx.settings.max_body:
            raise too_large(f"limit is {ctx.settings.max_body}")
        body = await request.read()
    call = Call(ctx, res, info, request.query, request.headers.get("Content-Type", ""), body, request[USER],
                parse_accept(request.headers.get("Accept", "")), request.headers.get("User-Agent", ""))
    if info.subresource in podstreams.STREAMED:  # pods/log, exec, attach, portforward: to the kubelet
        return await podstreams.serve(call, request)
    if res.plural == "nodes" and not res.group and info.subresource.split("/", 1)[0] == "proxy":
        from skiff.cluster.apiserver import nodeproxy

        return await nodeproxy.serve(call, request)
    if res.plural in ("pods", "services") and not res.group and info.subresource.split("/", 1)[0] == "proxy":
        from skiff.cluster.apiserver import podproxy

        return await podproxy.serve(call, request)
    if info.verb == "watch":
        return await watch.watch(call, request)
    try:
        status, out = await _dispatch(call)
    except ApiError as e:  # warnings found before the failure go with it (fieldValidation=Warn), as upstream
        return status_response(e, call.warnings)
    return json_response(status, out, warnings=call.warnings)


async def _dispatch(call: Call) -> tuple[int, dict[str, Any]]:
    verb = call.info.verb
    if call.info.subresource:
        return await subresources.dispatch(call)
    if verb == "get":
        return await reads.get(call)
    if verb == "list":
        return await reads.list_(call)
    if verb == "create":
        return await writes.create(call)
    if verb == "update":
        return await writes.update(call)
    if verb == "patch":
        return await writes.patch_(call)
    if verb == "delete":
        return await deletes.delete(call)
    if verb == "deletecollection":
        return await deletes.delete_collection(call)
    raise method_not_supported(call.res.plural, verb, call.res.group)


async def discovery_core(request: web.Request) -> web.Response:
    if discovery.wants_aggregated(request.headers.get("Accept", "")):
        return json_response(200, discovery.aggregated(core=True), discovery.AGGREGATED_TYPE)
    return json_response(200, discovery.api_versions(request.host))


async def discovery_groups(request: web.Request) -> web.Response:
    if discovery.wants_aggregated(request.headers.get("Accept", "")):
        return json_response(200, metricsapi.add_to_aggregated(discovery.aggregated(core=False)),
                             discovery.AGGREGATED_TYPE)
    return json_response(200, metricsapi.add_to_group_list(discovery.api_group_list()))


async def discovery_core_version(request: web.Request) -> web.Response:
    doc = discovery.resource_list("", request.match_info["version"])
    return json_response(200, doc) if doc else not_found_response()


async def discovery_group(request: web.Request) -> web.Response:
    doc = discovery.api_group(request.match_info["group"])
    return json_response(200, doc) if doc else not_found_response()


async def discovery_group_version(request: web.Request) -> web.Response:
    doc = discovery.resource_list(request.match_info["group"], request.match_info["version"])
    return json_response(200, doc) if doc else not_found_response()


def make_app(ctx: ApiContext) -> web.Application:
    app = web.Application(middlewares=[serve], client_max_size=ctx.settings.max_body)
    app[CTX] = ctx
    r = app.router
    for path, handler in nonresource.ROUTES:
        r.add_get(path, handler)
    metricsapi.add_routes(r, ctx)  # metrics.k8s.io, before the generic group routes
    r.add_get("/api", discovery_core)
    r.add_get("/api/", discovery_core)
    r.add_get("/apis", discovery_groups)
    r.add_get("/apis/", discovery_groups)
    r.add_get("/api/{version}", discovery_core_version)
    r.add_get("/apis/{group}", discovery_group)
    r.add_get("/apis/{group}/{version}", discovery_group_version)
    r.add_route("*", "/api/{version}/{tail:.+}", resource)
    r.add_route("*", "/apis/{group}/{version}/{tail:.+}", resource)
    return app
