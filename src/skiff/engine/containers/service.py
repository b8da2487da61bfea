"""ContainerService: Docker's container verbs over the image service, the runtime and volumes.

Every public method takes a container reference (full id, unique id prefix or name, with or
without the leading "/") and returns Docker's JSON shapes, so `engine/api` only serializes.
Errors are `skiff.common.errors` classes carrying Docker's messages.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any


class AttachSession:
    """One attach (or exec) stream, pumped by the API between the hijacked connection and the shim.

    - `tty`: True when the process has a terminal (raw stream, no multiplexing).
    - `async for chunk in session.output()`: bytes ready for the wire (Docker's 8-byte framed
      stream unless `tty`); ends when the process's output ends or the session is closed.
    - `await session.write_stdin(data) -> bool`: forwards stdin; returns False once the detach
      key sequence was seen (the API then closes the connection; the container keeps running).
    - `await session.close_stdin()`: the client half-closed its side (stdin EOF).
    - `await session.close()`: drop the connection to the shim.
    """

    tty: bool


class ContainerService:
    """Built once by engine/daemon.py:

    `ContainerService(root, images, runtime, volumes, events, prefix)` where `root` is the data
    root (containers live under `root/containers/<id>`), `images` an ImageService, `runtime` a
    Runtime, `volumes` a VolumeService, `events` the EventBus, `prefix` the instance prefix.
    """

    async def restore(self) -> None:
        """At engine start: load records, re-adopt live shims, record exits, restart `always` ones."""

    async def shutdown(self) -> None:
        """At engine stop: stop supervising (containers keep running, as documented)."""

    # --- lifecycle -------------------------------------------------------------------------
    async def create(self, body: dict, name: str | None = None) -> tuple[str, list[str]]:
        """POST /containers/create: body is Docker's ContainerCreate JSON. Returns (id, warnings)."""
        raise NotImplementedError

    async def start(self, ref: str) -> None:
        """Raises NotModified when already running."""
        raise NotImplementedError

    async def stop(self, ref: str, timeout: int | None = None, signal: str | None = None) -> None:
        """StopSignal, then SIGKILL after timeout (default: the container's StopTimeout or 10).
        Raises NotModified when not running."""
        raise NotImplementedError

    async def kill(self, ref: str, signal: str | int = "KILL") -> None:
        """Raises Conflict `Container <id> is not running` when not running."""
        raise NotImplementedError

    async def restart(self, ref: str, timeout: int | None = None, signal: str | None = None) -> None:
        raise NotImplementedError

    async def pause(self, ref: str) -> None:
        raise NotImplementedError

    async def unpause(self, ref: str) -> None:
        raise NotImplementedError

    async def wait(self, ref: str, condition: str = "not-running") -> dict:
        """condition: not-running | next-exit | removed. Returns {"StatusCode": int, "Error": None
        or {"Message": str}}. The reference is resolved before awaiting, so callers can send the
        200 header first only after this coroutine has started (NotFound is raised eagerly)."""
        raise NotImplementedError

    async def remove(self, ref: str, force: bool = False, volumes: bool = False, link: bool = False) -> None:
        raise NotImplementedError

    async def rename(self, ref: str, new_name: str) -> None:
        raise NotImplementedError

    async def update(self, ref: str, body: dict) -> dict:
        """POST /containers/{id}/update. Returns {"Warnings": [...]}."""
        raise NotImplementedError

    # --- inspection ------------------------------------------------------------------------
    async def inspect(self, ref: str, size: bool = False) -> dict:
        """Docker's ContainerInspectResponse."""
        raise NotImplementedError

    async def list(self, all: bool = False, limit: int = -1, size: bool = False,
                   filters: dict[str, list[str]] | None = None) -> list[dict]:
        """Docker's ContainerSummary list, newest first."""
        raise NotImplementedError

    async def top(self, ref: str, ps_args: str = "-ef") -> dict:
        """{"Titles": [...], "Processes": [[...], ...]}."""
        raise NotImplementedError

    async def stats(self, ref: str, stream: bool = True, one_shot: bool = False) -> AsyncIterator[dict]:
        """Yields Docker's stats JSON objects (one when not streaming), about one a second."""
        raise NotImplementedError
        yield {}

    async def changes(self, ref: str) -> list[dict]:
        """[{"Path": str, "Kind": 0 modified | 1 added | 2 deleted}]."""
        raise NotImplementedError

    async def prune(self, filters: dict[str, list[str]] | None = None) -> dict:
        """{"ContainersDeleted": [ids], "SpaceReclaimed": int}."""
        raise NotImplementedError

    # --- files -----------------------------------------------------------------------------
    async def archive_head(self, ref: str, path: str) -> dict:
        """The path stat for the X-Docker-Container-Path-Stat header (the API base64-encodes
        the JSON): {"name", "size", "mode" (Go FileMode bits), "mtime" (RFC 3339), "linkTarget"}."""
        raise NotImplementedError

    async def archive_get(self, ref: str, path: str) -> tuple[dict, AsyncIterator[bytes]]:
        """(stat as in archive_head, tar stream chunks)."""
        raise NotImplementedError

    async def archive_put(self, ref: str, path: str, body: AsyncIterator[bytes],
                          no_overwrite_dir_non_dir: bool = False, copy_uid_gid: bool = False) -> None:
        """Extract a tar stream into directory `path` inside the container."""
        raise NotImplementedError

    async def export(self, ref: str) -> AsyncIterator[bytes]:
        """The container's filesystem as tar stream chunks."""
        raise NotImplementedError
        yield b""

    # --- logs, attach, exec ----------------------------------------------------------------
    async def logs(self, ref: str, stdout: bool = False, stderr: bool = False, follow: bool = False,
                   since: float = 0, until: float = 0, timestamps: bool = False,
                   tail: str = "all") -> tuple[bool, AsyncIterator[tuple[int, bytes]]]:
        """(tty, chunks) where each chunk is (stream 1=stdout 2=stderr, bytes); with timestamps
        each line is prefixed `RFC3339Nano ` already. The API frames chunks unless tty."""
        raise NotImplementedError

    async def attach(self, ref: str, stdin: bool = False, stdout: bool = False, stderr: bool = False,
                     stream: bool = True, logs: bool = False, detach_keys: str | None = None) -> AttachSession:
        """May be called before start (docker run attaches first): output begins at start."""
        raise NotImplementedError

    async def resize(self, ref: str, height: int, width: int) -> None:
        raise NotImplementedError

    async def exec_create(self, ref: str, body: dict) -> str:
        """Docker's ExecConfig body → exec id (64 hex)."""
        raise NotImplementedError

    async def exec_start(self, exec_id: str, detach: bool = False, tty: bool | None = None,
                         console_size: list[int] | None = None,
                         detach_keys: str | None = None) -> AttachSession | None:
        """Starts the exec; returns the stream session, or None when detach."""
        raise NotImplementedError

    async def exec_inspect(self, exec_id: str) -> dict:
        """Docker's ExecInspectResponse."""
        raise NotImplementedError

    async def exec_resize(self, exec_id: str, height: int, width: int) -> None:
        raise NotImplementedError

    # --- images ----------------------------------------------------------------------------
    async def commit(self, ref: str, repo: str | None = None, tag: str | None = None, comment: str = "",
                     author: str = "", changes: list[str] | None = None, pause: bool = True,
                     config: dict | None = None) -> str:
        """POST /commit → the new image id (`sha256:...`)."""
        raise NotImplementedError

    def image_in_use(self, image_id: str) -> list[str]:
        """Ids of containers using the image (installed as ImageService's in_use callback)."""
        raise NotImplementedError


def _unused(_: Any, __: Path) -> None:  # keeps imports used until the implementation lands
    return None
