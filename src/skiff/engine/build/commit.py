"""A build step becomes an image: the layer from a snapshot's changes (if any), the new
config with its history entry, an image record whose parent is the previous step's image.
Runs in a worker thread under the image service's lock."""

from __future__ import annotations

import copy
from typing import Any

from skiff.common.timefmt import now_rfc3339
from skiff.engine.images.building import host_platform, store_image
from skiff.engine.images.tarwriter import write_changes


def scratch_config() -> dict:
    os_name, arch = host_platform()
    return {"architecture": arch, "os": os_name, "config": {}, "rootfs": {"type": "layers", "diff_ids": []},
            "history": []}


def commit_step(images: Any, base: dict, parent_id: str, run_config: dict, probe: dict, created_by: str,
                snapshot_key: str | None) -> tuple[str, dict]:
    """Store the step's image; returns (image id, its whole config). `snapshot_key` is the
    active snapshot whose changes form the layer (None for metadata-only steps)."""
    with images.lock:
        new_blobs = []
        diff_ids = list(base.get("rootfs", {}).get("diff_ids", []))
        changes = images._changes(snapshot_key) if snapshot_key else []
        if changes:
            with images.content.writer() as w:
                write_changes(changes, w)
                existed = images.content.exists(w.digest)
                diff_id = w.commit()
            if not existed:
                new_blobs.append(diff_id)
            diff_ids.append(diff_id)
        created = now_rfc3339()
        new = copy.deepcopy(base)
        new["created"] = created
        new["config"] = {k: v for k, v in run_config.items() if v not in (None, "", [], {})}
        new["container_config"] = probe
        new["rootfs"] = {"type": "layers", "diff_ids": diff_ids}
        new.pop("container", None)
        entry: dict = {"created": created, "created_by": created_by}
        if not changes:
            entry["empty_layer"] = True
        new["history"] = [*(base.get("history") or []), entry]
        image_id = store_image(images, new, None, parent=parent_id, new_blobs=new_blobs)
    return image_id, new
