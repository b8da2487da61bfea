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
from pathlib import Path
from typing import Any

import orjson

from skiff.common.errors import Conflict, InvalidArgument, NotFound, NotModified, SkiffError
from skiff.common.ids import new_id, random_name
from skiff.common.timefmt import now_rfc3339
from skiff.engine.containers import etcfiles, hostfs, restart
from skiff.engine.containers import mounts as mountspec
from skiff.engine.containers import resources as resourcespec
from skiff.engine.containers import spec as specs
from skiff.engine.containers.attach import AttachSession, ShimAttach
from skiff.engine.containers.caps import host_bounding
from skiff.engine.containers.execs import ExecManager
from skiff.engine.containers.files import FileOps
from skiff.engine.containers.queries import QueryMixin
from skiff.engine.containers.record import Container, State
from skiff.engine.containers.signals import parse_signal
from skiff.engine.containers.startfail import translate_start_error
from skiff.engine.containers.store import ContainerStore
from skiff.engine.containers.streams import StreamMixin
from skiff.engine.containers.supervise import SupervisionMixin
from skiff.engine.containers.user import resolve_user
from skiff.engine.runtime.api import IOSpec

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


def cgroups_path(hc: dict, prefix: str, cid: str) -> str:
    """`/<prefix>/<id>`, or `<CgroupParent>/<id>` when --cgroup-parent is given (cgroupfs style)."""
    parent = (hc.get("CgroupParent") or "").strip("/")
    return f"/{parent or prefix}/{cid}"


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


class ContainerService(SupervisionMixin, QueryMixin, StreamMixin):
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
        wd = body.get("WorkingDir") or ""
        if wd and not wd.startswith("/"):
            raise InvalidArgument(f"the working directory '{wd}' is invalid, it needs to be an absolute path")
        restart.validate(hc["RestartPolicy"], hc["AutoRemove"])
        warnings = resourcespec.validate(hc)
        for dev in hc.get("Devices") or []:
            try:
                hostfs.device_entry(dev.get("PathOnHost", ""))
            except SkiffError as e:
                raise InvalidArgument(e.message) from None
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
        ctx = specs.SpecContext(id=c.id, rootfs=rootfs, cgroups_path=cgroups_path(hc, self.prefix, c.id), user=user,
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
        for dev in hc.get("Devices") or []:
            entry = hostfs.device_entry(dev.get("PathOnHost", ""), dev.get("PathInContainer", ""))
            entry["access"] = dev.get("CgroupPermissions") or "rwm"
            ctx.devices.append(entry)
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
        for m in c.mounts:
            if m.type == "volume":
                self.events.publish("volume", "mount", m.name, {
                    "container": c.id, "destination": m.destination, "driver": "local",
                    "propagation": m.propagation, "read/write": str(m.rw).lower()})
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
