"""The engine's services and settings as route handlers see them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from skiff.engine.events import EventBus


@dataclass
class EngineContext:
    """What route handlers reach through `request.app[CONTEXT]`."""

    images: Any
    containers: Any
    volumes: Any
    events: EventBus
    data_root: str
    prefix: str = "skiff"
    debug: bool = False
    dns: list[str] = field(default_factory=list)
    engine_id: str = ""
    started_ns: int = 0
    registry: Any = None  # engine/registry's RegistryService: pull, push, login, search
    network: Any = None  # engine/network's NetworkService


CONTEXT: web.AppKey[EngineContext] = web.AppKey("skiff_context", EngineContext)


def ctx(request: web.Request) -> EngineContext:
    return request.app[CONTEXT]
