"""Pull: resolve a reference to a manifest for this platform, fetch what is missing, record the image.

Layers download in parallel (at most DOWNLOADS at once) into content-store writers that
are committed only when every layer and the config have arrived and verified; then the
image lock is taken for the unpack and the record, as `load` does. A failure at any point
leaves nothing behind.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from skiff.common.errors import InvalidArgument
from skiff.common.timefmt import now_rfc3339
from skiff.engine.images.store import ImageRecord
from skiff.engine.registry import progress as msg
from skiff.engine.registry.blobmap import BlobMap
from skiff.engine.registry.client import Repository, choose_manifest
from skiff.engine.registry.concurrency import run_bounded
from skiff.engine.registry.fetch import LayerDownload, download
from skiff.engine.registry.progress import Progress, Throttle
from skiff.oci import image as oci
from skiff.oci import mediatypes as mt
from skiff.oci.reference import Reference

DOWNLOADS = 3  # dockerd's max-concurrent-downloads


@dataclass
class Resolved:
    digest: str  # the manifest digest (what RepoDigests record; for a list: the list's digest)
    manifest: dict
    config_digest: str


async def resolve(repo: Repository, ref: Reference, platform: tuple[str, str, str]) -> Resolved:
    digest, media_type, body = await repo.manifest(ref.digest or ref.tag)
    top = digest
    if mt.is_index(media_type):
        entry = choose_manifest(oci.parse_index(body), platform)
        _, media_type, body = await repo.manifest(entry["digest"])
    if media_type and not mt.is_manifest(media_type):
        raise InvalidArgument(f"unsupported manifest media type {media_type}")
    manifest = oci.parse_manifest(body)
    return Resolved(top, manifest, manifest["config"]["digest"])


async def pull(images, registry, ref: Reference, auth, send: Progress,
               platform: tuple[str, str, str], blobs: BlobMap | None = None) -> str:
    """Pull into `images` (an ImageService); returns the image id. `send` receives Docker's messages.

    `blobs` learns which registry blob each layer is, so pushing it back there sends nothing."""
    session = registry.session(ref.domain, auth)
    repo = Repository(session, ref.path)
    resolved = await resolve(repo, ref, platform)
    await send(msg.status(f"Pulling from {ref.path}", ref.tag or ref.digest))
    config_bytes = await repo.blob_bytes(resolved.config_digest)
    config = oci.parse_config(config_bytes)
    layers = resolved.manifest["layers"]
    diff_ids = config["rootfs"]["diff_ids"]
    if len(layers) != len(diff_ids):
        raise InvalidArgument(f"invalid image: the manifest lists {len(layers)} layers but the config has "
                              f"{len(diff_ids)}")
    downloads: list[LayerDownload | None] = []
    try:
        downloads = _plan(images, layers, diff_ids)
        for desc, dl in zip(layers, downloads, strict=True):
            await send(msg.layer("Already exists" if dl is None else "Pulling fs layer", msg.short(desc["digest"])))
        await _download_all(repo, [d for d in downloads if d is not None], send)
        storing = asyncio.ensure_future(_store(images, ref, resolved, config_bytes, diff_ids, downloads, send,
                                               layers))
        try:
            image_id = await asyncio.shield(storing)
        except asyncio.CancelledError:
            await asyncio.wait([storing])  # its thread commits or rolls back on its own: let it end first
            raise
    finally:
        for dl in downloads:
            if dl is not None:
                dl.writer.abort()  # no-op once committed
    if blobs is not None:
        for desc, diff_id in zip(layers, diff_ids, strict=True):
            blobs.add(diff_id, session.host, ref.path, desc["digest"], int(desc.get("size") or 0),
                      desc.get("mediaType") or mt.DOCKER_LAYER_GZIP)
    return image_id


def _plan(images, layers: list[dict], diff_ids: list[str]) -> list[LayerDownload | None]:
    """A download for each layer whose content is not here yet (None: `Already exists`)."""
    out: list[LayerDownload | None] = []
    wanted: set[str] = set()
    for desc, diff_id in zip(layers, diff_ids, strict=True):
        if images.content.exists(diff_id) or diff_id in wanted:
            out.append(None)
            continue
        if desc.get("urls") and desc.get("mediaType") == mt.DOCKER_FOREIGN_LAYER:
            raise InvalidArgument("foreign layers (with urls) are not supported")
        wanted.add(diff_id)
        out.append(LayerDownload(desc["digest"], int(desc.get("size") or 0), images.content.writer()))
    return out


async def _download_all(repo: Repository, downloads: list[LayerDownload], send: Progress) -> None:
    for dl in downloads[DOWNLOADS:]:
        await send(msg.layer("Waiting", msg.short(dl.digest)))

    async def one(dl: LayerDownload) -> None:
        ident = msg.short(dl.digest)
        throttle = Throttle(dl.size)

        async def tick(current: int) -> None:
            if throttle.due(current, dl.size):
                await send(msg.ticking("Downloading", ident, current, dl.size))
        await download(repo, dl, tick)
        await send(msg.layer("Verifying Checksum", ident))
        await send(msg.layer("Download complete", ident))

    await run_bounded((one(dl) for dl in downloads), DOWNLOADS)


async def _store(images, ref: Reference, resolved: Resolved, config_bytes: bytes, diff_ids: list[str],
                 downloads: list[LayerDownload | None], send: Progress, layers: list[dict]) -> str:
    loop = asyncio.get_running_loop()

    def post(m: dict) -> None:
        asyncio.run_coroutine_threadsafe(send(m), loop)

    for desc, dl in zip(layers, downloads, strict=True):
        if dl is not None:
            await send(msg.ticking("Extracting", msg.short(desc["digest"]), 0, dl.writer.size))
    return await asyncio.to_thread(_commit_and_record, images, ref, resolved, config_bytes, diff_ids,
                                   downloads, layers, post)


def _commit_and_record(images, ref: Reference, resolved: Resolved, config_bytes: bytes, diff_ids: list[str],
                       downloads: list[LayerDownload | None], layers: list[dict], post) -> str:
    with images.lock:
        added: set[str] = set()
        created: list[str] = []
        try:
            for diff_id, dl in zip(diff_ids, downloads, strict=True):
                if dl is not None:
                    dl.writer.commit(diff_id)  # the uncompressed content must be what the config says
                    added.add(diff_id)
            if not images.content.exists(resolved.config_digest):
                images.content.put(config_bytes, resolved.config_digest)
                added.add(resolved.config_digest)
            for i, (desc, dl) in enumerate(zip(layers, downloads, strict=True)):
                created += images.layers.unpack(diff_ids[:i + 1])
                if dl is not None:
                    post(msg.layer("Pull complete", msg.short(desc["digest"])))
            image_id = resolved.config_digest
            _record(images, ref, image_id, resolved.digest, diff_ids)
        except BaseException:
            images.layers.discard(created)
            _, keep = images._keep()
            for d in added - keep:
                images.content.delete(d)
            raise
        return image_id


def _record(images, ref: Reference, image_id: str, manifest_digest: str, diff_ids: list[str]) -> None:
    rec = images.store.records.get(image_id) or ImageRecord(image_id, loaded=now_rfc3339())
    rec.size = sum(images.layers.sizes(diff_ids))
    if not rec.manifest_digest or not images.content.exists(rec.manifest_digest):
        images.store.save_record(rec)
        rec.manifest_digest = images.store_manifest(image_id)
    add_repo_digest(rec, ref, manifest_digest)
    images._configs.pop(image_id, None)
    images.store.save_record(rec)
    if ref.tag:
        images._set_ref(ref.with_tag(ref.tag), image_id, event=False)


def add_repo_digest(rec: ImageRecord, ref: Reference, digest: str) -> None:
    """`name@sha256:...` in the image's RepoDigests, one per repository (the newest wins)."""
    name = ref.familiar_name()
    entry = f"{name}@{digest}"
    rec.repo_digests = [d for d in rec.repo_digests if d.split("@", 1)[0] != name] + [entry]
