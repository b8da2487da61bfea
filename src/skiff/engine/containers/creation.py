"""Container creation: validate the create body, merge it with the image, set up volumes,
the rootfs snapshot and the /etc files. Mixed into ContainerService."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from skiff.common.errors import InvalidArgument, SkiffError
from skiff.common.ids import new_id, random_name
from skiff.common.timefmt import now_rfc3339
from skiff.engine.containers import etcfiles, health, hostfs, restart
from skiff.engine.containers import mounts as mountspec
from skiff.engine.containers import resources as resourcespec
from skiff.engine.containers import spec as specs
from skiff.engine.containers.hostconfig import normalize_host_config
from skiff.engine.containers.record import Container

# The mixin sees ContainerService's attributes; typed as Any to keep the two modules acyclic.
_Base: Any = object

# Creates' record fsyncs, overlapping the snapshot's (see _make_files).
_FSYNCS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="record-fsync")


class CreationMixin(_Base):
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
        from skiff.engine.containers.netedges import check_network_mode
        from skiff.engine.network.ports import validate_bindings

        validate_bindings(hc.get("PortBindings"))
        check_network_mode(body, hc)
        warnings = resourcespec.validate(hc)
        health.validate(body.get("Healthcheck"))
        for dev in hc.get("Devices") or []:
            try:
                hostfs.device_entry(dev.get("PathOnHost", ""))
            except SkiffError as e:
                raise InvalidArgument(e.message) from None
        image = self.images.get(image_ref)
        name = self.store.check_name(name) if name else random_name(self.store.names())
        cid = new_id()
        if hc.get("Links"):
            from skiff.engine.containers.netedges import normalize_links

            hc["Links"] = normalize_links(hc["Links"], name, self.get)
        cfg = specs.merge_config(body, image.container_config, cid)
        cfg["Image"] = image_ref
        if hc["NetworkMode"] == "host" and not body.get("Hostname"):
            cfg["Hostname"] = socket.gethostname()
        if hc["NetworkMode"].startswith("container:"):
            target = self.get(hc["NetworkMode"].split(":", 1)[1])
            if target.id == cid:
                raise InvalidArgument("cannot join own network")
            # dockerd: a container on another's network takes that container's host and domain name
            cfg["Hostname"] = target.config.get("Hostname") or target.id[:12]
            cfg["Domainname"] = target.config.get("Domainname") or ""
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
                      networking_config=self._check_networks(hc, dict(body.get("NetworkingConfig") or {})),
                      mounts=mps)
        try:
            await asyncio.to_thread(self._make_files, c)
            self.store.register(c)
        except BaseException:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self.images.remove_rootfs, cid)
            shutil.rmtree(self.cdir(cid), ignore_errors=True)
            raise
        self._publish(c, "create")
        return cid, warnings

    def _make_files(self, c: Container) -> None:
        """The container's directory, rootfs snapshot, /etc files and, last, its record (one thread hop).

        The record's fsync (~10 ms on a busy disk) runs in a helper thread while the snapshot is
        made (whose record SnapshotStore fsyncs too); the record still appears, by rename, only
        after the snapshot is durable. An AutoRemove container's records (its own and its
        snapshot's) are not fsync'd: after a host crash it would be removed anyway, and its
        rootfs is a volatile overlay."""
        self.cdir(c.id).mkdir(parents=True, exist_ok=True)
        durable = not c.host_config.get("AutoRemove")
        pending = _FSYNCS.submit(self.store.write_pending, c, durable, "create") if durable else None
        try:
            self.images.prepare_rootfs(c.id, c.image_id, volatile=not durable)
            self._write_etc_files(c)
        finally:
            tmp = pending.result() if pending else None
        self.store.publish(c.id, tmp or self.store.write_pending(c, False, "create"))

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
