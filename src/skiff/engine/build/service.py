"""BuildService: a context tarball and options in, a tagged image and dockerd's progress
messages out. `prepare` does everything that can fail before the first message (so the API
still answers with an HTTP error), `run` streams the steps."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from typing import Any, BinaryIO

from skiff.common.errors import InvalidArgument, SkiffError
from skiff.engine.build import context as ctxfiles
from skiff.engine.build.commit import finish_image
from skiff.engine.build.executor import run_build
from skiff.engine.build.instructions import Dockerfile, parse_dockerfile, stages_for_target
from skiff.engine.build.session import Build, BuildError, BuildOptions, Emit
from skiff.oci.reference import parse_reference


@dataclass
class Prepared:
    dockerfile: Dockerfile
    work_dir: str
    context_dir: str
    opts: BuildOptions


class BuildService:
    def __init__(self, images: Any, containers: Any, data_root: str):
        self.images = images
        self.containers = containers
        self.root = os.path.join(data_root, "build")
        # work dirs of builds an engine stop interrupted
        if os.path.isdir(self.root):
            for name in os.listdir(self.root):
                _remove_tree(os.path.join(self.root, name))

    async def prepare(self, body: BinaryIO, opts: BuildOptions) -> Prepared:
        """Unpack the context and parse the Dockerfile; InvalidArgument (400) on bad input."""
        for tag in opts.tags:
            try:
                parse_reference(tag)
            except InvalidArgument:
                raise InvalidArgument(f'invalid reference format: repository name ({tag}) must be lowercase'
                                      if tag.lower() != tag else f"invalid tag \"{tag}\": invalid reference format"
                                      ) from None
        os.makedirs(self.root, exist_ok=True)
        work = tempfile.mkdtemp(prefix="b-", dir=self.root)
        context_dir = os.path.join(work, "context")
        try:
            await asyncio.to_thread(ctxfiles.unpack_context, body, context_dir)
            await asyncio.to_thread(ctxfiles.apply_dockerignore, context_dir, opts.dockerfile)
            text = await asyncio.to_thread(ctxfiles.read_dockerfile, context_dir, opts.dockerfile)
            df = parse_dockerfile(text, opts.dockerfile or "Dockerfile")
            stages_for_target(df, opts.target)
        except BaseException:
            await asyncio.to_thread(shutil.rmtree, work, True)
            raise
        return Prepared(df, work, context_dir, opts)

    async def run(self, prepared: Prepared, emit: Emit) -> str | None:
        """Stream the build; returns the image id, or None after sending the error message."""
        opts = prepared.opts
        b = Build(self.images, self.containers, prepared.context_dir, os.path.join(prepared.work_dir, "tmp"),
                  opts, emit)
        os.makedirs(b.tmp_dir, exist_ok=True)
        try:
            for w in prepared.dockerfile.warnings:
                await b.say(w + "\n")
            if opts.cache_from:
                await b.say("[Warning] --cache-from is not supported by this engine: the local build cache "
                            "is used\n")
            image_id = await run_build(b, prepared.dockerfile)
            await self._finish(b, image_id)
            return image_id
        except SkiffError as e:
            detail: dict = {"message": e.message}
            if isinstance(e, BuildError) and e.code is not None:
                detail["code"] = e.code
            await emit({"errorDetail": detail, "error": e.message})
            return None
        finally:
            await asyncio.to_thread(_remove_tree, prepared.work_dir)

    async def _finish(self, b: Build, image_id: str) -> None:
        short = image_id.removeprefix("sha256:")[:12]
        opts = b.opts
        await asyncio.to_thread(finish_image, self.images, image_id)
        if opts.quiet:
            await b.emit({"stream": image_id + "\n"})
        else:
            await b.emit({"aux": {"ID": image_id}})
        unused = sorted(k for k in opts.build_args if k not in b.used_args and not _predefined(k))
        if unused:
            await b.say(f"[Warning] One or more build-args [{' '.join(unused)}] were not consumed\n")
        await b.say(f"Successfully built {short}\n")
        for tag in opts.tags:
            self.images.tag(image_id, tag)
            await b.say(f"Successfully tagged {parse_reference(tag).familiar()}\n")


def _predefined(name: str) -> bool:
    from skiff.engine.build.dispatch import PROXY_ARGS
    return name in PROXY_ARGS


def _remove_tree(path: str) -> None:
    """The work dir; a mount left by a crash under it is detached first."""
    with contextlib.suppress(OSError):
        with open("/proc/self/mountinfo") as f:
            points = [line.split()[4] for line in f if line.split()[4].startswith(path + "/")]
        from skiff.engine.containers.hostfs import unmount
        for p in sorted(points, reverse=True):
            unmount(p)
    shutil.rmtree(path, ignore_errors=True)
