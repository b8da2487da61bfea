"""RUN: the command in a container of the engine's own, its output streamed as it comes."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from skiff.common.errors import SkiffError
from skiff.common.stdcopy import Deframer

# As dockerd: RUN steps are on the engine's default network (the bridge, with NAT to the
# outside, so `apt-get` reaches the package mirror) unless the build asks for another mode.
DEFAULT_NETWORK = "default"
STDERR_START, STDERR_END = "\x1b[91m", "\x1b[0m"  # dockerd colours a RUN's stderr


class RunFailed(SkiffError):
    """A RUN step exited non-zero; `code` goes into the stream's errorDetail."""

    status = 500

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


async def run_container(containers: Any, image_id: str, run: dict, cmd: list[str], env: list[str],
                        network: str, host_config: dict, emit: Callable[[dict], Awaitable[None]],
                        on_created: Callable[[str], None]) -> tuple[str, int]:
    """Create, attach, start and wait; returns (container id, exit code)."""
    body = {
        "Image": image_id, "Cmd": cmd, "Entrypoint": [""], "Env": env,
        "WorkingDir": run.get("WorkingDir") or "", "User": run.get("User") or "",
        "Healthcheck": {"Test": ["NONE"]}, "AttachStdout": True, "AttachStderr": True,
        "HostConfig": {**host_config, "NetworkMode": network or DEFAULT_NETWORK},
    }
    cid, _ = await containers.create(body)
    on_created(cid)
    await emit({"stream": f" ---> Running in {cid[:12]}\n"})
    session = await containers.attach(cid, stdout=True, stderr=True, stream=True)
    try:
        await containers.start(cid)
        deframer = Deframer()
        async for chunk in session.output():
            for stream, data in deframer.feed(chunk):
                text = data.decode("utf-8", "replace")
                await emit({"stream": STDERR_START + text + STDERR_END if stream == 2 else text})
    finally:
        with contextlib.suppress(Exception):
            await session.close()
    result = await containers.wait(cid)
    return cid, int(result.get("StatusCode") or 0)
