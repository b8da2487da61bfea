"""LinuxRuntime: our own OCI runtime (namespaces, mounts, cgroups in Python, under skiff-shim)."""

from __future__ import annotations

import json
import os
import select
from typing import Any

from skiff.common.errors import InvalidArgument, NotFound, SystemError_
from skiff.common.timefmt import now_rfc3339
from skiff.engine.runtime import caps
from skiff.engine.runtime.api import CREATED, RUNNING, IOSpec, RuntimeState
from skiff.engine.runtime.cgroups import manager_for
from skiff.engine.runtime.forkserver import ForkServer
from skiff.engine.runtime.init import SetupPlan
from skiff.engine.runtime.namespaces import exec_plan, plan
from skiff.engine.runtime.shimbin import ensure_shim
from skiff.engine.runtime.shimmed import ShimmedRuntime
from skiff.engine.runtime.spawn import ShimFiles, spawn
from skiff.engine.runtime.state import StateDir, proc_start_time
from skiff.engine.runtime.syscalls import LinuxSyscalls


def load_bundle(bundle: str) -> tuple[dict[str, Any], str]:
    """config.json and the absolute rootfs path of a bundle."""
    path = os.path.join(bundle, "config.json")
    try:
        with open(path, "rb") as f:
            config = json.loads(f.read())
    except FileNotFoundError:
        raise NotFound(f"bundle {bundle}: config.json not found") from None
    except ValueError as e:
        raise InvalidArgument(f"bundle {bundle}: config.json: {e}") from None
    if not isinstance(config.get("process"), dict):
        raise InvalidArgument(f"bundle {bundle}: config.json has no process")
    root = (config.get("root") or {}).get("path") or "rootfs"
    rootfs = root if os.path.isabs(root) else os.path.join(bundle, root)
    if not os.path.isdir(rootfs):
        raise NotFound(f"bundle {bundle}: rootfs {rootfs} does not exist")
    return config, os.path.realpath(rootfs)


def make_fifo(path: str) -> None:
    """The exec fifo. The process opens it for writing after switching to the container's
    user, possibly without CAP_DAC_OVERRIDE, so others may write (as runc's exec.fifo)."""
    os.mkfifo(path)
    os.chmod(path, 0o622)


def mapped_root(config: dict[str, Any]) -> tuple[int, int] | None:
    """Host uid/gid of the container's root when it runs in a new user namespace."""
    linux = config.get("linux") or {}
    if not any(ns.get("type") == "user" for ns in linux.get("namespaces") or []):
        return None

    def host(key: str) -> int:
        for m in linux.get(key) or []:
            if m["containerID"] <= 0 < m["containerID"] + m["size"] or m["containerID"] == 0:
                return int(m["hostID"])
        return 0

    return host("uidMappings"), host("gidMappings")


class LinuxRuntime(ShimmedRuntime):
    """The Runtime protocol with skiff's own container setup (see init.py, spawn.py)."""

    def __init__(self, state_root: str, prefix: str = "skiff", bin_dir: str | None = None):
        super().__init__(state_root, prefix, bin_dir)
        self.sys = LinuxSyscalls()
        self.last_cap = caps.last_cap()
        self._shim: str | None = None
        self._forkserver: ForkServer | None = None

    def start_fork_server(self) -> None:
        """Fork containers from a small helper process instead of this one (see forkserver.py):
        for a long-lived caller (the engine), from its main thread. Without it (`skiff runtime`,
        tests), this process forks them itself."""
        if self._forkserver is None:
            self._forkserver = ForkServer.start()

    def close(self) -> None:
        if self._forkserver is not None:
            self._forkserver.close()
            self._forkserver = None

    def _spawn(self, setup: SetupPlan, io: IOSpec, files: ShimFiles) -> tuple[int, int]:
        server = self._forkserver
        if server is not None:
            try:
                return server.spawn(self.shim_path(), setup, io, files)
            except ConnectionError:
                self._forkserver = None  # gone (killed?): fork here from now on
        return spawn(self.sys, self.shim_path(), setup, io, files)

    def shim_path(self) -> str:
        if self._shim is None:
            self._shim = ensure_shim(self.bin_dir)
        return self._shim

    def _files(self, d: StateDir, oom_file: str = "") -> ShimFiles:
        return ShimFiles(exit_file=d.file("exit.json"), attach_path=d.sock("attach"),
                         control_path=d.sock("control"), shim_log=d.file("shim.log"), oom_file=oom_file)

    def create(self, id: str, bundle: str, io: IOSpec) -> RuntimeState:
        d = self._check_new(id)
        self._check_log(io)
        config, rootfs = load_bundle(bundle)
        process = dict(config["process"])
        process.setdefault("terminal", io.terminal)
        linux = config.get("linux") or {}
        ns = plan(linux.get("namespaces"))
        self.shim_path()  # built (first use) before anything is made that a failure must undo
        cg = manager_for(self._cgroup_path(id, config))
        os.makedirs(d.path, mode=0o711)
        try:
            cg.create()
            cg.apply(linux.get("resources") or {})
            make_fifo(d.fifo)
            owner = mapped_root(config)
            if owner:  # the init reopens the fifo as the user namespace's root
                os.chown(d.fifo, *owner)
            setup = SetupPlan(mode="init", process=process, ns=ns, config=config, rootfs=rootfs,
                              cgroup_procs=cg.procs_files(), cgroup_binds=cg.container_binds(), fifo=d.fifo,
                              last_cap=self.last_cap)
            pid, shim_pid = self._spawn(setup, io, self._files(d, cg.oom_file()))
        except BaseException:
            try:
                cg.destroy()
            except (SystemError_, OSError):
                pass
            d.remove()
            raise
        d.write({
            "id": id, "bundle": os.path.abspath(bundle), "rootfs": rootfs, "pid": pid,
            "pid_start": proc_start_time(pid), "shim_pid": shim_pid, "shim_start": proc_start_time(shim_pid),
            "created": now_rfc3339(), "cgroup_path": cg.path, "namespaces": sorted(ns.types),
            "terminal": bool(process.get("terminal")), "annotations": config.get("annotations") or {},
            "runtime": "linux", "root_owner": mapped_root(config),
        })
        return self.state(id)

    def start(self, id: str) -> None:
        d = self.root.existing(id)
        st = d.read()
        status, _ = self._status(d, st)
        self._require(status, CREATED, id)
        # The pidfd first: opening the fifo releases init, which may be done and reaped
        # before a pidfd opened afterwards could refer to it.
        try:
            pidfd = os.pidfd_open(st["pid"])
        except ProcessLookupError:
            raise SystemError_(f"container {id}: init exited before start") from None
        try:
            fifo = os.open(d.fifo, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except FileNotFoundError:
            os.close(pidfd)
            raise SystemError_(f"container {id}: exec fifo is gone; was it started already?") from None
        try:
            poller = select.poll()
            poller.register(fifo, select.POLLIN)
            poller.register(pidfd, select.POLLIN)
            while True:
                ready = dict(poller.poll(10_000))
                if fifo in ready and ready[fifo] & select.POLLIN:
                    if os.read(fifo, 1):
                        break
                if pidfd in ready:
                    raise SystemError_(f"container {id}: init exited before start")
                if not ready:
                    raise SystemError_(f"container {id}: init did not take the start signal")
        finally:
            os.close(fifo)
            os.close(pidfd)
        os.unlink(d.fifo)

    def exec(self, id: str, exec_id: str, process: dict[str, Any], io: IOSpec) -> RuntimeState:
        d = self.root.existing(id)
        st = d.read()
        status, _ = self._status(d, st)
        self._require(status, RUNNING, id)
        ed = self.root.exec(id, exec_id)
        if ed.exists():
            raise InvalidArgument(f"exec {exec_id} already exists")
        self._check_log(io)
        process = dict(process)
        process.setdefault("terminal", io.terminal)
        cg = self._cgroup(st)
        os.makedirs(ed.path, mode=0o711, exist_ok=True)
        make_fifo(ed.fifo)
        owner = st.get("root_owner")
        if owner:
            os.chown(ed.fifo, *owner)
        setup = SetupPlan(mode="exec", process=process, ns=exec_plan(st["pid"], set(st["namespaces"])),
                          cgroup_procs=cg.procs_files(), fifo=ed.fifo, last_cap=self.last_cap)
        try:
            pid, shim_pid = self._spawn(setup, io, self._files(ed))
        except BaseException:
            ed.remove()
            raise
        ed.write({"id": exec_id, "container": id, "pid": pid, "pid_start": proc_start_time(pid),
                  "shim_pid": shim_pid, "shim_start": proc_start_time(shim_pid), "created": now_rfc3339(),
                  "cgroup_path": st["cgroup_path"], "terminal": bool(process.get("terminal"))})
        return self._to_state(ed, ed.read())
