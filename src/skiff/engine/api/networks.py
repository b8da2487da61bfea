"""/networks: the two built-in networks this engine supports so far (`host`, `none`).

User-defined and bridge networks belong to the networking work; until it lands, creating
one is refused with a clear message instead of a silent 404.
"""

from __future__ import annotations

import hashlib

from aiohttp import web

from skiff.common.errors import Forbidden, NotFound, SkiffError
from skiff.engine.api.context import ctx
from skiff.engine.api.wire import json_response, parse_filters

BUILTIN = ("host", "none")


class NotSupportedYet(SkiffError):
    status = 501


def _network(name: str, engine_id: str) -> dict:
    nid = hashlib.sha256(f"{engine_id}/{name}".encode()).hexdigest()
    return {
        "Name": name, "Id": nid, "Created": "0001-01-01T00:00:00Z", "Scope": "local",
        "Driver": "host" if name == "host" else "null", "EnableIPv4": False, "EnableIPv6": False,
        "IPAM": {"Driver": "default", "Options": None, "Config": None}, "Internal": False, "Attachable": False,
        "Ingress": False, "ConfigFrom": {"Network": ""}, "ConfigOnly": False, "Containers": {}, "Options": {},
        "Labels": {},
    }


def _all(request: web.Request) -> list[dict]:
    return [_network(n, ctx(request).engine_id) for n in BUILTIN]


def _find(request: web.Request, ref: str) -> dict:
    for net in _all(request):
        if ref == net["Name"] or (len(ref) >= 3 and net["Id"].startswith(ref)):
            return net
    raise NotFound(f"network {ref} not found")


def _matches(net: dict, filters: dict[str, list[str]]) -> bool:
    for key, values in filters.items():
        if key == "name" and not any(v in net["Name"] for v in values):
            return False
        if key == "id" and not any(net["Id"].startswith(v) for v in values):
            return False
        if key == "driver" and net["Driver"] not in values:
            return False
        if key == "type" and "builtin" not in values:
            return False
        if key in ("label", "dangling"):
            return False
    return True


async def list_networks(request: web.Request) -> web.Response:
    filters = parse_filters(request.query.get("filters"))
    return json_response([n for n in _all(request) if _matches(n, filters)])


async def inspect(request: web.Request) -> web.Response:
    return json_response(_find(request, request.match_info["id"]))


async def create(request: web.Request) -> web.Response:
    raise NotSupportedYet("creating networks is not supported by this skiff engine yet: "
                          "containers can use --network none or --network host")


async def remove(request: web.Request) -> web.Response:
    net = _find(request, request.match_info["id"])
    raise Forbidden(f"{net['Name']} is a pre-defined network and cannot be removed")


async def connect(request: web.Request) -> web.Response:
    _find(request, request.match_info["id"])
    raise NotSupportedYet("connecting containers to networks is not supported by this skiff engine yet")


async def prune(request: web.Request) -> web.Response:
    return json_response({"NetworksDeleted": None})


ROUTES = [
    ("GET", "/networks", list_networks),
    ("POST", "/networks/create", create),
    ("POST", "/networks/prune", prune),
    ("GET", "/networks/{id}", inspect),
    ("DELETE", "/networks/{id}", remove),
    ("POST", "/networks/{id}/connect", connect),
    ("POST", "/networks/{id}/disconnect", connect),
]
