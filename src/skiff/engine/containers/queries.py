"""Read-only container views: inspect, ps, top, stats, diff, and prune. Mixed into ContainerService."""

from __future__ import annotations

import asyncio
import builtins
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from skiff.common.errors import Conflict, InvalidArgument, SkiffError
from skiff.common.timefmt import parse_rfc3339
from skiff.engine.containers import views
from skiff.engine.containers.record import Container

# The mixin sees ContainerService's attributes; typed as Any to keep the two modules acyclic.
_Base: Any = object


class QueryMixin(_Base):
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
        return views.inspect(c, self._paths(c), self._graph(c), rw, root, self.execs.ids_of(c.id),
                             self._network_settings(c))

    async def list(self, all: bool = False, limit: int = -1, size: bool = False,
                   filters: dict[str, builtins.list[str]] | None = None) -> builtins.list[dict]:
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
        from skiff.engine.containers.netedges import link_names

        linked = link_names(items)  # "/web/db" for db, as dockerd lists it
        out = []
        for c in items:
            if not show_all and c.state.status not in ("running", "paused", "restarting"):
                continue
            if not views.matches(c, filters, self._ancestor_matches, before, since):
                continue
            rw = root = None
            if size:
                rw, root = await self._sizes(c)
            out.append(views.summary(c, c.config.get("Image") or c.image_id, rw, root, self._network_settings(c)))
            if getattr(self, "edges", None) is not None:
                out[-1]["Ports"] = self.edges.port_summary(c)
                out[-1]["Names"] += linked.get(c.name, [])
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

    async def changes(self, ref: str) -> builtins.list[dict]:
        """[{"Path": str, "Kind": 0 modified | 1 added | 2 deleted}]."""
        c = self.get(ref)
        return hide_mountpoints(await self.images.rootfs_changes(c.id))

    async def prune(self, filters: dict[str, builtins.list[str]] | None = None) -> dict:
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
