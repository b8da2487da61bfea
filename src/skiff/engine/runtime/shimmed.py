"""The verbs both runtimes share: everything that only needs the state files, the shim
and the cgroup (state, list, wait, kill, pause, stats, attach, delete)."""

from __future__ import annotations

import asyncio
import builtins
import errno
import json
import os
import resource
import select
import signal
import socket
import time
from typing import Any

from skiff.common.errors import Conflict, NotFound, SystemError_
from skiff.engine.runtime.api import CREATED, PAUSED, RUNNING, STOPPED, ExitStatus, IOSpec, RuntimeState
from skiff.engine.runtime.cgroups import CgroupManager, manager_for
from skiff.engine.runtime.state import StateDir, StateRoot, alive, derive_status


def reap(pid: int) -> None:
    """Collect a shim that is our own child (it is, until the engine restarts)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def wait_pid_blocking(pid: int, start: int | None, timeout: float) -> bool:
    """Block until pid exits (True) or timeout passes (False)."""
    if not alive(pid, start):
        return True
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        p = select.poll()
        p.register(fd, select.POLLIN)
        return bool(p.poll(int(timeout * 1000)))
    finally:
        os.close(fd)


def raise_fd_limit() -> None:
    """wait() holds a pidfd per container: with a thousand containers the default soft
    limit of 1024 descriptors runs out, so take the hard limit (dockerd does the same;
    containers inherit it, as they inherit dockerd's)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class ShimmedRuntime:
    """Base for LinuxRuntime and RuncRuntime (both put the process under skiff-shim)."""

    def __init__(self, state_root: str, prefix: str = "skiff", bin_dir: str | None = None):
        self.root = StateRoot(state_root)
        self.prefix = prefix
        raise_fd_limit()
        self.bin_dir = bin_dir or os.path.join(os.path.dirname(os.path.abspath(state_root)), "bin")

    # ---- state ----

    def _cgroup(self, st: dict[str, Any]) -> CgroupManager:
        return manager_for(st["cgroup_path"])

    def _status(self, d: StateDir, st: dict[str, Any]) -> tuple[str, ExitStatus | None]:
        ex = d.exit()
        if ex is not None:
            return STOPPED, ex
        init_alive = alive(st["pid"], st.get("pid_start"))
        frozen = False
        if init_alive and not os.path.exists(d.fifo):
            try:
                frozen = self._cgroup(st).frozen()
            except OSError:
                frozen = False
        return derive_status(False, init_alive, os.path.exists(d.fifo), frozen), None

    def _to_state(self, d: StateDir, st: dict[str, Any]) -> RuntimeState:
        status, ex = self._status(d, st)
        return RuntimeState(id=st["id"], status=status, pid=st["pid"],
                            shim_pid=st["shim_pid"], bundle=st.get("bundle", ""), created=st["created"],
                            exit=ex, annotations=st.get("annotations") or {})

    def state(self, id: str) -> RuntimeState:
        d = self.root.existing(id)
        return self._to_state(d, d.read())

    def exec_state(self, id: str, exec_id: str) -> RuntimeState:
        d = self.root.exec(id, exec_id)
        if not d.exists():
            raise NotFound(f"exec {exec_id} does not exist")
        return self._to_state(d, d.read())

    def list(self) -> builtins.list[RuntimeState]:
        out = []
        for id in self.root.ids():
            try:
                out.append(self.state(id))
            except (NotFound, OSError, ValueError):
                continue  # removed while we looked
        return out

    # ---- waiting ----

    async def wait(self, id: str, exec_id: str | None = None) -> ExitStatus:
        d = self.root.exec(id, exec_id) if exec_id else self.root.existing(id)
        st = d.read()
        shim, shim_start = st["shim_pid"], st.get("shim_start")
        if d.exit() is None and alive(shim, shim_start):
            try:
                fd = os.pidfd_open(shim)
            except ProcessLookupError:
                fd = -1
            if fd >= 0:
                loop = asyncio.get_running_loop()
                done = loop.create_future()
                def on_exit() -> None:
                    if not done.done():
                        done.set_result(None)

                loop.add_reader(fd, on_exit)
                try:
                    if alive(shim, shim_start):  # it may have gone before the reader was in place
                        await done
                finally:
                    loop.remove_reader(fd)
                    os.close(fd)
        reap(shim)
        ex = d.exit()
        if ex is None:
            # The shim was killed: nothing saw the process end, so its status is lost.
            ex = ExitStatus(exit_code=255, error="skiff-shim exited without recording the exit status")
        return ex

    # ---- signals and freezing ----

    def _running(self, id: str) -> tuple[StateDir, dict[str, Any], str]:
        d = self.root.existing(id)
        st = d.read()
        status, _ = self._status(d, st)
        if status == STOPPED:
            raise Conflict(f"container {id} is not running")
        return d, st, status

    def kill(self, id: str, sig: int, all: bool = False) -> None:
        _, st, _ = self._running(id)
        pids = self._cgroup(st).pids() if all else []
        for pid in pids or [st["pid"]]:  # _running checked the recorded pid is still the init
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def pause(self, id: str) -> None:
        _, st, status = self._running(id)
        if status != RUNNING:
            raise Conflict(f"container {id} is not running")
        self._cgroup(st).freeze()

    def resume(self, id: str) -> None:
        _, st, status = self._running(id)
        if status != PAUSED:
            raise Conflict(f"container {id} is not paused")
        self._cgroup(st).thaw()

    def stats(self, id: str) -> dict[str, Any]:
        st = self.root.existing(id).read()
        return self._cgroup(st).stats()

    def update(self, id: str, resources: dict[str, Any]) -> None:
        st = self.root.existing(id).read()
        self._cgroup(st).apply(resources)

    def pids(self, id: str) -> builtins.list[int]:
        st = self.root.existing(id).read()
        return self._cgroup(st).pids()

    # ---- stdio ----

    def _dir(self, id: str, exec_id: str | None) -> StateDir:
        return self.root.exec(id, exec_id) if exec_id else self.root.existing(id)

    def attach_path(self, id: str, exec_id: str | None = None) -> str:
        return self._dir(id, exec_id).sock("attach")

    def _control(self, id: str, exec_id: str | None, msg: dict[str, Any]) -> None:
        path = self._dir(id, exec_id).sock("control")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            s.sendall(json.dumps(msg).encode() + b"\n")
        except OSError as e:
            if e.errno in (errno.ENOENT, errno.ECONNREFUSED):
                raise Conflict(f"container {id} is not running") from e
            raise SystemError_(f"control socket {path}: {e.strerror}") from e
        finally:
            s.close()

    def resize(self, id: str, exec_id: str | None, height: int, width: int) -> None:
        self._control(id, exec_id, {"resize": [int(height), int(width)]})

    def close_stdin(self, id: str, exec_id: str | None = None) -> None:
        self._control(id, exec_id, {"close_stdin": True})

    # ---- removal ----

    def _stop_everything(self, st: dict[str, Any]) -> None:
        cg = self._cgroup(st)
        try:
            if cg.frozen():
                for pid in cg.pids():
                    os.kill(pid, signal.SIGKILL)
                cg.thaw()
            pids = cg.pids()
            if not pids and alive(st["pid"], st.get("pid_start")):
                pids = [st["pid"]]  # never a recorded pid that may since have been reused
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        except OSError:
            pass
        wait_pid_blocking(st["shim_pid"], st.get("shim_start"), 10)
        reap(st["shim_pid"])

    def delete(self, id: str, force: bool = False) -> None:
        d = self.root.existing(id)
        st = d.read()
        status, _ = self._status(d, st)
        if status in (RUNNING, PAUSED) and not force:
            raise Conflict(f"cannot delete container {id} that is not stopped: {status}")
        if status != STOPPED or alive(st["shim_pid"], st.get("shim_start")):
            self._stop_everything(st)
        self._destroy_cgroup(st)
        reap(st["shim_pid"])
        for ex in self._exec_ids(d):
            ed = self.root.exec(id, ex)
            try:
                reap(ed.read()["shim_pid"])
            except (OSError, ValueError, KeyError):
                pass
            ed.remove()
        d.remove()

    def _destroy_cgroup(self, st: dict[str, Any]) -> None:
        cg = self._cgroup(st)
        for _ in range(100):
            try:
                cg.destroy()
                return
            except SystemError_:
                for pid in cg.pids():  # stragglers (e.g. execs) still in it
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                time.sleep(0.01)
        cg.destroy()

    @staticmethod
    def _exec_ids(d: StateDir) -> builtins.list[str]:
        try:
            return os.listdir(d.file("execs"))
        except FileNotFoundError:
            return []

    @staticmethod
    def _check_log(io: IOSpec) -> None:
        """The shim cannot report a log it fails to open; find out before it starts."""
        if io.log_path:
            try:
                os.close(os.open(io.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o640))
            except OSError as e:
                raise SystemError_(f"cannot open log {io.log_path}: {e.strerror}") from e

    def _check_new(self, id: str) -> StateDir:
        d = self.root.container(id)
        if d.exists():
            raise Conflict(f"container with id {id} already exists")
        return d

    def _cgroup_path(self, id: str, config: dict[str, Any]) -> str:
        return (config.get("linux") or {}).get("cgroupsPath") or f"/{self.prefix}/{id}"

    @staticmethod
    def _require(status: str, want: str, id: str) -> None:
        if status != want:
            if want == CREATED and status == RUNNING:
                raise Conflict(f"container {id} is already running")
            raise Conflict(f"container {id} is {status}, not {want}")
