"""Push: send an image's layers (gzip-compressed on the way), its config and a schema2 manifest.

A layer the registry already has is not sent: the blob map says which compressed digest a
local layer has on that registry (from earlier pulls and pushes); the repository is asked
with HEAD, and a blob seen in another repository of the same registry is mounted from it.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator

import aiohttp

from skiff.common.errors import NotFound, Unavailable
from skiff.engine.registry import gzipcodec
from skiff.engine.registry import progress as msg
from skiff.engine.registry.blobmap import BlobMap
from skiff.engine.registry.client import Repository
from skiff.engine.registry.concurrency import run_bounded
from skiff.engine.registry.progress import Progress, Throttle
from skiff.engine.registry.pull import add_repo_digest
from skiff.oci import image as oci
from skiff.oci import mediatypes as mt
from skiff.oci.reference import Reference

UPLOADS = 3  # dockerd's default is 5; this host has few cores and compressing is the cost
READ = 4 << 20
RETRIES = 3  # a dropped upload starts its layer again, as dockerd does ("Retrying in N seconds")


class Compressor:
    """Reads an uncompressed layer and yields deterministic gzip (mtime 0), hashing what it yields."""

    def __init__(self, f):
        self.f = f
        self.z = gzipcodec.compressor()
        self.hash = hashlib.sha256()
        self.size = 0
        self.read = 0
        self.done = False

    def next(self) -> bytes:
        """Runs in a worker thread."""
        out = b""
        while not out and not self.done:
            data = self.f.read(READ)
            self.read += len(data)
            if data:
                out = self.z.compress(data)
            else:
                out = self.z.flush()
                self.done = True
        self.hash.update(out)
        self.size += len(out)
        return out

    @property
    def digest(self) -> str:
        return "sha256:" + self.hash.hexdigest()


async def push_layer(images, repo: Repository, blobs: BlobMap, diff_id: str, send: Progress) -> dict:
    """Make sure the repository has this layer; returns its manifest descriptor."""
    ident = msg.short(diff_id)
    host = repo.session.host
    for known in blobs.known(diff_id, host):
        if known["repo"] == repo.path:
            if await repo.blob_size(known["digest"]) is not None:
                await send(msg.layer("Layer already exists", ident))
                return _descriptor(known)
    for known in blobs.known(diff_id, host):
        if known["repo"] != repo.path and await repo.mount(known["digest"], known["repo"]):
            blobs.add(diff_id, host, repo.path, known["digest"], known["size"], known["mediaType"])
            await send(msg.layer(f"Mounted from {known['repo']}", ident))
            return _descriptor(known)
    failures = 0
    while True:
        try:
            digest, size = await _upload(images, repo, diff_id, ident, send)
            break
        except (TimeoutError, Unavailable, aiohttp.ClientError, ConnectionError) as e:
            failures += 1
            if failures > RETRIES:
                why = e.message if isinstance(e, Unavailable) else (str(e) or type(e).__name__)
                raise Unavailable(f"pushing layer {ident} failed after {RETRIES} retries: {why}") from None
            await send(msg.layer(f"Retrying in {failures} second{'s' if failures > 1 else ''}", ident))
            await asyncio.sleep(failures)
    blobs.add(diff_id, host, repo.path, digest, size, mt.DOCKER_LAYER_GZIP)
    await send(msg.layer("Pushed", ident))
    return {"mediaType": mt.DOCKER_LAYER_GZIP, "size": size, "digest": digest}


async def _upload(images, repo: Repository, diff_id: str, ident: str, send: Progress) -> tuple[str, int]:
    """Compress and send one layer from its start; returns (digest, compressed size)."""
    total = images.content.size(diff_id)
    comp = Compressor(images.content.open(diff_id))
    throttle = Throttle(total)

    async def chunks() -> AsyncIterator[bytes]:
        while not comp.done:
            data = await asyncio.to_thread(comp.next)
            if data:
                yield data
            if throttle.due(comp.read, total):
                await send(msg.ticking("Pushing", ident, comp.read, total))

    try:
        return await repo.upload_stream(chunks(), lambda: comp.digest), comp.size
    finally:
        comp.f.close()


def _descriptor(known: dict) -> dict:
    return {"mediaType": known["mediaType"], "size": known["size"], "digest": known["digest"]}


async def push_tag(images, registry, blobs: BlobMap, ref: Reference, auth, send: Progress) -> dict:
    """Push one tag; returns the aux message's content {"Tag", "Digest", "Size"}."""
    image = images.get(str(ref))
    session = registry.session(ref.domain, auth)
    repo = Repository(session, ref.path)
    diff_ids = image.diff_ids
    order = list(reversed(diff_ids))  # docker lists the newest layer first
    for d in order:
        await send(msg.layer("Preparing", msg.short(d)))
    for d in order[UPLOADS:]:
        await send(msg.layer("Waiting", msg.short(d)))
    results: dict[str, dict] = {}

    async def one(diff_id: str) -> None:
        results[diff_id] = await push_layer(images, repo, blobs, diff_id, send)

    await run_bounded((one(d) for d in dict.fromkeys(order)), UPLOADS)
    config_bytes = images.content.read(image.id)
    if await repo.blob_size(image.id) is None:
        await repo.upload_bytes(config_bytes, image.id)
    manifest = {"schemaVersion": 2, "mediaType": mt.DOCKER_MANIFEST,
                "config": {"mediaType": mt.DOCKER_CONFIG, "size": len(config_bytes), "digest": image.id},
                "layers": [results[d] for d in diff_ids]}
    body = oci.canonical_json(manifest)
    digest = await repo.put_manifest(ref.tag, body, mt.DOCKER_MANIFEST)
    await asyncio.to_thread(_record_digest, images, image.id, ref, digest)
    await send(msg.status(f"{ref.tag}: digest: {digest} size: {len(body)}"))
    return {"Tag": ref.tag, "Digest": digest, "Size": len(body)}


def _record_digest(images, image_id: str, ref: Reference, digest: str) -> None:
    with images.lock:
        rec = images.store.records.get(image_id)
        if rec is None:
            raise NotFound(f"No such image: {image_id}")
        add_repo_digest(rec, ref, digest)
        images.store.save_record(rec)
