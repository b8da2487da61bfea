"""In-memory stand-ins for the engine's services, so the API layer (routing, versioning,
errors, streaming, the attach/exec hijack) is tested with the real docker CLI and docker-py
without root and independently of the runtime.

A fake container "runs" a tiny interpreter of its Cmd: `echo ARGS`, `cat` (stdin → stdout),
`exit N`, `err TEXT` (to stderr), `sleep` (until killed).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator

from skiff.common.errors import Conflict, InvalidArgument, NotFound, NotModified
from skiff.common.stdcopy import frame
from skiff.common.timefmt import now_rfc3339
from skiff.engine.events import EventBus


class FakeProcess:
    def __init__(self, cmd: list[str], tty: bool):
        self.cmd = cmd
        self.tty = tty
        self.stdin: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.listeners: list[asyncio.Queue[tuple[int, bytes] | None]] = []
        self.log: list[tuple[int, bytes]] = []
        self.exit_code: int | None = None
        self.exited = asyncio.Event()
        self.task: asyncio.Task | None = None

    def emit(self, stream: int, data: bytes) -> None:
        self.log.append((stream, data))
        for q in self.listeners:
            q.put_nowait((stream, data))

    async def run(self) -> None:
        cmd, code = self.cmd, 0
        if cmd[0] == "echo":
            self.emit(1, (" ".join(cmd[1:]) + "\n").encode())
        elif cmd[0] == "err":
            self.emit(2, (" ".join(cmd[1:]) + "\n").encode())
        elif cmd[0] == "cat":
            while (data := await self.stdin.get()) is not None:
                self.emit(1, data.replace(b"\r", b"\r\n") if self.tty else data)
        elif cmd[0] == "exit":
            code = int(cmd[1])
        elif cmd[0] == "sleep":
            await asyncio.Event().wait()
        elif cmd[0] == "lose-eof":  # exits, but its output stream never says so
            self.emit(1, b"bye\n")
            self.exit_code = 0
            self.exited.set()
            return
        self.finish(code)

    def finish(self, code: int) -> None:
        if self.exit_code is None:
            self.exit_code = code
            self.exited.set()
            for q in self.listeners:
                q.put_nowait(None)


class FakeSession:
    def __init__(self, proc: FakeProcess, stdin: bool, stdin_once: bool = True, detach_keys: bytes = b"\x10\x11"):
        self.proc = proc
        self.stdin_once = stdin_once
        self.tty = proc.tty
        self.stdin = stdin
        self.q: asyncio.Queue[tuple[int, bytes] | None] = asyncio.Queue()
        proc.listeners.append(self.q)
        self.detach_keys = detach_keys
        self._closed = False

    async def output(self) -> AsyncIterator[bytes]:
        while (item := await self.q.get()) is not None:
            stream, data = item
            yield data if self.tty else frame(stream, data)

    async def write_stdin(self, data: bytes) -> bool:
        if self.detach_keys in data:
            return False
        if self.stdin:
            self.proc.stdin.put_nowait(data)
        return True

    async def close_stdin(self) -> None:
        """dockerd's rule: EOF closes the process's stdin only for StdinOnce without a tty."""
        if self.stdin and self.stdin_once and not self.tty:
            self.proc.stdin.put_nowait(None)

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            with contextlib.suppress(ValueError):
                self.proc.listeners.remove(self.q)
            self.q.put_nowait(None)


class FakeContainer:
    def __init__(self, cid: str, name: str, body: dict):
        self.id, self.name, self.body = cid, name, body
        self.tty = bool(body.get("Tty"))
        self.proc: FakeProcess | None = None
        self.created = now_rfc3339()
        self.removed = asyncio.Event()
        self.next_exit: list[asyncio.Future] = []

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.task is not None and self.proc.exit_code is None

    def state(self) -> str:
        if self.proc is None or self.proc.task is None:
            return "created"
        return "running" if self.running else "exited"


class FakeContainers:
    def __init__(self, images: FakeImages, events: EventBus):
        self.images = images
        self.events = events
        self.by_id: dict[str, FakeContainer] = {}
        self.execs: dict[str, dict] = {}

    def _get(self, ref: str) -> FakeContainer:
        ref = ref.lstrip("/")
        for c in self.by_id.values():
            if c.id == ref or c.name == ref or (len(ref) >= 3 and c.id.startswith(ref)):
                return c
        raise NotFound(f"No such container: {ref}")

    async def restore(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def create(self, body: dict, name: str | None = None) -> tuple[str, list[str]]:
        self.images.get(body.get("Image", ""))
        name = name or "fake_" + secrets.token_hex(3)
        if any(c.name == name for c in self.by_id.values()):
            raise Conflict(f'Conflict. The container name "/{name}" is already in use')
        if not body.get("Cmd"):
            raise InvalidArgument("no command specified")
        cid = secrets.token_hex(32)
        self.by_id[cid] = FakeContainer(cid, name, body)
        self.events.publish("container", "create", cid, {"name": name, "image": body["Image"]})
        return cid, []

    async def start(self, ref: str) -> None:
        c = self._get(ref)
        if c.running:
            raise NotModified("already started")
        if c.proc is None or c.proc.exit_code is not None or c.proc.task is not None:
            old = c.proc
            c.proc = FakeProcess(list(c.body["Cmd"]), c.tty)
            if old is not None:
                c.proc.listeners = old.listeners
        c.proc.task = asyncio.create_task(self._run(c))
        self.events.publish("container", "start", c.id, {"name": c.name})

    async def _run(self, c: FakeContainer) -> None:
        assert c.proc is not None
        await c.proc.run()
        await self._exited(c)

    async def _exited(self, c: FakeContainer) -> None:
        self.events.publish("container", "die", c.id, {"name": c.name, "exitCode": str(c.proc.exit_code)})
        for f in c.next_exit:
            if not f.done():
                f.set_result(c.proc.exit_code)
        c.next_exit.clear()
        if (c.body.get("HostConfig") or {}).get("AutoRemove"):
            await self.remove(c.id, force=True)

    async def kill(self, ref: str, signal: str | int = "KILL") -> None:
        c = self._get(ref)
        if not c.running:
            raise Conflict(f"Container {c.id} is not running")
        c.proc.task.cancel()
        c.proc.finish(137)
        await self._exited(c)

    async def stop(self, ref: str, timeout: int | None = None, signal: str | None = None) -> None:
        c = self._get(ref)
        if not c.running:
            raise NotModified("not running")
        await self.kill(ref)

    async def wait(self, ref: str, condition: str = "not-running") -> dict:
        c = self._get(ref)
        if condition == "removed":
            fut = asyncio.get_running_loop().create_future()
            c.next_exit.append(fut)
            code = await fut
            await c.removed.wait()
        elif condition == "next-exit" or c.running:
            fut = asyncio.get_running_loop().create_future()
            c.next_exit.append(fut)
            code = await fut
        else:
            code = c.proc.exit_code if c.proc else 0
        return {"StatusCode": code, "Error": None}

    async def remove(self, ref: str, force: bool = False, volumes: bool = False, link: bool = False) -> None:
        c = self._get(ref)
        if c.running and not force:
            raise Conflict(f"You cannot remove a running container {c.id}. Stop the container before "
                           "attempting removal or force remove")
        if c.running:
            c.proc.task.cancel()
            c.proc.finish(137)
        self.by_id.pop(c.id, None)
        c.removed.set()
        self.events.publish("container", "destroy", c.id, {"name": c.name})

    async def inspect(self, ref: str, size: bool = False) -> dict:
        c = self._get(ref)
        return {
            "Id": c.id, "Name": "/" + c.name, "Created": c.created, "Image": "sha256:" + "0" * 64,
            "Path": c.body["Cmd"][0], "Args": c.body["Cmd"][1:],
            "State": {"Status": c.state(), "Running": c.running, "Paused": False, "Restarting": False,
                      "OOMKilled": False, "Dead": False, "Pid": 0,
                      "ExitCode": c.proc.exit_code or 0 if c.proc else 0, "Error": "",
                      "StartedAt": c.created, "FinishedAt": "0001-01-01T00:00:00Z"},
            "Config": {**c.body, "Tty": c.tty},
            "HostConfig": {"LogConfig": {"Type": "json-file", "Config": {}}, **(c.body.get("HostConfig") or {})},
            "Mounts": [], "NetworkSettings": {"Networks": {}},
        }

    async def list(self, all: bool = False, limit: int = -1, size: bool = False,
                   filters: dict | None = None) -> list[dict]:
        out = []
        for c in reversed(self.by_id.values()):
            if all or c.running:
                out.append({"Id": c.id, "Names": ["/" + c.name], "Image": c.body["Image"],
                            "ImageID": "sha256:" + "0" * 64, "Command": " ".join(c.body["Cmd"]),
                            "Created": 1700000000, "State": c.state(), "Status": c.state(), "Ports": [],
                            "Labels": {}, "Mounts": [], "HostConfig": {"NetworkMode": "none"},
                            "NetworkSettings": {"Networks": {}}})
        return out if limit is None or limit < 0 else out[:limit]

    async def logs(self, ref: str, stdout: bool = False, stderr: bool = False, follow: bool = False,
                   since: float = 0, until: float = 0, timestamps: bool = False,
                   tail: str = "all") -> tuple[bool, AsyncIterator[tuple[int, bytes]]]:
        c = self._get(ref)
        wanted = {1} if stdout else set()
        if stderr:
            wanted.add(2)

        async def chunks() -> AsyncIterator[tuple[int, bytes]]:
            for stream, data in list(c.proc.log if c.proc else []):
                if stream in wanted:
                    yield stream, data

        return c.tty, chunks()

    async def attach(self, ref: str, stdin: bool = False, stdout: bool = False, stderr: bool = False,
                     stream: bool = True, logs: bool = False, detach_keys: str | None = None) -> FakeSession:
        c = self._get(ref)
        if c.proc is None or c.proc.exit_code is not None:
            # attached before start: the session sees the next run's output
            c.proc = c.proc if c.proc and c.proc.exit_code is None else FakeProcess(list(c.body["Cmd"]), c.tty)
        return FakeSession(c.proc, stdin, stdin_once=bool(c.body.get("StdinOnce")))

    async def resize(self, ref: str, height: int, width: int) -> None:
        self._get(ref)

    async def exec_create(self, ref: str, body: dict) -> str:
        c = self._get(ref)
        if not c.running:
            raise Conflict(f"container {c.id} is not running")
        eid = secrets.token_hex(32)
        self.execs[eid] = {"ID": eid, "ContainerID": c.id, "Running": False, "ExitCode": None,
                           "body": body, "proc": None}
        return eid

    async def exec_start(self, exec_id: str, detach: bool = False, tty: bool | None = None,
                         console_size: list[int] | None = None, detach_keys: str | None = None) -> FakeSession | None:
        ex = self.execs.get(exec_id)
        if ex is None:
            raise NotFound(f"No such exec instance: {exec_id}")
        proc = FakeProcess(list(ex["body"]["Cmd"]), bool(ex["body"].get("Tty")))
        ex["proc"] = proc
        session = None if detach else FakeSession(proc, bool(ex["body"].get("AttachStdin")))

        async def run() -> None:
            await proc.run()
            ex["ExitCode"] = proc.exit_code

        proc.task = asyncio.create_task(run())
        return session

    async def exec_inspect(self, exec_id: str) -> dict:
        ex = self.execs.get(exec_id)
        if ex is None:
            raise NotFound(f"No such exec instance: {exec_id}")
        proc = ex["proc"]
        return {"ID": exec_id, "ContainerID": ex["ContainerID"], "Running": bool(proc and proc.exit_code is None),
                "ExitCode": ex["ExitCode"], "ProcessConfig": {"tty": bool(ex["body"].get("Tty"))},
                "OpenStdin": bool(ex["body"].get("AttachStdin")), "Pid": 0}

    async def exec_resize(self, exec_id: str, height: int, width: int) -> None:
        pass


class FakeImages:
    def __init__(self) -> None:
        self.tags = {"busybox:latest": "sha256:" + "1" * 64}

    def get(self, ref: str):
        if ":" not in ref and "@" not in ref:
            ref += ":latest"
        if ref not in self.tags:
            raise NotFound(f"No such image: {ref}")
        return self.tags[ref]

    def list(self, all: bool = False, filters: dict | None = None, digests: bool = False) -> list[dict]:
        return [{"Id": i, "RepoTags": [t], "RepoDigests": [], "Created": 1700000000, "Size": 1000,
                 "SharedSize": -1, "VirtualSize": 1000, "Labels": {}, "Containers": -1, "ParentId": ""}
                for t, i in self.tags.items()]

    def inspect(self, ref: str) -> dict:
        return {"Id": self.get(ref), "RepoTags": [ref], "Config": {"Cmd": ["sh"]}, "Os": "linux",
                "Architecture": "amd64", "RootFS": {"Type": "layers", "Layers": []}}

    async def load(self, fileobj, quiet: bool = False) -> list[str]:
        head = fileobj.read(512)
        if len(head) < 512 or head[257:262] != b"ustar":
            raise InvalidArgument("invalid tar header: not a tar archive")
        return ["Loaded image: fake:latest"]


class FakeVolumes:
    def __init__(self) -> None:
        self.vols: dict[str, dict] = {}

    async def create(self, name=None, driver="local", driver_opts=None, labels=None) -> dict:
        name = name or secrets.token_hex(32)
        return self.vols.setdefault(name, {"Name": name, "Driver": driver, "Mountpoint": f"/v/{name}/_data",
                                           "Labels": labels or {}, "Scope": "local", "Options": driver_opts or {},
                                           "CreatedAt": now_rfc3339()})

    async def inspect(self, name: str) -> dict:
        if name not in self.vols:
            raise NotFound(f"get {name}: no such volume")
        return self.vols[name]

    async def list(self, filters=None) -> dict:
        return {"Volumes": list(self.vols.values()), "Warnings": []}

    async def remove(self, name: str, force: bool = False) -> None:
        await self.inspect(name)
        del self.vols[name]

    async def prune(self, filters=None) -> dict:
        names = list(self.vols)
        self.vols.clear()
        return {"VolumesDeleted": names, "SpaceReclaimed": 0}
