"""/build and /build/prune until the image builder lands: there is no build cache to prune,
and a build is refused with a clear message rather than a bare 404."""

from __future__ import annotations

from aiohttp import web

from skiff.common.errors import SkiffError
from skiff.engine.api.wire import json_response


class BuildsNotSupportedYet(SkiffError):
    status = 501


async def build(request: web.Request) -> web.Response:
    raise BuildsNotSupportedYet("building images is not supported by this skiff engine yet; "
                                "use docker import or docker commit to make images")


async def prune(request: web.Request) -> web.Response:
    return json_response({"CachesDeleted": None, "SpaceReclaimed": 0})


ROUTES = [
    ("POST", "/build", build),
    ("POST", "/build/prune", prune),
]
