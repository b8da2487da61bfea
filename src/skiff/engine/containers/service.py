"""ContainerService: Docker's container verbs over the image service, the runtime and volumes.

Every public method takes a container reference (full id, unique id prefix or name, with or
without the leading "/") and returns Docker's JSON shapes, so `engine/api` only serializes.
Errors are `skiff.common.errors` classes carrying Docker's messages.

One supervision task per running container awaits the runtime's exit status, records it and
applies the restart policy; nothing else runs per container in the engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal as _signal
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson

from skiff.common.errors import Conflict, InvalidArgument, NotFound, NotModified, SkiffError
from skiff.common.ids import new_id, random_name
from skiff.common.timefmt import now_rfc3339, parse_rfc3339
from skiff.engine.containers import etcfiles, hostfs, restart, views
from skiff.engine.containers import logs as logreader
from skiff.engine.containers import mounts as mountspec
from skiff.engine.containers import resources as resourcespec
from skiff.engine.containers import spec as specs
from skiff.engine.containers.attach import AttachSession, ShimAttach, parse_detach_keys
from skiff.engine.containers.caps import host_bounding
from skiff.engine.containers.execs import ExecManager
from skiff.engine.containers.files import FileOps
from skiff.engine.containers.record import Container, State
from skiff.engine.containers.signals import parse_signal
from skiff.engine.containers.startfail import translate_start_error
from skiff.engine.containers.store import ContainerStore
from skiff.engine.containers.user import resolve_user
from skiff.engine.runtime.api import ExitStatus, IOSpec

log = logging.getLogger(__name__)

__all__ = ["AttachSession", "ContainerService"]

DEFAULT_STOP_TIMEOUT = 10


def parse_size(s: str) -> int:
    """`10m`, `1k`, `2g`, `512` → bytes (json-file's max-size)."""
    s = s.strip().lower().rstrip("b")
    mult = {"k": 1024, "m": 1024**2, "g": 1024**3}.get(s[-1:] or "", 1)
    num = s[:-1] if s[-1:] in ("k", "m", "g") else s
    try:
        return int(float(num) * mult)
    except ValueError:
        raise InvalidArgument(f"invalid value for max-size: {s}") from None


def normalize_host_config(hc: dict) -> dict:
    hc = dict(hc or {})
    mode = hc.get("NetworkMode") or "default"
    hc["NetworkMode"] = "bridge" if mode == "default" else mode
    rp = hc.get("RestartPolicy") or {}
    hc["RestartPolicy"] = {"Name": rp.get("Name") or "no", "MaximumRetryCount": int(rp.get("MaximumRetryCount") or 0)}
    lc = hc.get("LogConfig") or {}
    hc["LogConfig"] = {"Type": lc.get("Type") or "json-file", "Config": dict(lc.get("Config") or {})}
    if hc["LogConfig"]["Type"] not in ("json-file", "local", "none"):
        raise InvalidArgument(f'failed to create task for container: logger: no log driver named '
                              f'\'{hc["LogConfig"]["Type"]}\' is registered')
    for key in ("Privileged", "ReadonlyRootfs", "AutoRemove", "PublishAllPorts", "Init"):
        if key != "Init":
            hc[key] = bool(hc.get(key))
    for key in ("CpuShares", "Memory", "NanoCpus", "CpuPeriod", "CpuQuota", "MemoryReservation", "MemorySwap",
                "ShmSize"):
        hc.setdefault(key, 0)
    hc.setdefault("Binds", None)
    hc.setdefault("CgroupnsMode", "host")
    hc.setdefault("IpcMode", "private")
    hc.setdefault("PidMode", "")
    hc.setdefault("UTSMode", "")
    hc.setdefault("ConsoleSize", [0, 0])
    hc.setdefault("PortBindings", {})
    return hc


class ContainerService:
    def __init__(self, root: str | Path, images: Any, runtime: Any, volumes: Any, events: Any,
                 prefix: str = "skiff"):
        self.root = Path(root)
        self.images = images
        self.runtime = runtime
        self.volumes = volumes
        self.events = events
        self.prefix = prefix
        self.store = ContainerStore(self.root / "containers")
        self.bin_dir = self.root / "bin"
        self._monitors: dict[str, asyncio.Task] = {}
        self._exit_futs: dict[str, list[asyncio.Future]] = {}
        self._removed_futs: dict[str, list[asyncio.Future]] = {}
        self._attach_waiters: dict[str, list[ShimAttach]] = {}
        self._restart_tasks: dict[str, asyncio.Task] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.execs = ExecManager(self)
        self.files = FileOps(self)
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

    # --- create ------------------------------------------------------------------------------
    async def create(self, body: dict, name: str | None = None) -> tuple[str, list[str]]:
        """POST /containers/create: body is Docker's ContainerCreate JSON. Returns (id, warnings)."""
        body = dict(body or {})
        image_ref = body.get("Image") or ""
        if not image_ref:
            raise InvalidArgument("Config cannot be empty in order to create a container")
        hc = normalize_host_config(body.get("HostConfig") or {})
        restart.validate(hc["RestartPolicy"], hc["AutoRemove"])
        warnings = resourcespec.validate(hc)
        image = self.images.get(image_ref)
        name = self.store.check_name(name) if name else random_name(self.store.names())
        cid = new_id()
        cfg = specs.merge_config(body, image.container_config, cid)
        cfg["Image"] = image_ref
        if hc["NetworkMode"] == "host" and not body.get("Hostname"):
            cfg["Hostname"] = socket.gethostname()
        if hc["NetworkMode"].startswith("container:"):
            target = self.get(hc["NetworkMode"].split(":", 1)[1])
            if target.id == cid:
                raise InvalidArgument("cannot join own network")
        inherited: list[mountspec.MountPoint] = []
        for spec_ in hc.get("VolumesFrom") or []:
            ref, mode = mountspec.parse_volumes_from(spec_)
            inherited += mountspec.inherit_mounts(self.get(ref).mounts, mode)
        mps = mountspec.collect(hc, cfg.get("Volumes"), inherited)
        for m in mps:
            if m.type == "bind" and not m.create_source and not os.path.exists(m.source):
                raise InvalidArgument(f'invalid mount config for type "bind": bind source path does not exist: '
                                      f'{m.source}')
        for m in mps:
            if m.type == "volume":
                await asyncio.to_thread(self.volumes.create_sync, m.name, "local", m.driver_opts or None,
                                        m.labels or None, m.anonymous)
                m.source = str(self.volumes.data_dir(m.name))
        c = Container(id=cid, name=name, created=now_rfc3339(), image_id=image.id, config=cfg, host_config=hc,
                      networking_config=dict(body.get("NetworkingConfig") or {}), mounts=mps)
        self.cdir(cid).mkdir(parents=True, exist_ok=True)
        try:
            await asyncio.to_thread(self.images.prepare_rootfs, cid, image.id)
            await asyncio.to_thread(self._write_etc_files, c)
            self.store.add(c)
        except BaseException:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self.images.remove_rootfs, cid)
            shutil.rmtree(self.cdir(cid), ignore_errors=True)
            raise
        self._publish(c, "create")
        return cid, warnings

    def _write_etc_files(self, c: Container) -> None:
        d = self.cdir(c.id)
        hc = c.host_config
        host_mode = c.network_mode == "host"
        (d / "hostname").write_text(etcfiles.hostname_file(c.config.get("Hostname") or c.id[:12]))
        if host_mode:
            hosts = Path("/etc/hosts").read_text() if Path("/etc/hosts").exists() else etcfiles.HOSTS_BASE
            for entry in hc.get("ExtraHosts") or []:
                n, _, ip = entry.partition(":")
                hosts += f"{ip}\t{n}\n"
        else:
            hosts = etcfiles.hosts_file(c.config.get("Hostname") or c.id[:12], c.config.get("Domainname") or "",
                                        extra_hosts=hc.get("ExtraHosts"))
        (d / "hosts").write_text(hosts)
        try:
            host_resolv = Path("/etc/resolv.conf").read_text()
        except OSError:
            host_resolv = ""
        (d / "resolv.conf").write_text(etcfiles.resolv_conf(host_resolv, hc.get("Dns"), hc.get("DnsSearch"),
                                                            hc.get("DnsOptions"), keep_localhost=host_mode))

    # --- start -------------------------------------------------------------------------------
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

    def _init_binary(self) -> str:
        from skiff.engine.containers.initbin import ensure_init

        return ensure_init(self.bin_dir)

    def _prepare_bundle(self, c: Container) -> str:
        """Mount the rootfs, resolve user, volumes and namespaces, write config.json. Runs in a thread."""
        rootfs = str(self.rootfs_dir(c.id))
        hostfs.mount_rootfs(self.images.rootfs_mounts(c.id), rootfs)
        cfg, hc = c.config, c.host_config

        def read_etc(name: str) -> str:
            try:
                return Path(hostfs.secure_join(rootfs, "/etc/" + name)).read_text()
            except OSError:
                return ""

        user = resolve_user(cfg.get("User") or "", read_etc("passwd"), read_etc("group"), hc.get("GroupAdd"))
        if cfg.get("WorkingDir"):
            wd = hostfs.secure_join(rootfs, cfg["WorkingDir"])
            if not os.path.isdir(wd):
                os.makedirs(wd, 0o755, exist_ok=True)
        for m in c.mounts:
            if m.type == "volume":
                m.source = self.volumes.mount(m.name) if self.volumes.exists(m.name) else m.source
                if not m.nocopy and self.volumes.is_empty(m.name) and self.volumes.mark_populated(m.name):
                    hostfs.copy_up(hostfs.secure_join(rootfs, m.destination), m.source)
            elif m.type == "bind" and m.create_source and not os.path.exists(m.source):
                os.makedirs(m.source, 0o755, exist_ok=True)
        ctx = specs.SpecContext(id=c.id, rootfs=rootfs, cgroups_path=f"/{self.prefix}/{c.id}", user=user,
                                mounts=c.mounts, network_mode=c.network_mode,
                                available_caps=self._available_caps)
        d = self.cdir(c.id)
        ctx.etc_files = {"/etc/hostname": str(d / "hostname"), "/etc/hosts": str(d / "hosts"),
                         "/etc/resolv.conf": str(d / "resolv.conf")}
        for key, attr, kind in (("NetworkMode", "netns_path", "net"), ("PidMode", "pid_ns_path", "pid"),
                                ("IpcMode", "ipc_ns_path", "ipc")):
            mode = hc.get(key) or ""
            if mode.startswith("container:"):
                target = self.get(mode.split(":", 1)[1])
                if not target.state.running:
                    raise Conflict(f"cannot join network of a non running container: {target.id}"
                                   if kind == "net" else f"cannot join {kind} of a non running container: {target.id}")
                setattr(ctx, attr, f"/proc/{target.state.pid}/ns/{kind}")
        if hc.get("Privileged"):
            ctx.host_devices = hostfs.host_devices()
        if hc.get("Init"):
            ctx.init_binary = self._init_binary()
        spec = specs.build_spec(cfg, hc, ctx)
        (d / "config.json").write_bytes(orjson.dumps(spec, option=orjson.OPT_INDENT_2))
        return str(d)

    def _io_spec(self, c: Container) -> IOSpec:
        lc = c.host_config.get("LogConfig") or {}
        opts = lc.get("Config") or {}
        max_size = parse_size(opts["max-size"]) if opts.get("max-size") else 0
        max_file = int(opts.get("max-file") or 1)
        log_path = None if lc.get("Type") == "none" else str(self.log_path(c.id))
        return IOSpec(terminal=c.tty, stdin=bool(c.config.get("OpenStdin")), stdin_once=bool(c.config.get("StdinOnce")),
                      log_path=log_path, log_max_size=max_size, log_max_file=max_file)

    async def _start(self, c: Container) -> None:
        """Create and start the container's process; on failure record Docker's exit code and message."""
        try:
            bundle = await asyncio.to_thread(self._prepare_bundle, c)
            with contextlib.suppress(SkiffError):
                await asyncio.to_thread(self.runtime.delete, c.id, True)
            st = await asyncio.to_thread(self.runtime.create, c.id, bundle, self._io_spec(c))
            if st.error:
                raise SkiffError(st.error)
            waiters = self._attach_waiters.pop(c.id, [])
            if waiters:
                path = self.runtime.attach_path(c.id)
                await asyncio.gather(*(w.connect(path) for w in waiters))
            try:
                await asyncio.to_thread(self.runtime.start, c.id)
            except SkiffError:
                # a quick process may have run and exited before start saw it go: that is a start
                st = await asyncio.to_thread(self.runtime.state, c.id)
                if not (st.status == "stopped" and not st.error and (st.exit is None or not st.exit.error)):
                    raise
            st = await asyncio.to_thread(self.runtime.state, c.id)
            if st.error:
                raise SkiffError(st.error)
        except SkiffError as e:
            await self._start_failed(c, e)
            raise translate_start_error(e.message) from None
        c.state = State(status="running", pid=st.pid, started_at=now_rfc3339(), finished_at=c.state.finished_at)
        c.has_been_started = True
        c.started_mono = time.monotonic()
        self.store.save(c)
        self._publish(c, "start")
        self._monitors[c.id] = asyncio.create_task(self._monitor(c.id))

    async def _start_failed(self, c: Container, e: SkiffError) -> None:
        err = translate_start_error(e.message)
        with contextlib.suppress(Exception):
            await asyncio.to_thread(self.runtime.delete, c.id, True)
        with contextlib.suppress(Exception):
            await asyncio.to_thread(hostfs.unmount, str(self.rootfs_dir(c.id)))
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

    # --- exits, restarts, restore -----------------------------------------------------------
    async def _monitor(self, cid: str) -> None:
        try:
            status = await self.runtime.wait(cid)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # the shim vanished without exit.json: record a failure, don't crash
            log.warning("wait for %s failed: %s", cid, e)
            status = ExitStatus(exit_code=255, error=str(e))
        self._monitors.pop(cid, None)
        await self._on_exit(cid, status)

    def _resolve_exit(self, cid: str, code: int, error: str = "") -> None:
        for fut in self._exit_futs.pop(cid, []):
            if not fut.done():
                fut.set_result((code, error))

    async def _on_exit(self, cid: str, status: ExitStatus) -> None:
        c = self.store.find(cid)
        if c is None:
            return
        ran_for = time.monotonic() - c.started_mono if c.started_mono else 0.0
        c.state.status = "exited"
        c.state.pid = 0
        c.state.exit_code = status.exit_code
        c.state.oom_killed = status.oom_killed
        c.state.error = status.error
        c.state.finished_at = status.finished_at or now_rfc3339()
        with contextlib.suppress(Exception):
            await asyncio.to_thread(self.runtime.delete, cid, True)
        with contextlib.suppress(Exception):
            await asyncio.to_thread(hostfs.unmount, str(self.rootfs_dir(cid)))
        decision = restart.decide(c.host_config.get("RestartPolicy"), status.exit_code, c.restart_count,
                                  c.manually_stopped, ran_for, c.backoff)
        auto_remove = c.host_config.get("AutoRemove") and not decision.restart
        if decision.restart:
            c.state.status = "restarting"
            c.backoff = decision.next_backoff
        self.store.save(c)
        if status.oom_killed:
            self._publish(c, "oom")
        self._publish(c, "die", exitCode=status.exit_code)
        self._resolve_exit(cid, status.exit_code, status.error)
        if auto_remove:
            async with self._lock(cid):
                if self.store.find(cid) is c:
                    await self._remove(c, remove_volumes=True)
        elif decision.restart:
            self._restart_tasks[cid] = asyncio.create_task(self._restart_later(c, decision.delay))

    async def _restart_later(self, c: Container, delay: float) -> None:
        try:
            await asyncio.sleep(delay)
            async with self._lock(c.id):
                if c.state.status != "restarting" or self.store.find(c.id) is not c or c.manually_stopped:
                    return
                c.restart_count += 1
                try:
                    await self._start(c)
                except SkiffError as e:
                    log.warning("restart of %s failed: %s", c.id, e.message)
                    c.state.status = "exited"
                    self.store.save(c)
                else:
                    self._publish(c, "restart")
        finally:
            self._restart_tasks.pop(c.id, None)

    def _cancel_restart(self, c: Container) -> bool:
        task = self._restart_tasks.pop(c.id, None)
        if task:
            task.cancel()
        if c.state.status == "restarting":
            c.state.status = "exited"
            self.store.save(c)
            return True
        return False

    async def restore(self) -> None:
        """At engine start: re-adopt live shims, record exits that happened meanwhile, restart `always` ones."""
        for c in self.store.all():
            if c.state.status == "removing":
                await self._remove(c, remove_volumes=False)
                continue
            if c.state.running:
                try:
                    st = await asyncio.to_thread(self.runtime.state, c.id)
                except SkiffError:
                    st = None
                if st is not None and st.status in ("running", "paused"):
                    c.state.status = st.status
                    c.state.pid = st.pid
                    c.started_mono = time.monotonic() - max(0.0, time.time() - parse_rfc3339(c.state.started_at))
                    self.store.save(c)
                    self._monitors[c.id] = asyncio.create_task(self._monitor(c.id))
                    continue
                status = (st.exit if st is not None and st.exit else None) or ExitStatus(exit_code=255,
                                                                                         finished_at=now_rfc3339())
                await self._on_exit(c.id, status)
                continue
            policy = (c.host_config.get("RestartPolicy") or {}).get("Name")
            if c.has_been_started and not c.manually_stopped and policy in ("always", "unless-stopped"):
                async with self._lock(c.id):
                    with contextlib.suppress(SkiffError):
                        await self._start(c)

    async def shutdown(self) -> None:
        """At engine stop: stop supervising (containers keep running, as documented)."""
        tasks = list(self._monitors.values()) + list(self._restart_tasks.values())
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._monitors.clear()
        self._restart_tasks.clear()

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
        await asyncio.to_thread(self.runtime.kill, c.id, sig)
        self._publish(c, "kill", signal=sig)

    async def restart(self, ref: str, timeout: int | None = None, signal: str | None = None) -> None:
        c = self.get(ref)
        async with self._lock(c.id):
            self._cancel_restart(c)
            if c.state.running:
                c.manually_stopped = True
                await self._stop(c, timeout, signal)
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
        self.store.save(c)
        self._publish(c, "pause")

    async def unpause(self, ref: str) -> None:
        c = self.get(ref)
        if c.state.status != "paused":
            raise Conflict(f"Container {c.id} is not paused")
        await asyncio.to_thread(self.runtime.resume, c.id)
        c.state.status = "running"
        self.store.save(c)
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
        c = self.get(ref)
        if link:
            raise InvalidArgument("Conflict, cannot remove the default link name of the container")
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

    async def _remove(self, c: Container, remove_volumes: bool) -> None:
        if self.store.find(c.id) is not c:
            return
        c.state.status = "removing"
        with contextlib.suppress(Exception):
            self.store.save(c)
        for w in self._attach_waiters.pop(c.id, []):
            w.abandon()
        self.execs.forget_container(c.id)
        with contextlib.suppress(Exception):
            await asyncio.to_thread(self.runtime.delete, c.id, True)
        with contextlib.suppress(Exception):
            await asyncio.to_thread(hostfs.unmount, str(self.rootfs_dir(c.id)))
        with contextlib.suppress(SkiffError):
            await asyncio.to_thread(self.images.remove_rootfs, c.id)
        self.store.remove(c)
        if remove_volumes:
            for m in c.mounts:
                if m.type == "volume" and m.anonymous:
                    with contextlib.suppress(SkiffError):
                        await self.volumes.remove(m.name)
        await asyncio.to_thread(shutil.rmtree, self.cdir(c.id), True)
        self._locks.pop(c.id, None)
        self._publish(c, "destroy")
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
                restart.validate(value, hc.get("AutoRemove"))
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

    # --- inspection --------------------------------------------------------------------------
    def _paths(self, c: Container) -> dict[str, str]:
        d = self.cdir(c.id)
        return {"ResolvConfPath": str(d / "resolv.conf"), "HostnamePath": str(d / "hostname"),
                "HostsPath": str(d / "hosts"),
                "LogPath": str(self.log_path(c.id)) if c.host_config["LogConfig"]["Type"] != "none" else ""}

    def _graph(self, c: Container) -> dict:
        try:
            mounts = self.images.rootfs_mounts(c.id)
        except Exception:
            mounts = []
        data: dict[str, str] = {}
        for m in mounts:
            for opt in m.options:
                k, _, v = opt.partition("=")
                if k in ("lowerdir", "upperdir", "workdir"):
                    data[{"lowerdir": "LowerDir", "upperdir": "UpperDir", "workdir": "WorkDir"}[k]] = v
        data["MergedDir"] = str(self.rootfs_dir(c.id))
        return {"Name": "overlay2", "Data": data}

    async def _sizes(self, c: Container) -> tuple[int, int]:
        rw = await self.images.rootfs_size(c.id)
        try:
            base = self.images.get(c.image_id).size
        except SkiffError:
            base = 0
        return rw, rw + base

    async def inspect(self, ref: str, size: bool = False) -> dict:
        """Docker's ContainerInspectResponse."""
        c = self.get(ref)
        rw = root = None
        if size:
            rw, root = await self._sizes(c)
        return views.inspect(c, self._paths(c), self._graph(c), rw, root, self.execs.ids_of(c.id))

    async def list(self, all: bool = False, limit: int = -1, size: bool = False,
                   filters: dict[str, list[str]] | None = None) -> list[dict]:
        """Docker's ContainerSummary list, newest first."""
        filters = dict(filters or {})
        views.check_filters(filters)
        before = since = None
        if filters.get("before"):
            before = parse_rfc3339(self.get(filters["before"][0]).created)
        if filters.get("since"):
            since = parse_rfc3339(self.get(filters["since"][0]).created)
        show_all = all or limit > 0 or bool(filters.get("status")) or bool(filters.get("exited")) \
            or before is not None or since is not None
        items = sorted(self.store.all(), key=lambda c: c.created, reverse=True)
        out = []
        for c in items:
            if not show_all and c.state.status not in ("running", "paused", "restarting"):
                continue
            if not views.matches(c, filters, self._ancestor_matches, before, since):
                continue
            rw = root = None
            if size:
                rw, root = await self._sizes(c)
            out.append(views.summary(c, c.config.get("Image") or c.image_id, rw, root))
            if limit > 0 and len(out) >= limit:
                break
        return out

    def _ancestor_matches(self, ref: str, c: Container) -> bool:
        try:
            return self.images.get(ref).id == c.image_id
        except SkiffError:
            return ref == c.config.get("Image")

    async def top(self, ref: str, ps_args: str = "-ef") -> dict:
        from skiff.engine.containers.top import parse_ps

        c = self.get(ref)
        if not c.state.running:
            raise Conflict(f"Container {c.id} is not running")
        pids = set(await asyncio.to_thread(self.runtime.pids, c.id))
        proc = await asyncio.create_subprocess_exec("ps", *(ps_args or "-ef").split(), stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate()
        if proc.returncode != 0:
            raise InvalidArgument(f"Error running ps: {err.decode().strip()}")
        return parse_ps(out.decode(errors="replace"), pids)

    async def stats(self, ref: str, stream: bool = True, one_shot: bool = False) -> AsyncIterator[dict]:
        """Yields Docker's stats JSON objects (one when not streaming), about one a second."""
        from skiff.engine.containers.stats import docker_stats, empty_stats

        c = self.get(ref)
        prev = None
        while True:
            if not c.state.running or self.store.find(c.id) is not c:
                yield empty_stats(c.id, c.name)
                return
            try:
                raw = await asyncio.to_thread(self.runtime.stats, c.id)
            except SkiffError:
                yield empty_stats(c.id, c.name)
                return
            if prev is None and not stream and not one_shot:
                prev = docker_stats(c.id, c.name, raw, None)  # Docker primes precpu with a sample 1 s apart
                await asyncio.sleep(1)
                continue
            msg = docker_stats(c.id, c.name, raw, prev)
            yield msg
            if not stream:
                return
            prev = msg
            await asyncio.sleep(1)

    async def changes(self, ref: str) -> list[dict]:
        """[{"Path": str, "Kind": 0 modified | 1 added | 2 deleted}]."""
        c = self.get(ref)
        return hide_mountpoints(await self.images.rootfs_changes(c.id))

    async def prune(self, filters: dict[str, list[str]] | None = None) -> dict:
        """{"ContainersDeleted": [ids], "SpaceReclaimed": int}."""
        filters = dict(filters or {})
        until = filters.pop("until", [])
        deleted, space = [], 0
        for c in list(self.store.all()):
            if c.state.running or c.state.status == "removing":
                continue
            if until and parse_rfc3339(c.created) >= _until_ts(until[0]):
                continue
            if not views.matches(c, {k: v for k, v in filters.items() if k in ("label", "label!")},
                                 self._ancestor_matches, None, None):
                continue
            with contextlib.suppress(SkiffError):
                space += await self.images.rootfs_size(c.id)
            await self._remove(c, remove_volumes=False)
            deleted.append(c.id)
        return {"ContainersDeleted": deleted or None, "SpaceReclaimed": space}

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
        await self.files.put(self.get(ref), path, body, no_overwrite_dir_non_dir)

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
        async def stdin_eof() -> None:
            if c.config.get("StdinOnce"):
                with contextlib.suppress(SkiffError):
                    await asyncio.to_thread(self.runtime.close_stdin, c.id, None)

        session = ShimAttach(c.tty, stdin and bool(c.config.get("OpenStdin")), stdout, stderr, keys, prefix,
                             on_detach=lambda: self._publish(c, "detach"), on_stdin_eof=stdin_eof)
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


# Files the engine bind-mounts over; dockerd keeps their mount points in an "init" layer, so
# they never show up as changes.
ENGINE_FILES = {"/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/sbin/docker-init"}


def hide_mountpoints(changes: list[dict]) -> list[dict]:
    kept = [ch for ch in changes if ch["Path"] not in ENGINE_FILES]
    parents_needed = {p.rsplit("/", 1)[0] or "/" for p in (ch["Path"] for ch in kept)}
    out = []
    for ch in kept:
        if ch["Kind"] == 0 and ch["Path"] in ("/etc", "/sbin"):
            if not any(p == ch["Path"] or p.startswith(ch["Path"] + "/") for p in parents_needed):
                continue
        out.append(ch)
    return out


def _until_ts(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return parse_rfc3339(value)
