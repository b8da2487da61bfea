"""ImageService: what the API and the container service call for images.

Quick lookups are plain methods; anything that reads or writes tarballs or walks trees
is `async` and runs its work in a thread. One lock serialises everything that adds or
removes blobs and snapshots, so garbage collection never races a load.
"""

from __future__ import annotations

import asyncio
import builtins
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import orjson

from skiff.common.errors import Conflict, InvalidArgument, NotFound
from skiff.common.ids import short_id
from skiff.common.timefmt import now_rfc3339
from skiff.engine.content.store import ContentStore
from skiff.engine.events import EventBus
from skiff.engine.images import views
from skiff.engine.images.filters import matches_filters, reference_matches
from skiff.engine.images.layers import LayerStore
from skiff.engine.images.store import ImageRecord, ImageStore
from skiff.engine.snapshots.base import Mount
from skiff.engine.snapshots.metadata import VOLATILE_LABEL
from skiff.engine.snapshots.native import new_snapshotter
from skiff.oci import image as oci
from skiff.oci import mediatypes as mt
from skiff.oci.reference import Reference, check_tag, parse_reference, parse_repository

# in_use(image_id) -> None, or the id of a container using it, or (container id, running).
InUse = Callable[[str], "str | tuple[str, bool] | None"]
_HEX_PREFIX = re.compile(r"^(sha256:)?[0-9a-f]{1,64}$")


@dataclass
class Image:
    id: str  # "sha256:" + config digest hex
    config: dict  # the whole image config JSON (architecture, os, config, rootfs, history, ...)
    repo_tags: list[str] = field(default_factory=list)  # familiar form: "busybox:latest"
    repo_digests: list[str] = field(default_factory=list)  # "busybox@sha256:..."
    size: int = 0  # bytes of all layers, unpacked
    created: str = ""  # RFC 3339, from the config
    parent: str = ""  # local parent image id (commit/build), or ""
    manifest_digest: str = ""  # digest of the stored manifest blob

    @property
    def diff_ids(self) -> list[str]:
        return list(self.config.get("rootfs", {}).get("diff_ids", []))

    @property
    def chain_id(self) -> str | None:
        chains = oci.chain_ids(self.diff_ids)
        return chains[-1] if chains else None

    @property
    def container_config(self) -> dict:
        """The runtime part of the config (Env, Cmd, Entrypoint, WorkingDir, User, ...)."""
        return dict(self.config.get("config") or {})


class ImageService:
    def __init__(self, root: str | Path, events: EventBus | None = None, snapshotter: str = "overlay"):
        """`root` is the engine's data root; content/, snapshots/ and images/ live under it."""
        self.root = Path(root)
        self.events = events or EventBus()
        self.content = ContentStore(self.root / "content")
        self.content.clean_ingest()
        self.snapshotter = new_snapshotter(snapshotter, self.root / "snapshots")
        self.snapshotter_name = snapshotter
        self.layers = LayerStore(self.content, self.snapshotter)
        self.layers.clean_partial()
        self.store = ImageStore(self.root / "images")
        self.lock = threading.RLock()
        self._configs: dict[str, dict] = {}
        self._gc()  # whatever a crash left unreferenced
        # set by the container service
        self.in_use: InUse = lambda image_id: None

    # -- lookups -------------------------------------------------------------------------
    def _config(self, image_id: str) -> dict:
        cfg = self._configs.get(image_id)
        if cfg is None:
            cfg = orjson.loads(self.content.read(image_id))
            self._configs[image_id] = cfg
        return cfg

    def _image(self, image_id: str) -> Image:
        rec = self.store.records.get(image_id)
        if rec is None:  # removed between lookup and read
            raise NotFound(f"No such image: {image_id}")
        cfg = self._config(image_id)
        refs = self.store.refs_of(image_id)
        tags = [parse_reference(r).familiar() for r in refs if "@" not in r]
        return Image(image_id, cfg, tags, list(rec.repo_digests), rec.size, cfg.get("created", ""),
                     rec.parent, rec.manifest_digest)

    def resolve_id(self, ref_or_id: str) -> str:
        """The image id a reference, full id or id prefix names; NotFound otherwise."""
        s = ref_or_id.strip()
        if not s:
            raise NotFound("No such image: ")
        with self.store.lock:
            if s.startswith("sha256:") and s in self.store.records:
                return s
            display = s
            try:
                ref = parse_reference(s)
                display = ref.familiar()
                found = self.store.refs.get(str(ref))
                if found:
                    return found
                if ref.digest:
                    for rec in self.store.records.values():
                        if any(parse_reference(d).name == ref.name and d.endswith(ref.digest)
                               for d in rec.repo_digests):
                            return rec.id
            except InvalidArgument:
                if not _HEX_PREFIX.match(s):
                    raise
            if _HEX_PREFIX.match(s):
                prefix = s if s.startswith("sha256:") else "sha256:" + s
                hits = [i for i in self.store.records if i.startswith(prefix)]
                if len(hits) == 1:
                    return hits[0]
                if len(hits) > 1:
                    raise NotFound(f"No such image: {s} (ambiguous: {len(hits)} images match)")
            raise NotFound(f"No such image: {display}")

    def get(self, ref_or_id: str) -> Image:
        """By reference, full id, `sha256:` id, or short id prefix. NotFound("No such image: X")."""
        return self._image(self.resolve_id(ref_or_id))

    def images(self) -> list[Image]:
        with self.store.lock:
            return [self._image(i) for i in list(self.store.records)]

    def _children(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for rec in self.store.records.values():
            if rec.parent:
                out.setdefault(rec.parent, []).append(rec.id)
        return out

    def list(self, all: bool = False, filters: dict[str, list[str]] | None = None,
             digests: bool = False) -> builtins.list[dict]:
        """Docker's ImageSummary list (GET /images/json), newest first."""
        filters = filters or {}
        imgs = self.images()
        by_ref = {}
        for key in ("before", "since"):
            for v in filters.get(key, []):
                by_ref[v] = self.get(v)
        children = self._children()
        out = []
        for img in imgs:
            if not all and not img.repo_tags and img.id in children:
                continue  # an intermediate image, shown only with -a
            if not matches_filters(img, filters, by_ref):
                continue
            tags = img.repo_tags
            if filters.get("reference"):  # dockerd lists only the names that matched
                tags = [t for t in tags if any(reference_matches(p, [t]) for p in filters["reference"])]
            out.append(views.summary(img.id, img.config, tags, img.repo_digests, img.parent, img.size))
        out.sort(key=lambda s: (s["Created"], s["Id"]), reverse=True)
        return out

    def inspect(self, ref_or_id: str) -> dict:
        """Docker's ImageInspect JSON."""
        img = self.get(ref_or_id)
        rec = self.store.records[img.id]
        data = {}
        chains = oci.chain_ids(img.diff_ids)
        if chains and self.snapshotter.exists(chains[-1]):
            lowers = [self.snapshotter.upper_dir(chains[-1]), *self.snapshotter.lower_dirs(chains[-1])]
            data = {"LowerDir": ":".join(lowers[1:]), "UpperDir": lowers[0], "MergedDir": "", "WorkDir": ""}
        return views.inspect(img.id, img.config, img.repo_tags, img.repo_digests, img.parent, img.size,
                             rec.last_tag_time, data, "overlay2" if self.snapshotter_name == "overlay" else "vfs")

    def history(self, ref_or_id: str) -> builtins.list[dict]:
        """Docker's HistoryResponseItem list, newest first."""
        img = self.get(ref_or_id)
        return views.history(img.id, img.config, self.layers.sizes(img.diff_ids), img.repo_tags)

    # -- references ----------------------------------------------------------------------
    def tag(self, source: str, repo: str, tag: str | None = None) -> None:
        image_id = self.resolve_id(source)
        ref = _target_ref(repo, tag)
        self._set_ref(ref, image_id)

    def _set_ref(self, ref: Reference, image_id: str, event: bool = True) -> str | None:
        """Point a reference at an image; returns the image it was taken from, if any."""
        with self.store.lock:
            old = self.store.set_ref(str(ref), image_id)
            rec = self.store.records[image_id]
            rec.last_tag_time = now_rfc3339()
            self.store.save_record(rec)
        if event:
            self.events.publish("image", "tag", image_id, {"name": ref.familiar()})
        return old

    def remove(self, ref_or_id: str, force: bool = False, noprune: bool = False) -> builtins.list[dict]:
        """Docker's DELETE /images/{name} answer: [{"Untagged": ...}, {"Deleted": ...}]."""
        from skiff.engine.images.removal import remove_image
        with self.lock:
            return remove_image(self, ref_or_id, force, noprune)

    def _using(self, image_id: str) -> tuple[str, bool] | None:
        got = self.in_use(image_id)
        if not got:
            return None
        if isinstance(got, tuple):
            return got[0], bool(got[1])
        return got, False

    def _delete_image(self, image_id: str, prune: bool = True) -> builtins.list[dict]:
        """Drop a record (refs already gone) and collect what nothing uses any more."""
        self.store.delete_record(image_id)
        self._configs.pop(image_id, None)
        self.events.publish("image", "delete", image_id, {"name": image_id})
        out = [{"Deleted": image_id}]
        if prune:
            removed, _ = self._gc()
            out += [{"Deleted": c} for c in removed]
        return out

    def _gc(self) -> tuple[builtins.list[str], int]:
        return self.layers.gc(*self._keep())

    def _keep(self) -> tuple[set[str], set[str]]:
        """Chain ids and blobs that some image record still needs."""
        keep_chains: set[str] = set()
        keep_blobs: set[str] = set()
        for rec in self.store.records.values():
            cfg = self._config(rec.id)
            diff_ids = cfg.get("rootfs", {}).get("diff_ids", [])
            keep_chains.update(oci.chain_ids(diff_ids))
            keep_blobs.update([rec.id, *diff_ids])
            if rec.manifest_digest:
                keep_blobs.add(rec.manifest_digest)
        return keep_chains, keep_blobs

    # -- archives ------------------------------------------------------------------------
    async def load(self, fileobj: BinaryIO, quiet: bool = False) -> builtins.list[str]:
        """Load a docker-archive or OCI layout tar; returns lines like "Loaded image: busybox:latest"."""
        from skiff.engine.images.loading import load_archive
        return await asyncio.to_thread(load_archive, self, fileobj)

    async def save(self, refs: builtins.list[str], out: BinaryIO) -> None:
        """Write a docker-archive tar (also a valid OCI layout) of the images to `out`."""
        from skiff.engine.images.archive_write import write_archive
        images = self._to_save(refs)
        await asyncio.to_thread(write_archive, images, self.content, out)
        for img in images:
            self.events.publish("image", "save", img.image_id, {"name": img.refs[0] if img.refs else img.image_id})

    async def save_oci_layout(self, refs: builtins.list[str], directory: str | Path) -> None:
        """Write an OCI image layout directory (for `skopeo inspect oci:DIR`)."""
        from skiff.engine.images.archive_write import write_layout_dir
        images = self._to_save(refs)
        await asyncio.to_thread(write_layout_dir, images, self.content, directory)

    def _to_save(self, names: builtins.list[str]):
        from skiff.engine.images.archive_write import ImageToSave
        if not names:
            raise InvalidArgument("No images specified")
        chosen: dict[str, ImageToSave] = {}
        for name in names:
            pairs = self._refs_for_save(name)
            for image_id, ref in pairs:
                rec = self.store.records[image_id]
                item = chosen.get(image_id)
                if item is None:
                    self._ensure_manifest(rec)
                    item = chosen[image_id] = ImageToSave(image_id, rec.manifest_digest,
                                                          self._config(image_id)["rootfs"]["diff_ids"])
                if ref and ref not in item.refs:
                    item.refs.append(ref)
        return list(chosen.values())

    def _refs_for_save(self, name: str) -> builtins.list[tuple[str, str | None]]:
        """A bare repository name saves all its tags; a tag saves itself; an id saves no names."""
        try:
            ref = parse_reference(name, default_tag=False)
        except InvalidArgument:
            ref = None
        if ref is not None and not ref.tag and not ref.digest:
            tagged: builtins.list[tuple[str, str | None]] = [(i, r) for r, i in sorted(self.store.refs.items())
                      if parse_reference(r).name == ref.name]
            if tagged:
                return tagged
        image_id = self.resolve_id(name)
        if ref is not None and not _HEX_PREFIX.match(name) and not name.startswith("sha256:"):
            full = str(ref if ref.tag or ref.digest else ref.with_tag("latest"))
            if self.store.refs.get(full) == image_id:
                return [(image_id, full)]
        return [(image_id, None)]

    def _ensure_manifest(self, rec: ImageRecord) -> None:
        if rec.manifest_digest and self.content.exists(rec.manifest_digest):
            return
        rec.manifest_digest = self.store_manifest(rec.id)
        self.store.save_record(rec)

    def store_manifest(self, image_id: str) -> str:
        """An OCI manifest over the uncompressed layer blobs, stored; returns its digest."""
        cfg_size = self.content.size(image_id)
        layers = [oci.descriptor(mt.OCI_LAYER, d, self.content.size(d))
                  for d in self._config(image_id)["rootfs"]["diff_ids"]]
        manifest = {"schemaVersion": 2, "mediaType": mt.OCI_MANIFEST,
                    "config": oci.descriptor(mt.OCI_CONFIG, image_id, cfg_size), "layers": layers}
        return self.content.put(oci.canonical_json(manifest))

    async def import_rootfs(self, fileobj: BinaryIO, repo: str | None = None, tag: str | None = None,
                            changes: builtins.list[str] | None = None, message: str = "",
                            platform: str = "") -> str:
        """`docker import`: a rootfs tarball becomes a one-layer image; returns the image id."""
        from skiff.engine.images.building import import_rootfs
        ref = _target_ref(repo, tag) if repo else None
        return await asyncio.to_thread(import_rootfs, self, fileobj, ref, changes or [], message, platform)

    async def commit(self, key: str, parent_image: str, repo: str | None = None, tag: str | None = None,
                     author: str = "", comment: str = "", changes: builtins.list[str] | None = None,
                     config: dict | None = None, container_id: str = "") -> str:
        """A new image from the active snapshot `key` (its upper dir) on top of `parent_image`."""
        from skiff.engine.images.building import commit
        ref = _target_ref(repo, tag) if repo else None
        return await asyncio.to_thread(commit, self, key, parent_image, ref, author, comment,
                                       changes or [], config, container_id)

    async def prune(self, all: bool = False, filters: dict[str, builtins.list[str]] | None = None) -> dict:
        """{"ImagesDeleted": [...], "SpaceReclaimed": n}; dangling only unless `all`."""
        from skiff.engine.images.removal import prune
        return await asyncio.to_thread(prune, self, all, filters or {})

    # -- container root filesystems ------------------------------------------------------
    def prepare_rootfs(self, key: str, image: str, volatile: bool = False) -> builtins.list[Mount]:
        """A writable snapshot `key` (the container id) on top of the image's layers;
        `volatile`: an AutoRemove container's, whose record need not survive a host crash."""
        img = self.get(image)
        if img.chain_id and not self.snapshotter.exists(img.chain_id):
            with self.lock:  # only when layers are missing: a long load must not block container creation
                self.layers.unpack(img.diff_ids)
        return self.snapshotter.prepare(key, img.chain_id, {VOLATILE_LABEL: "true"} if volatile else None)

    def rootfs_mounts(self, key: str) -> builtins.list[Mount]:
        return self.snapshotter.mounts(key)

    def rootfs_upper_dir(self, key: str) -> str:
        return self.snapshotter.upper_dir(key)

    def remove_rootfs(self, key: str) -> None:
        if self.snapshotter.exists(key):
            self.snapshotter.remove(key)

    async def rootfs_changes(self, key: str) -> builtins.list[dict]:
        """`docker diff`: [{"Path": "/etc/x", "Kind": 0|1|2}] (modified, added, deleted)."""
        changes = await asyncio.to_thread(self._changes, key)
        return [{"Path": c.path, "Kind": c.kind} for c in changes]

    def _changes(self, key: str):
        from skiff.engine.images.changes import overlay_changes, tree_changes
        upper = self.snapshotter.upper_dir(key)
        lowers = self.snapshotter.lower_dirs(key)
        if self.snapshotter_name == "overlay":
            return list(overlay_changes(upper, lowers))
        return list(tree_changes(upper, lowers[0] if lowers else None))

    async def rootfs_size(self, key: str) -> int:
        """Bytes in the container's writable layer (SizeRw)."""
        if self.snapshotter_name == "overlay":
            return await asyncio.to_thread(self.snapshotter.usage, key)

        def native_size() -> int:
            import os
            total = 0
            for c in self._changes(key):
                if c.source and not os.path.isdir(c.source):
                    total += os.lstat(c.source).st_size
            return total
        return await asyncio.to_thread(native_size)

    async def export_rootfs(self, key: str, out: BinaryIO) -> None:
        """A tar of the container's whole filesystem (image layers + its changes)."""
        from skiff.engine.images.changes import merged_tree
        from skiff.engine.images.tarwriter import walk_tree, write_tree
        upper = self.snapshotter.upper_dir(key)
        entries: Iterable[tuple[str, str]]
        if self.snapshotter_name == "overlay":
            entries = merged_tree([upper, *self.snapshotter.lower_dirs(key)])
        else:
            entries = walk_tree(upper)
        await asyncio.to_thread(write_tree, entries, out)


def _target_ref(repo: str, tag: str | None) -> Reference:
    """The reference `docker tag`/`commit`/`import` create from a repo and optional tag."""
    if tag:
        ref = parse_repository(repo)
        if ref.tag:
            raise InvalidArgument("invalid reference format")
        return ref.with_tag(check_tag(tag))
    ref = parse_reference(repo)
    if ref.digest:
        raise InvalidArgument("refusing to create a tag with a digest reference")
    return ref


__all__ = ["Image", "ImageService", "InUse", "Conflict", "short_id"]
