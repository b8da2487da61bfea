"""A build step becomes an image: the layer from a snapshot's changes (if any), the new
config with its history entry, an image record whose parent is the previous step's image.
Runs in a worker thread under the image service's lock.

Fast path, because a build commits every step: the step's own snapshot (the RUN container's
or the COPY workspace's) is committed as the layer's snapshot instead of unpacking the
layer blob again, and intermediate images get no manifest (`finish_image` adds one to the
image the build ends with; `save` and `push` make one on demand anyway).
"""

from __future__ import annotations

import contextlib
import copy
from typing import Any

from skiff.common.errors import Conflict
from skiff.common.timefmt import now_rfc3339
from skiff.engine.images.building import host_platform
from skiff.engine.images.placeholders import strip_placeholders
from skiff.engine.images.store import ImageRecord
from skiff.engine.images.tarwriter import write_changes
from skiff.oci import image as oci


def scratch_config() -> dict:
    os_name, arch = host_platform()
    return {"architecture": arch, "os": os_name, "config": {}, "rootfs": {"type": "layers", "diff_ids": []},
            "history": []}


def _layer(images: Any, key: str, diff_ids: list[str], keep: bool) -> tuple[str | None, list[str]]:
    """The layer blob from snapshot `key`'s changes, and the committed snapshot for its chain
    (`key` itself, unless it must be kept: then the blob is unpacked into a new one).
    Returns (diff id or None when nothing changed, blobs created)."""
    changes = images._changes(key)
    if not changes:
        return None, []
    with images.content.writer() as w:
        write_changes(changes, w)
        existed = images.content.exists(w.digest)
        diff_id = w.commit()
    chain = oci.chain_ids([*diff_ids, diff_id])[-1]
    if keep:
        images.layers.unpack([*diff_ids, diff_id])
    elif not images.snapshotter.exists(chain):
        images.snapshotter.commit(chain, key)  # the step's upper dir is the layer, unpacked
    return diff_id, ([] if existed else [diff_id])


def commit_step(images: Any, base: dict, parent_id: str, run_config: dict, probe: dict, created_by: str,
                snapshot_key: str | None, container: bool = False, keep: bool = False) -> tuple[str, dict]:
    """Store the step's image; returns (image id, its whole config). `snapshot_key` is the
    active snapshot whose changes form the layer (None for metadata-only steps); `container`:
    it is a RUN container's, whose bind-mount placeholders are left out; `keep`: the snapshot
    stays that container's (`--rm=false`)."""
    with images.lock:
        if snapshot_key and container:
            strip_placeholders(images, snapshot_key)
        diff_ids = list(base.get("rootfs", {}).get("diff_ids", []))
        diff_id, new_blobs = _layer(images, snapshot_key, diff_ids, keep) if snapshot_key else (None, [])
        if diff_id:
            diff_ids.append(diff_id)
        created = now_rfc3339()
        new = copy.deepcopy(base)
        new["created"] = created
        new["config"] = {k: v for k, v in run_config.items() if v not in (None, "", [], {}) or (k == "Cmd" and v == [])}
        new["container_config"] = probe
        new["rootfs"] = {"type": "layers", "diff_ids": diff_ids}
        new.pop("container", None)
        entry: dict = {"created": created, "created_by": created_by}
        if not diff_id:
            entry["empty_layer"] = True
        new["history"] = [*(base.get("history") or []), entry]
        try:
            image_id = images.content.put(oci.canonical_json(new))
            rec = images.store.records.get(image_id) or ImageRecord(image_id, loaded=created, parent=parent_id)
            rec.size = sum(images.layers.sizes(diff_ids))
            images.store.save_record(rec)
        except BaseException:
            if diff_id:
                with contextlib.suppress(Conflict):
                    images.snapshotter.remove(oci.chain_ids(diff_ids)[-1])
            for d in new_blobs:
                images.content.delete(d)
            raise
    return image_id, new


def finish_image(images: Any, image_id: str) -> None:
    """The image a build ends with gets its manifest, as every stored image has one."""
    with images.lock:
        rec = images.store.records[image_id]
        if not rec.manifest_digest or not images.content.exists(rec.manifest_digest):
            rec.manifest_digest = images.store_manifest(image_id)
            images.store.save_record(rec)
