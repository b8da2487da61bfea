"""The OCI bundle for a start: mount the rootfs, resolve user, volumes, namespaces and devices,
write config.json; and the runtime's IOSpec (log driver options). Mixed into ContainerService."""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path
from typing import Any

import orjson

from skiff.common.errors import Conflict, SystemError_
from skiff.engine.containers import hostfs
from skiff.engine.containers import spec as specs
from skiff.engine.containers.hostconfig import cgroups_path, parse_size
from skiff.engine.containers.record import Container
from skiff.engine.containers.user import resolve_user
from skiff.engine.runtime.api import IOSpec
from skiff.engine.snapshots.base import Mount


def volatile(mounts: list[Mount]) -> list[Mount]:
    """An --rm container's overlay mounted `volatile`: no sync when it is unmounted, which
    otherwise syncs the whole filesystem the data root is on (milliseconds on a busy host, on
    the path of every `docker run --rm`). Such a container is removed when it exits, and by
    `restore` after a host crash, so its upper layer never has to survive one. The kernel
    refuses to mount an upper layer again while the marker of an earlier volatile mount
    (`<workdir>/work/incompat`) is there; a restart clears it first."""
    out = []
    for m in mounts:
        if m.type != "overlay" or "volatile" in m.options:
            out.append(m)
            continue
        for opt in m.options:
            if opt.startswith("workdir="):
                shutil.rmtree(os.path.join(opt[len("workdir="):], "work", "incompat"), ignore_errors=True)
        out.append(dataclasses.replace(m, options=[*m.options, "volatile"]))
    return out


# The mixin sees ContainerService's attributes; typed as Any to keep the two modules acyclic.
_Base: Any = object


class BundleMixin(_Base):
    def _init_binary(self) -> str:
        from skiff.engine.containers.initbin import ensure_init

        return ensure_init(self.bin_dir)

    def _prepare_bundle(self, c: Container) -> str:
        """Mount the rootfs, resolve user, volumes and namespaces, write config.json. Runs in a thread."""
        rootfs = str(self.rootfs_dir(c.id))
        mounts = self.images.rootfs_mounts(c.id)
        if c.host_config.get("AutoRemove"):
            try:
                hostfs.mount_rootfs(volatile(mounts), rootfs)
            except SystemError_:  # a kernel before 5.10: no `volatile`
                hostfs.mount_rootfs(mounts, rootfs)
        else:
            hostfs.mount_rootfs(mounts, rootfs)
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
        ctx.netns_path = self._netns_for(c)  # the engine's namespace file, when it made one
        for key, attr, kind in (("NetworkMode", "netns_path", "net"), ("PidMode", "pid_ns_path", "pid"),
                                ("IpcMode", "ipc_ns_path", "ipc")):
            mode = hc.get(key) or ""
            if mode.startswith("container:"):
                target = self.get(mode.split(":", 1)[1])
                if not target.state.running:
                    raise Conflict(f"cannot join network of a non running container: {target.id}"
                                   if kind == "net" else f"cannot join {kind} of a non running container: {target.id}")
                if not getattr(ctx, attr):
                    setattr(ctx, attr, f"/proc/{target.state.pid}/ns/{kind}")
        if hc.get("Privileged"):
            ctx.host_devices = hostfs.host_devices()
        for dev in hc.get("Devices") or []:
            entry = hostfs.device_entry(dev.get("PathOnHost", ""), dev.get("PathInContainer", ""))
            entry["access"] = dev.get("CgroupPermissions") or "rwm"
            ctx.devices.append(entry)
        if hc.get("Init"):
            ctx.init_binary = self._init_binary()
        link_env = getattr(self, "edges", None) and self.edges.start_env.get(c.id)
        if link_env:  # --link variables, the container's own Env winning
            from skiff.engine.containers.netedges import merge_env

            cfg = {**cfg, "Env": merge_env(link_env, cfg.get("Env") or [])}
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
