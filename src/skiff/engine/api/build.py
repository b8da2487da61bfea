"""POST /build (the classic builder protocol: the context tarball in the body, progress as a
JSON message stream) and POST /build/prune (no BuildKit cache to prune)."""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import tempfile

import orjson
from aiohttp import web

from skiff.common.errors import InvalidArgument
from skiff.engine.api.context import CONTEXT, ctx
from skiff.engine.api.wire import json_line, json_response, open_stream, query_bool, query_int
from skiff.engine.build.service import BuildService
from skiff.engine.build.session import BuildOptions

_SERVICE: web.AppKey[BuildService] = web.AppKey("skiff_build", BuildService)


def _service(request: web.Request) -> BuildService:
    app = request.app
    if _SERVICE not in app:
        c = app[CONTEXT]
        app[_SERVICE] = BuildService(c.images, c.containers, c.data_root)
    return app[_SERVICE]


def _puller(request: web.Request):
    """FROM and COPY --from of an image not here: the registry client's pull, with the
    credentials the client sent in `X-Registry-Config` ({registry: auth config})."""
    registry = getattr(ctx(request), "registry", None)
    if registry is None:
        return None
    from skiff.engine.registry.dockerconfig import AuthConfig
    from skiff.oci.reference import parse_reference

    configs: dict = {}
    raw = request.headers.get("X-Registry-Config", "")
    if raw:
        try:
            configs = orjson.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        except (ValueError, binascii.Error):
            configs = {}

    async def pull(name: str, progress) -> None:
        domain = parse_reference(name).domain
        keys = (domain, "https://index.docker.io/v1/") if domain == "docker.io" else (domain,)
        entry: dict = next((configs[k] for k in keys if isinstance(configs, dict) and isinstance(configs.get(k), dict)),
                     {})
        fields = AuthConfig.__dataclass_fields__
        auth = AuthConfig(**{k: str(v) for k, v in entry.items() if k in fields and v is not None})
        await registry.pull(name, auth, progress)
    return pull


def _json_map(raw: str | None, what: str) -> dict[str, str]:
    if not raw:
        return {}
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidArgument(f"failed to parse {what}: invalid JSON") from None
    if not isinstance(value, dict):
        raise InvalidArgument(f"failed to parse {what}: expected a JSON object")
    # a null build arg is one the client named without a value: the Dockerfile's default stands
    return {str(k): str(v) for k, v in value.items() if v is not None}


# query parameter → the HostConfig field it sets on every RUN container
_RESOURCES = {"memory": "Memory", "memswap": "MemorySwap", "cpushares": "CpuShares", "cpuperiod": "CpuPeriod",
              "cpuquota": "CpuQuota", "shmsize": "ShmSize"}


def _json_list(raw: str | None) -> list[str]:
    if not raw:
        return []
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidArgument("failed to parse cachefrom: invalid JSON") from None
    return [str(v) for v in value] if isinstance(value, list) else []


def _run_host_config(query) -> dict:
    """Resources, extra hosts, cgroup parent and ulimits the build asks for its RUN containers."""
    hc: dict = {}
    for param, field in _RESOURCES.items():
        value = query_int(query, param)
        if value:
            hc[field] = value
    if query.get("cpusetcpus"):
        hc["CpusetCpus"] = query["cpusetcpus"]
    if query.get("cgroupparent"):
        hc["CgroupParent"] = query["cgroupparent"]
    hosts = [h for h in query.get("extrahosts", "").replace(",", " ").split() if h]
    if hosts:
        hc["ExtraHosts"] = hosts
    if query.get("ulimits"):
        try:
            hc["Ulimits"] = orjson.loads(query["ulimits"])
        except orjson.JSONDecodeError:
            raise InvalidArgument("failed to parse ulimits: invalid JSON") from None
    return hc


def options(query) -> BuildOptions:
    if query.get("remote"):
        raise InvalidArgument(f"remote build contexts are not supported by this engine ({query['remote']}): "
                              "send the context as a tarball in the request body")
    if query.get("version") == "2":
        raise InvalidArgument("BuildKit is not supported by this engine: build with DOCKER_BUILDKIT=0 "
                              "(the classic builder)")
    tags = [t for t in query.getall("t", []) if t]
    return BuildOptions(
        run_host_config=_run_host_config(query), cache_from=_json_list(query.get("cachefrom")),
        dockerfile=query.get("dockerfile") or "Dockerfile", tags=tags,
        build_args=_json_map(query.get("buildargs"), "build args"), no_cache=query_bool(query, "nocache"),
        pull=query_bool(query, "pull"), quiet=query_bool(query, "q"), target=query.get("target", ""),
        labels=_json_map(query.get("labels"), "labels"), rm=query_bool(query, "rm", True),
        force_rm=query_bool(query, "forcerm"), network=query.get("networkmode", ""),
        platform=query.get("platform", ""))


async def build(request: web.Request) -> web.StreamResponse:
    opts = options(request.query)
    service = _service(request)
    opts.pull_image = _puller(request)
    tmp_dir = os.path.join(ctx(request).data_root, "tmp")
    os.makedirs(tmp_dir, exist_ok=True)
    with tempfile.TemporaryFile(dir=tmp_dir) as body:
        async for chunk in request.content.iter_chunked(1 << 20):
            body.write(chunk)
        body.flush()
        body.seek(0)
        prepared = await service.prepare(body, opts)
    resp = await open_stream(request)

    async def emit(message: dict) -> None:
        with contextlib.suppress(ConnectionError):
            await resp.write(json_line(message))

    await service.run(prepared, emit)
    with contextlib.suppress(ConnectionError):
        await resp.write_eof()
    return resp


async def prune(request: web.Request) -> web.Response:
    """The classic builder keeps its cache in intermediate images, which `image prune` removes."""
    return json_response({"CachesDeleted": None, "SpaceReclaimed": 0})


async def session(request: web.Request) -> web.Response:
    raise NotImplementedError  # BuildKit sessions: the docker CLI then falls back to the classic builder


ROUTES = [
    ("POST", "/build", build),
    ("POST", "/build/prune", prune),
    ("POST", "/session", session),
]
