"""One build's state and the step commit every instruction ends with: probe the cache, else
store the step's image and report its id, as dockerd's classic builder prints them."""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from skiff.common.errors import NotFound, SkiffError
from skiff.engine.build import cache
from skiff.engine.build.commit import commit_step
from skiff.engine.build.dispatch import StageState

MAX_LAYERS = 127
Emit = Callable[[dict], Awaitable[None]]


@dataclass
class BuildOptions:
    dockerfile: str = "Dockerfile"
    tags: list[str] = field(default_factory=list)
    build_args: dict[str, str] = field(default_factory=dict)
    no_cache: bool = False
    pull: bool = False
    quiet: bool = False
    target: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    rm: bool = True
    force_rm: bool = False
    network: str = ""
    platform: str = ""
    run_host_config: dict = field(default_factory=dict)  # resources, extra hosts, ... of RUN containers
    cache_from: list[str] = field(default_factory=list)
    # the registry client's pull (name, progress), given by the API; None: no pulling
    pull_image: Callable[[str, Emit], Awaitable[Any]] | None = None


class BuildError(SkiffError):
    """A step failed; the message is what the stream's `error` says."""

    def __init__(self, message: str, code: int | None = None):
        super().__init__(message)
        self.code = code


@dataclass
class Build:
    """One build's moving parts, handed to the step implementations."""

    images: Any
    containers: Any
    context_dir: str
    tmp_dir: str
    opts: BuildOptions
    emit: Emit
    escape: str = "\\"
    stages: dict[str, str] = field(default_factory=dict)  # stage name / index → image id
    used_args: set[str] = field(default_factory=set)

    async def say(self, text: str) -> None:
        await self.progress({"stream": text})

    async def progress(self, message: dict) -> None:
        """A progress message; `-q` builds send none."""
        if not self.opts.quiet:
            await self.emit(message)


async def commit_metadata(b: Build, state: StageState, comment: str) -> None:
    probe = {**state.run, "Cmd": [*state.shell, "#(nop) ", comment]}
    if not await probe_cache(b, state, probe):
        await commit(b, state, probe, " ".join(probe["Cmd"]), None)


async def probe_cache(b: Build, state: StageState, probe: dict) -> bool:
    if b.opts.no_cache:
        return False
    hit = cache.find_cached(b.images, state.image_id, probe)
    if hit is None:
        return False
    image = b.images.get(hit)
    state.image_id = hit
    state.image = copy.deepcopy(image.config)
    state.run = copy.deepcopy(image.container_config)
    await b.say(f" ---> Using cache\n ---> {hit.removeprefix('sha256:')[:12]}\n")
    return True


async def commit(b: Build, state: StageState, probe: dict, created_by: str, snapshot_key: str | None,
                 before_id: str = "", container: bool = False, keep: bool = False) -> None:
    """Commit the step (unless it was a cache hit, which the caller checked)."""
    layers = len(state.image.get("rootfs", {}).get("diff_ids", []))
    if snapshot_key and layers >= MAX_LAYERS:
        raise BuildError(f"failed to commit the step: max depth exceeded (an image can have at most "
                         f"{MAX_LAYERS} layers)")
    image_id, config = await asyncio.to_thread(commit_step, b.images, state.image, state.image_id, state.run,
                                               probe, created_by, snapshot_key, container, keep)
    state.image_id, state.image = image_id, config
    state.run = copy.deepcopy(config.get("config") or {})
    await b.say(f"{before_id} ---> {image_id.removeprefix('sha256:')[:12]}\n")


async def remove_container(b: Build, cid: str) -> None:
    with contextlib.suppress(SkiffError):
        await b.containers.remove(cid, force=True, volumes=True)


async def resolve_image(b: Build, name: str, always_pull: bool = False) -> Any:
    """A local image, pulled first when missing (or always, with --pull) if the engine can pull."""
    pull = b.opts.pull_image
    if pull is not None and always_pull:
        await pull(name, b.progress)
        return b.images.get(name)
    try:
        return b.images.get(name)
    except NotFound:
        if pull is None:
            raise BuildError(f"Unable to find image '{name}' locally, and this engine cannot pull images") from None
        await pull(name, b.progress)
        return b.images.get(name)
