"""`docker exec`: exec records, starting them through the runtime, their exit codes and events."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from skiff.common.errors import Conflict, InvalidArgument, NotFound, SkiffError
from skiff.common.ids import new_id
from skiff.engine.containers import hostfs
from skiff.engine.containers.attach import ShimAttach, parse_detach_keys
from skiff.engine.containers.spec import exec_process
from skiff.engine.containers.startfail import classify
from skiff.engine.containers.user import resolve_user
from skiff.engine.runtime.api import IOSpec

if TYPE_CHECKING:
    from skiff.engine.containers.service import ContainerService

log = logging.getLogger(__name__)


@dataclass
class Exec:
    id: str
    container_id: str
    config: dict
    running: bool = False
    started: bool = False
    exit_code: int | None = None
    pid: int = 0
    session: ShimAttach | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def to_docker(self) -> dict:
        cmd = list(self.config.get("Cmd") or [])
        return {
            "ID": self.id,
            "Running": self.running,
            "ExitCode": self.exit_code,
            "ProcessConfig": {"tty": bool(self.config.get("Tty")), "entrypoint": cmd[0] if cmd else "",
                              "arguments": cmd[1:], "privileged": bool(self.config.get("Privileged")),
                              "user": self.config.get("User") or ""},
            "OpenStdin": bool(self.config.get("AttachStdin")),
            "OpenStderr": bool(self.config.get("AttachStderr")),
            "OpenStdout": bool(self.config.get("AttachStdout")),
            "CanRemove": False,
            "ContainerID": self.container_id,
            "DetachKeys": self.config.get("DetachKeys") or "",
            "Pid": self.pid,
        }


class ExecManager:
    def __init__(self, service: ContainerService):
        self.svc = service
        self.execs: dict[str, Exec] = {}

    def ids_of(self, cid: str) -> list[str]:
        return [e.id for e in self.execs.values() if e.container_id == cid]

    def forget_container(self, cid: str) -> None:
        for eid in self.ids_of(cid):
            self.execs.pop(eid, None)

    def get(self, exec_id: str) -> Exec:
        e = self.execs.get(exec_id)
        if e is None:
            raise NotFound(f"No such exec instance: {exec_id}")
        return e

    async def create(self, c: Any, body: dict) -> str:
        body = dict(body or {})
        if not c.state.running:
            raise Conflict(f"Container {c.id} is not running")
        if c.state.status == "paused":
            raise Conflict(f"Container {c.id} is paused, unpause the container before exec")
        cmd = body.get("Cmd")
        if isinstance(cmd, str):
            cmd = [cmd]
        if not cmd:
            raise InvalidArgument("No exec command specified")
        body["Cmd"] = list(cmd)
        eid = new_id()
        self.execs[eid] = Exec(eid, c.id, body)
        self.svc._publish(c, "exec_create: " + " ".join(cmd), execID=eid)
        return eid

    def _process(self, c: Any, e: Exec, tty: bool) -> dict:
        spec = orjson.loads((self.svc.cdir(c.id) / "config.json").read_bytes())
        user = None
        if e.config.get("User"):
            root = f"/proc/{c.state.pid}/root"

            def read(name: str) -> str:
                try:
                    return Path(hostfs.secure_join(root, "/etc/" + name)).read_text()
                except OSError:
                    return ""

            user = resolve_user(e.config["User"], read("passwd"), read("group"))
        cfg = dict(e.config, Tty=tty)
        proc = exec_process(spec, cfg, user)
        avail = self.svc._available_caps
        if avail is not None:
            proc["capabilities"] = {k: [c for c in v if c in avail] for k, v in proc["capabilities"].items()}
        return proc

    async def start(self, exec_id: str, detach: bool, tty: bool | None, console_size: list[int] | None,
                    detach_keys: str | None) -> ShimAttach | None:
        e = self.get(exec_id)
        if e.started:
            raise Conflict(f"Error: Exec command {exec_id} is already running" if e.running
                           else f"Error: Exec command {exec_id} has already run")
        c = self.svc.get(e.container_id)
        if not c.state.running:
            raise Conflict(f"Container {c.id} is not running")
        e.started = True
        use_tty = bool(e.config.get("Tty")) if tty is None else bool(tty)
        stdin = bool(e.config.get("AttachStdin")) and not detach
        process = self._process(c, e, use_tty)
        if console_size and any(console_size):
            process["consoleSize"] = {"height": int(console_size[0]), "width": int(console_size[1])}
        io = IOSpec(terminal=use_tty, stdin=stdin, stdin_once=True, detached=detach)
        session = None
        if not detach:
            keys = parse_detach_keys(detach_keys or e.config.get("DetachKeys"))
            session = ShimAttach(use_tty, stdin, bool(e.config.get("AttachStdout")),
                                 bool(e.config.get("AttachStderr")), keys)
        try:
            st = await asyncio.to_thread(self.svc.runtime.exec, c.id, exec_id, process, io)
        except SkiffError as err:
            # dockerd records 126/127 and, the stream being hijacked already, writes the error into it
            e.exit_code = getattr(err, "exit_code", 0) or classify(err.message) or 126
            e.done.set()
            self.svc._publish(c, "exec_die", execID=exec_id, exitCode=e.exit_code)
            text = f"OCI runtime exec failed: exec failed: unable to start container process: {err.message}: unknown"
            if session is None:
                raise InvalidArgument(text) from None
            failed = ShimAttach(use_tty, False, True, False, None, prefix=[(1, (text + "\r\n").encode())])
            failed.abandon()
            return failed
        e.running = True
        e.pid = st.pid
        self.svc._publish(c, "exec_start: " + " ".join(e.config["Cmd"]), execID=exec_id)
        if session is not None:
            await session.connect(self.svc.runtime.attach_path(c.id, exec_id))
            e.session = session
        asyncio.create_task(self._wait(c, e))
        return session

    async def _wait(self, c: Any, e: Exec) -> None:
        try:
            status = await self.svc.runtime.wait(c.id, e.id)
            e.exit_code = status.exit_code
        except Exception as err:  # a vanished shim: report a failure instead of hanging
            log.warning("exec %s wait failed: %s", e.id, err)
            e.exit_code = 126
        e.running = False
        e.pid = 0
        e.done.set()
        self.svc._publish(c, "exec_die", execID=e.id, exitCode=e.exit_code)
        with contextlib.suppress(Exception):
            await asyncio.sleep(0)

    def inspect(self, exec_id: str) -> dict:
        return self.get(exec_id).to_docker()

    async def resize(self, exec_id: str, height: int, width: int) -> None:
        e = self.get(exec_id)
        if not e.running:
            raise Conflict(f"Exec {exec_id} is not running")
        if height or width:
            await asyncio.to_thread(self.svc.runtime.resize, e.container_id, exec_id, height, width)
