"""ContainerService: Docker's container verbs over the image service, the runtime and volumes.

Every public method takes a container reference (full id, unique id prefix or name, with or
without the leading "/") and returns Docker's JSON shapes, so `engine/api` only serializes.
Errors are `skiff.common.errors` classes carrying Docker's messages.

One supervision task per running container awaits the runtime's exit status, records it and
applies the restart policy; nothing else runs per container in the engine.

This module holds the lifecycle verbs (start, stop, kill, restart, pause, wait, remove, rename,
update); the rest is mixed in: `creation` (create), `bundle` (config.json and IOSpec for a
start), `supervise` (exits, restart policies, restore), `queries` (inspect, ps, top, stats,
diff, prune), `streams` (logs, attach, exec, cp, export, commit).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import signal as _signal
import time
from pathlib import Path
from typing import Any

from skiff.common.errors import Conflict, InvalidArgument, NotFound, NotModified, SkiffError
from skiff.common.timefmt import now_rfc3339
from skiff.engine import trash
from skiff.engine.containers import health, hostfs, restart
from skiff.engine.containers import resources as resourcespec
from skiff.engine.containers.attach import AttachSession, ShimAttach
from skiff.engine.containers.bundle import BundleMixin
from skiff.engine.containers.caps import host_bounding
from skiff.engine.containers.creation import CreationMixin
from skiff.engine.containers.execs import ExecManager
from skiff.engine.containers.files import FileOps
from skiff.engine.containers.healthmon import HealthMonitors
from skiff.engine.containers.networking import NetworkingMixin
from skiff.engine.containers.queries import QueryMixin
from skiff.engine.containers.record import Container, State
from skiff.engine.containers.signals import parse_signal
from skiff.engine.containers.startfail import translate_start_error
from skiff.engine.containers.store import RECORD, ContainerStore
from skiff.engine.containers.streams import StreamMixin
from skiff.engine.containers.supervise import SupervisionMixin

log = logging.getLogger(__name__)

__all__ = ["AttachSession", "ContainerService"]

DEFAULT_STOP_TIMEOUT = 10


class ContainerService(CreationMixin, BundleMixin, SupervisionMixin, QueryMixin, StreamMixin, NetworkingMixin):
    def __init__(self, root: str | Path, images: Any, runtime: Any, volumes: Any, events: Any,
                 prefix: str = "skiff", network: Any = None):
        self.root = Path(root)
        self.images = images
        self.runtime = runtime
        self.volumes = volumes
        self.events = events
        self.prefix = prefix
        self.network = network  # NetworkService, or None: loopback-only namespaces
        self.network_prepare_hooks = []
        self.network_start_hooks = []
        self.network_stop_hooks = []
        self.store = ContainerStore(self.root / "containers")
        self.bin_dir = self.root / "bin"
        self._monitors: dict[str, asyncio.Task] = {}
        self._exit_futs: dict[str, list[asyncio.Future]] = {}
        self._removed_futs: dict[str, list[asyncio.Future]] = {}
        self._attach_waiters: dict[str, list[ShimAttach]] = {}
        self._restart_tasks: dict[str, asyncio.Task] = {}
        # Containers being stopped by `restart`: their exit is not the end (AutoRemove waits).
        self._manual_restarts: set[str] = set()
        self._locks: dict[str, asyncio.Lock] = {}
        self.execs = ExecManager(self)
        self.files = FileOps(self)
        self.health_monitors = HealthMonitors(self)
        images.in_use = self.image_in_use
        volumes.users = self.volume_users
        self.store.load_all()
        self._available_caps = host_bounding()

    # --- paths and small helpers -------------------------------------------------------------
    def cdir(self, cid: str) -> Path:
        return self.store.dir(cid)

    def rootfs_dir(self, cid: str) -> Path:
        return self.cdir(cid) / "rootfs"

    def log_path(self, cid: str) -> Path:
        return self.cdir(cid) / f"{cid}-json.log"

    def _lock(self, cid: str) -> asyncio.Lock:
        return self._locks.setdefault(cid, asyncio.Lock())

    def _attrs(self, c: Container, **extra: Any) -> dict[str, str]:
        attrs = {str(k): str(v) for k, v in (c.config.get("Labels") or {}).items()}
        attrs.update({"image": c.config.get("Image") or c.image_id, "name": c.name})
        attrs.update({k: str(v) for k, v in extra.items()})
        return attrs

    def _publish(self, c: Container, action: str, **extra: Any) -> None:
        self.events.publish("container", action, c.id, self._attrs(c, **extra))

    def get(self, ref: str) -> Container:
        return self.store.get(ref)

    def image_in_use(self, image_id: str) -> tuple[str, bool] | None:
        """(a container using the image, whether it runs): rmi -f refuses only running users."""
        users = [c for c in self.store.all() if c.image_id == image_id]
        running = [c for c in users if c.state.running]
        if running or users:
            c = (running or users)[0]
            return c.id, bool(c.state.running)
        return None

    def volume_users(self, name: str) -> list[str]:
        return [c.id for c in self.store.all() if any(m.type == "volume" and m.name == name for m in c.mounts)]

    def is_running(self, cid: str) -> bool:
        c = self.store.find(cid)
        return bool(c and c.state.running)

    def _exit_future(self, cid: str) -> asyncio.Future:
        fut = asyncio.get_running_loop().create_future()
        self._exit_futs.setdefault(cid, []).append(fut)
        return fut

    # --- start ---
    async def start(self, ref: str) -> None:
        """Raises NotModified when already running."""
        c = self.get(ref)
        async with self._lock(c.id):
            if c.state.running:
                raise NotModified("container already started")
            if c.state.status in ("removing", "dead"):
                raise Conflict(f"cannot start a container marked for removal: {c.id}")
            c.manually_stopped = False
            await self._start(c)

    async def _start(self, c: Container) -> None:
        """Create and start the container's process; on failure record Docker's exit code and message."""
        try:
            await self._networks_up(c)
            if not self._attach_waiters.get(c.id):  # nobody attached (run -d, start): one thread hop
                st = await asyncio.to_thread(self._create_and_start_process, c)
                if st.error:
                    raise SkiffError(st.error)
                late = self._attach_waiters.pop(c.id, [])  # came during the hop: the process runs
                if late:
                    await asyncio.gather(*(w.connect(self.runtime.attach_path(c.id)) for w in late))
            else:
                st = await asyncio.to_thread(self._create_process, c)
                if st.error:
                    raise SkiffError(st.error)
                waiters = self._attach_waiters.pop(c.id, [])
                if waiters:  # attached before the process runs, so no output is missed
                    path = self.runtime.attach_path(c.id)
                    await asyncio.gather(*(w.connect(path) for w in waiters))
                st = await asyncio.to_thread(self._start_process, c)
                if st.error:
                    raise SkiffError(st.error)
        except SkiffError as e:
            await self._start_failed(c, e)
            raise translate_start_error(e.message) from None
        for m in c.mounts:
            if m.type == "volume":
                self.events.publish("volume", "mount", m.name, {
                    "container": c.id, "destination": m.destination, "driver": "local",
                    "propagation": m.propagation, "read/write": str(m.rw).lower()})
        self._publish(c, "start")
        self._monitors[c.id] = asyncio.create_task(self._monitor(c.id))
        self.health_monitors.watch(c)

    # Each runs in one worker thread: a thread hop per runtime call cost more than the call.
    def _create_process(self, c: Container) -> Any:
        """Bundle written, a stale runtime record dropped, the process created (waiting for start)."""
        bundle = self._prepare_bundle(c)
        with contextlib.suppress(SkiffError):
            self.runtime.delete(c.id, True)
        return self.runtime.create(c.id, bundle, self._io_spec(c))

    def _create_and_start_process(self, c: Container) -> Any:
        """Both, in one worker-thread hop (on a busy host each hop waits for a CPU)."""
        st = self._create_process(c)
        return st if st.error else self._start_process(c)

    def _start_process(self, c: Container) -> Any:
        """Start the created process and record the container as running (unless the state has an error)."""
        try:
            self.runtime.start(c.id)
        except SkiffError:
            # a quick process may have run and exited before start saw it go: that is a start
            st = self.runtime.state(c.id)
            if not (st.status == "stopped" and not st.error and (st.exit is None or not st.exit.error)):
                raise
        st = self.runtime.state(c.id)
        if not st.error:
            c.state = State(status="running", pid=st.pid, started_at=now_rfc3339(), finished_at=c.state.finished_at,
                            health=health.on_start(c.config.get("Healthcheck"), c.config.get("Shell"), c.state.health))
            c.has_been_started = True
            c.started_mono = time.monotonic()
            self.store.save(c)
        return st

    def _release_process(self, cid: str) -> None:
        """Drop the runtime's record of the container and unmount its rootfs (both may be gone)."""
        with contextlib.suppress(Exception):
            self.runtime.delete(cid, True)
        with contextlib.suppress(Exception):
            hostfs.unmount(str(self.rootfs_dir(cid)))
        try:
            self._networks_down_sync(cid)
        except Exception as e:
            log.warning("network clean-up of %s failed: %s", cid, e)

    def _record_and_release(self, c: Container, save: bool) -> None:
        """Save the record first: should the engine stop in between, restore finds the
        final state and drops the runtime's leftovers at the next start or removal."""
        if save:
            with contextlib.suppress(Exception):
                self.store.save(c)
        self._release_process(c.id)

    def _release_all(self, c: Container, remove_dir: bool, record: bool = True) -> None:
        """For a removal: record "removing" (restore finishes the job), release the process and
        rootfs, and the container's directory with its record when asked."""
        self._record_and_release(c, record)
        with contextlib.suppress(SkiffError):
            self.images.remove_rootfs(c.id)
        if remove_dir:
            # The record goes now (the removal's durable point); the rest of the tree is deleted
            # off the hot path (engine/trash.py): `docker run --rm` waits for this removal.
            with contextlib.suppress(FileNotFoundError):
                (self.cdir(c.id) / RECORD).unlink()
            trash.discard(str(self.cdir(c.id)))

    async def _start_failed(self, c: Container, e: SkiffError) -> None:
        err = translate_start_error(e.message)
        await asyncio.to_thread(self._release_process, c.id)
        await self._networks_down(c)
        for w in self._attach_waiters.pop(c.id, []):
            w.abandon()
        c.state.status = "exited" if c.has_been_started else "created"
        c.state.error = err.message
        c.state.exit_code = getattr(err, "exit_code", 128)
        c.state.pid = 0
        self.store.save(c)
        self._resolve_exit(c.id, c.state.exit_code, err.message)
        if c.host_config.get("AutoRemove"):
            await self._remove(c, remove_volumes=True)

    # --- stop, kill, restart, pause ----------------------------------------------------------
    async def stop(self, ref: str, timeout: int | None = None, signal: str | None = None) -> None:
        """StopSignal, then SIGKILL after timeout. Raises NotModified when not running."""
        c = self.get(ref)
        async with self._lock(c.id):
            if self._cancel_restart(c):
                c.manually_stopped = True
                self.store.save(c)
                self._publish(c, "stop")
                return
            if not c.state.running:
                raise NotModified("container already stopped")
            c.manually_stopped = True
            self.store.save(c)
            await self._stop(c, timeout, signal)
            self._publish(c, "stop")

    async def _stop(self, c: Container, timeout: int | None, signal: str | None) -> None:
        sig = parse_signal(signal or c.config.get("StopSignal") or "SIGTERM")
        if timeout is None:
            timeout = c.config.get("StopTimeout")
            timeout = DEFAULT_STOP_TIMEOUT if timeout is None else int(timeout)
        fut = self._exit_future(c.id)
        with contextlib.suppress(SkiffError):
            await asyncio.to_thread(self.runtime.kill, c.id, sig)
            self._publish(c, "kill", signal=sig)
        if c.state.status == "paused":
            with contextlib.suppress(SkiffError):
                await asyncio.to_thread(self.runtime.resume, c.id)
        try:
            await asyncio.wait_for(asyncio.shield(fut), None if timeout < 0 else timeout)
            return
        except TimeoutError:
            pass
        await self._kill_and_wait(c, fut)

    async def _kill_and_wait(self, c: Container, fut: asyncio.Future | None = None) -> None:
        fut = fut or self._exit_future(c.id)
        with contextlib.suppress(SkiffError):
            await asyncio.to_thread(self.runtime.kill, c.id, _signal.SIGKILL, True)
            self._publish(c, "kill", signal=int(_signal.SIGKILL))
        if c.state.status == "paused":
            with contextlib.suppress(SkiffError):
                await asyncio.to_thread(self.runtime.resume, c.id)
        try:
            await asyncio.wait_for(asyncio.shield(fut), 30)
        except TimeoutError:
            log.warning("container %s did not exit after SIGKILL", c.id)

    async def kill(self, ref: str, signal: str | int = "KILL") -> None:
        c = self.get(ref)
        sig = parse_signal(signal, _signal.SIGKILL)
        if self._cancel_restart(c):
            return
        if not c.state.running:
            raise Conflict(f"Cannot kill container: {ref}: Container {c.id} is not running")
        if sig == _signal.SIGKILL or sig == parse_signal(c.config.get("StopSignal") or "SIGTERM"):
            c.manually_stopped = True
            self.store.save(c)
        exited = self._exit_future(c.id) if sig == _signal.SIGKILL else None
        await asyncio.to_thread(self.runtime.kill, c.id, sig)
        self._publish(c, "kill", signal=sig)
        if exited is not None:  # as dockerd: a SIGKILL answers once the container is down (at most 2 s)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(exited), 2)

    async def restart(self, ref: str, timeout: int | None = None, signal: str | None = None) -> None:
        c = self.get(ref)
        async with self._lock(c.id):
            self._cancel_restart(c)
            if c.state.running:
                c.manually_stopped = True
                self._manual_restarts.add(c.id)
                try:
                    await self._stop(c, timeout, signal)
                finally:
                    self._manual_restarts.discard(c.id)
            c.manually_stopped = False
            await self._start(c)
            self._publish(c, "restart")

    async def pause(self, ref: str) -> None:
        c = self.get(ref)
        if not c.state.running:
            raise Conflict(f"Container {c.id} is not running")
        if c.state.status == "paused":
            raise Conflict(f"Container {c.id} is already paused")
        await asyncio.to_thread(self.runtime.pause, c.id)
        c.state.status = "paused"
        self.health_monitors.unwatch(c)  # a frozen container is not probed
        self.store.save(c)
        self._publish(c, "pause")

    async def unpause(self, ref: str) -> None:
        c = self.get(ref)
        if c.state.status != "paused":
            raise Conflict(f"Container {c.id} is not paused")
        await asyncio.to_thread(self.runtime.resume, c.id)
        c.state.status = "running"
        self.store.save(c)
        self.health_monitors.watch(c)
        self._publish(c, "unpause")

    async def wait(self, ref: str, condition: str = "not-running") -> dict:
        """condition: not-running | next-exit | removed → {"StatusCode": int, "Error": None | {"Message"}}."""
        if condition not in ("", "not-running", "next-exit", "removed"):
            raise InvalidArgument(f"invalid condition: \"{condition}\"")
        c = self.get(ref)
        if condition == "removed":
            fut = asyncio.get_running_loop().create_future()
            self._removed_futs.setdefault(c.id, []).append(fut)
            code, error = await fut
        elif condition in ("", "not-running") and not c.state.running:
            code, error = c.state.exit_code, c.state.error
        else:
            code, error = await self._exit_future(c.id)
        return {"StatusCode": code, "Error": {"Message": error} if error else None}

    # --- remove, rename, update --------------------------------------------------------------
    async def remove(self, ref: str, force: bool = False, volumes: bool = False, link: bool = False) -> None:
        if link:  # `rm --link /parent/alias`: the link goes, not a container
            from skiff.engine.containers.netedges import remove_link

            return remove_link(ref, self.get, self.store.save)
        c = self.get(ref)
        async with self._lock(c.id):
            if self.store.find(c.id) is not c:
                raise NotFound(f"No such container: {ref}")
            self._cancel_restart(c)
            if c.state.running:
                if not force:
                    state = "paused" if c.state.status == "paused" else "running"
                    hint = "unpause and then stop the container before attempting removal or force remove" \
                        if state == "paused" else "stop the container before removing or force remove"
                    raise Conflict(f'cannot remove container "/{c.name}": container is {state}: {hint}')
                c.manually_stopped = True
                await self._kill_and_wait(c)
            await self._remove(c, remove_volumes=volumes)

    async def _remove(self, c: Container, remove_volumes: bool, record: bool = True) -> None:
        """`record=False` when the record on disk already makes restore redo the removal
        (an --rm container recorded running: restore records its exit, then removes it)."""
        if self.store.find(c.id) is not c:
            return
        c.state.status = "removing"
        for w in self._attach_waiters.pop(c.id, []):
            w.abandon()
        self.execs.forget_container(c.id)
        anonymous = [m.name for m in c.mounts if m.type == "volume" and m.anonymous] if remove_volumes else []
        # The record goes last: until then a restart of the engine finishes the removal.
        await asyncio.to_thread(self._release_all, c, not anonymous, record)
        await self._networks_down(c)
        self.store.remove(c)
        for name in anonymous:
            with contextlib.suppress(SkiffError):
                await self.volumes.remove(name)
        if anonymous:
            await asyncio.to_thread(shutil.rmtree, self.cdir(c.id), True)
        self._locks.pop(c.id, None)
        self._publish(c, "destroy")
        self._resolve_exit(c.id, c.state.exit_code, c.state.error)  # waiters on a never-started container
        for fut in self._removed_futs.pop(c.id, []):
            if not fut.done():
                fut.set_result((c.state.exit_code, c.state.error if c.state.exit_code else ""))

    async def rename(self, ref: str, new_name: str) -> None:
        c = self.get(ref)
        new_name = (new_name or "").lstrip("/")
        if not new_name:
            raise InvalidArgument("Neither old nor new names may be empty")
        if new_name == c.name:
            raise Conflict("Renaming a container with the same name as its current name")
        old = c.name
        self.store.rename(c, new_name)
        self._publish(c, "rename", oldName="/" + old)

    async def update(self, ref: str, body: dict) -> dict:
        """POST /containers/{id}/update. Returns {"Warnings": [...]}."""
        c = self.get(ref)
        body = dict(body or {})
        hc = dict(c.host_config)
        for key, value in body.items():
            if key == "RestartPolicy":
                restart.validate(value, bool(hc.get("AutoRemove")))
                hc["RestartPolicy"] = {"Name": value.get("Name") or "no",
                                       "MaximumRetryCount": int(value.get("MaximumRetryCount") or 0)}
            elif value is not None:
                hc[key] = value
        warnings = resourcespec.validate(hc)
        if c.state.running:
            await asyncio.to_thread(self.runtime.update, c.id, resourcespec.linux_resources(hc))
        c.host_config = hc
        self.store.save(c)
        self._publish(c, "update")
        return {"Warnings": warnings}
