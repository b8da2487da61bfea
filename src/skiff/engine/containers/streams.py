"""Streams in and out of containers: cp/export, logs, attach, resize, exec, commit.
Mixed into ContainerService."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from skiff.common.errors import Conflict, InvalidArgument, SkiffError
from skiff.engine.containers import logs as logreader
from skiff.engine.containers.attach import AttachSession, ShimAttach, parse_detach_keys

# The mixin sees ContainerService's attributes; typed as Any to keep the two modules acyclic.
_Base: Any = object


class StreamMixin(_Base):
    # --- files -------------------------------------------------------------------------------
    async def archive_head(self, ref: str, path: str) -> dict:
        """The path stat for the X-Docker-Container-Path-Stat header:
        {"name", "size", "mode" (Go FileMode bits), "mtime" (RFC 3339), "linkTarget"}."""
        return await self.files.stat(self.get(ref), path)

    async def archive_get(self, ref: str, path: str) -> tuple[dict, AsyncIterator[bytes]]:
        """(stat as in archive_head, tar stream chunks)."""
        return await self.files.get(self.get(ref), path)

    async def archive_put(self, ref: str, path: str, body: AsyncIterator[bytes],
                          no_overwrite_dir_non_dir: bool = False, copy_uid_gid: bool = False) -> None:
        """Extract a tar stream into directory `path` inside the container."""
        await self.files.put(self.get(ref), path, body, no_overwrite_dir_non_dir, copy_uid_gid)

    async def export(self, ref: str) -> AsyncIterator[bytes]:
        """The container's filesystem as tar stream chunks."""
        c = self.get(ref)
        async for chunk in self.files.export(c):
            yield chunk

    # --- logs, attach ------------------------------------------------------------------------
    async def logs(self, ref: str, stdout: bool = False, stderr: bool = False, follow: bool = False,
                   since: float = 0, until: float = 0, timestamps: bool = False,
                   tail: str = "all") -> tuple[bool, AsyncIterator[tuple[int, bytes]]]:
        """(tty, chunks) where each chunk is (stream 1=stdout 2=stderr, bytes); with timestamps
        each line is prefixed `RFC3339Nano ` already. The API frames chunks unless tty."""
        c = self.get(ref)
        if not stdout and not stderr:
            raise InvalidArgument("You must choose at least one stream")
        if c.host_config["LogConfig"]["Type"] == "none":
            raise InvalidArgument('configured logging driver does not support reading')
        opts = logreader.LogOptions(stdout=stdout, stderr=stderr, since=float(since or 0), until=float(until or 0),
                                    timestamps=timestamps, tail=logreader.parse_tail(tail))
        live = self.log_path(c.id)
        if follow:
            return c.tty, logreader.follow(live, opts, lambda: self.is_running(c.id))

        async def once() -> AsyncIterator[tuple[int, bytes]]:
            for item in await asyncio.to_thread(logreader.read_existing, live, opts):
                yield item

        return c.tty, once()

    async def attach(self, ref: str, stdin: bool = False, stdout: bool = False, stderr: bool = False,
                     stream: bool = True, logs: bool = False, detach_keys: str | None = None) -> AttachSession:
        """May be called before start (docker run attaches first): output begins at start."""
        c = self.get(ref)
        keys = parse_detach_keys(detach_keys)
        prefix = None
        if logs:
            opts = logreader.LogOptions(stdout=stdout, stderr=stderr)
            prefix = await asyncio.to_thread(logreader.read_existing, self.log_path(c.id), opts)
        session = ShimAttach(c.tty, stdin and bool(c.config.get("OpenStdin")), stdout, stderr, keys, prefix,
                             on_detach=lambda: self._publish(c, "detach"))
        if not stream:
            session.abandon()
            return session
        self._publish(c, "attach")
        if c.state.status in ("running", "paused"):
            await session.connect(self.runtime.attach_path(c.id))
        else:
            self._attach_waiters.setdefault(c.id, []).append(session)
        return session

    async def resize(self, ref: str, height: int, width: int) -> None:
        c = self.get(ref)
        if not c.state.running:
            raise Conflict(f"Container {c.id} is not running")
        if height or width:
            await asyncio.to_thread(self.runtime.resize, c.id, None, height, width)
        self._publish(c, "resize", height=height, width=width)

    # --- exec --------------------------------------------------------------------------------
    async def exec_create(self, ref: str, body: dict) -> str:
        """Docker's ExecConfig body → exec id (64 hex)."""
        return await self.execs.create(self.get(ref), body)

    async def exec_start(self, exec_id: str, detach: bool = False, tty: bool | None = None,
                         console_size: list[int] | None = None,
                         detach_keys: str | None = None) -> AttachSession | None:
        """Starts the exec; returns the stream session, or None when detach."""
        return await self.execs.start(exec_id, detach, tty, console_size, detach_keys)

    async def exec_inspect(self, exec_id: str) -> dict:
        """Docker's ExecInspectResponse."""
        return self.execs.inspect(exec_id)

    async def exec_resize(self, exec_id: str, height: int, width: int) -> None:
        await self.execs.resize(exec_id, height, width)

    # --- images ------------------------------------------------------------------------------
    async def commit(self, ref: str, repo: str | None = None, tag: str | None = None, comment: str = "",
                     author: str = "", changes: list[str] | None = None, pause: bool = True,
                     config: dict | None = None) -> str:
        """POST /commit → the new image id (`sha256:...`)."""
        c = self.get(ref)
        paused_here = False
        if pause and c.state.status == "running":
            with contextlib.suppress(SkiffError):
                await asyncio.to_thread(self.runtime.pause, c.id)
                paused_here = True
        try:
            base = {k: v for k, v in c.config.items() if k not in ("Hostname", "Image")}
            if config:
                base.update({k: v for k, v in config.items() if v not in (None, "", [], {})})
            image_id = await self.images.commit(c.id, c.image_id, repo=repo, tag=tag, author=author,
                                                comment=comment, changes=changes, config=base, container_id=c.id)
        finally:
            if paused_here:
                with contextlib.suppress(SkiffError):
                    await asyncio.to_thread(self.runtime.resume, c.id)
        self._publish(c, "commit", comment=comment)
        return image_id
