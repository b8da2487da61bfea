"""In-memory stand-ins for ImageService and Runtime, so ContainerService runs without root.

The fake process behaves by its args: `["exit", N]` ends with code N as soon as it starts;
anything else runs until a signal ends it with 128+signal (SIGUSR1 and SIGTERM included).
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass, field

from skiff.common.errors import NotFound, SystemError_
from skiff.common.timefmt import now_rfc3339
from skiff.engine.runtime.api import ExitStatus, IOSpec, RuntimeState


@dataclass
class FakeImage:
    id: str = "sha256:" + "ab" * 32
    config: dict = field(default_factory=lambda: {"config": {"Cmd": ["sleep"], "Env": ["PATH=/bin"]}})
    size: int = 100

    @property
    def container_config(self) -> dict:
        return dict(self.config["config"])


class FakeImages:
    def __init__(self):
        self.image = FakeImage()
        self.rootfs: set[str] = set()
        self.in_use = lambda image_id: None

    def get(self, ref):
        if ref not in ("busybox", "busybox:latest", self.image.id):
            raise NotFound(f"No such image: {ref}")
        return self.image

    def prepare_rootfs(self, key, image, volatile=False):
        self.rootfs.add(key)
        return []

    def rootfs_mounts(self, key):
        return []

    def remove_rootfs(self, key):
        self.rootfs.discard(key)

    async def rootfs_changes(self, key):
        return [{"Path": "/etc", "Kind": 0}, {"Path": "/etc/hosts", "Kind": 1}, {"Path": "/new", "Kind": 1}]

    async def rootfs_size(self, key):
        return 7


class FakeRuntime:
    def __init__(self):
        self.procs: dict[str, dict] = {}
        self.fail_create: str = ""
        self.next_pid = 1000

    def create(self, id: str, bundle: str, io: IOSpec) -> RuntimeState:
        if self.fail_create:
            raise SystemError_(self.fail_create)
        spec = json.loads(open(os.path.join(bundle, "config.json")).read())
        self.next_pid += 1
        self.procs[id] = {"status": "created", "args": spec["process"]["args"], "pid": self.next_pid,
                          "exit": None, "io": io}
        return self.state(id)

    def start(self, id: str) -> None:
        p = self.procs[id]
        p["status"] = "running"
        args = p["args"]
        if args and args[0] == "exit":
            self._exit(id, int(args[1]))

    def _exit(self, id: str, code: int) -> None:
        p = self.procs[id]
        p["status"] = "stopped"
        p["exit"] = ExitStatus(exit_code=code, finished_at=now_rfc3339())

    def kill(self, id: str, sig: int, all: bool = False) -> None:
        p = self.procs.get(id)
        if p is None:
            raise NotFound(f"container {id} does not exist")
        if p["status"] in ("running", "paused"):
            self._exit(id, 128 + int(sig))

    def pause(self, id):
        self.procs[id]["status"] = "paused"

    def resume(self, id):
        self.procs[id]["status"] = "running"

    def delete(self, id, force=False):
        if id not in self.procs:
            raise NotFound(f"container {id} does not exist")
        del self.procs[id]

    def state(self, id) -> RuntimeState:
        p = self.procs.get(id)
        if p is None:
            raise NotFound(f"container {id} does not exist")
        return RuntimeState(id=id, status=p["status"], pid=p["pid"], shim_pid=p["pid"] - 1, bundle="",
                            created=now_rfc3339(), exit=p["exit"])

    async def wait(self, id, exec_id=None) -> ExitStatus:
        while True:
            p = self.procs.get(id)
            if p is None:
                return ExitStatus(exit_code=255, error="gone")
            if p["exit"] is not None:
                return p["exit"]
            await asyncio.sleep(0.005)

    def attach_path(self, id, exec_id=None):
        return "/nonexistent/attach.sock"

    def pids(self, id):
        return [self.procs[id]["pid"]]

    def stats(self, id):
        return {"cpu": {"usage": {"total": 10}}, "memory": {"usage": 4096, "limit": 1 << 20}, "pids": {"current": 1}}

    def update(self, id, resources):
        self.procs[id]["resources"] = resources

    def close_stdin(self, id, exec_id=None):
        pass

    def resize(self, id, exec_id, h, w):
        pass
