"""`docker load`: archive → content store → layer snapshots → image records and names."""

from __future__ import annotations

from typing import BinaryIO

from skiff.common.errors import InvalidArgument
from skiff.common.timefmt import now_rfc3339
from skiff.engine.images.archive_read import images_in, ingest_archive
from skiff.engine.images.store import ImageRecord
from skiff.oci.reference import parse_reference


def load_archive(svc, fileobj: BinaryIO) -> list[str]:
    """Load every image in the tarball; all or nothing. Returns Docker's output lines."""
    with svc.lock:
        archive = ingest_archive(fileobj, svc.content)
        added = set(archive.added)
        new_chains: list[str] = []
        try:
            images = images_in(archive, svc.content)
            if not images:
                raise InvalidArgument("invalid archive: it describes no images")
            for img in images:
                diff_ids = img.config["rootfs"]["diff_ids"]
                if len(img.layer_blobs) != len(diff_ids):
                    raise InvalidArgument(f"invalid archive: image {img.config_digest} lists {len(img.layer_blobs)} "
                                          f"layers but its config has {len(diff_ids)}")
                for i, (blob, want) in enumerate(zip(img.layer_blobs, diff_ids, strict=True)):
                    got, new = svc.layers.uncompressed(blob)
                    if new:
                        added.add(got)
                    if got != want:
                        raise InvalidArgument(f"invalid archive: layer {i} of image {img.config_digest} has "
                                              f"content {got}, but the image config expects {want}")
                new_chains += svc.layers.unpack(diff_ids)
            messages = _record(svc, images)
        except BaseException:
            svc.layers.discard(new_chains)
            _drop_unreferenced(svc, added)
            raise
        _drop_unreferenced(svc, added)
        return messages


def _record(svc, images) -> list[str]:
    messages: list[str] = []
    for img in images:
        image_id = img.config_digest
        diff_ids = img.config["rootfs"]["diff_ids"]
        rec = svc.store.records.get(image_id) or ImageRecord(image_id, loaded=now_rfc3339())
        rec.size = sum(svc.layers.sizes(diff_ids))
        svc._configs.pop(image_id, None)
        svc.store.save_record(rec)
        rec.manifest_digest = svc.store_manifest(image_id)
        svc.store.save_record(rec)
        for full in img.repo_tags:
            ref = parse_reference(full)
            old = svc.store.refs.get(str(ref))
            if old and old != image_id:
                messages.append(f"The image {ref.familiar()} already exists, renaming the old one with ID "
                                f"{old} to empty string")
            svc._set_ref(ref, image_id, event=False)  # dockerd logs only "load" here
            messages.append(f"Loaded image: {ref.familiar()}")
        if not img.repo_tags:
            messages.append(f"Loaded image ID: {image_id}")
        svc.events.publish("image", "load", image_id, {"name": image_id})
    return messages


def _drop_unreferenced(svc, digests: set[str]) -> None:
    _, keep = svc._keep()
    for d in digests - keep:
        svc.content.delete(d)
