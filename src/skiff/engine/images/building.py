"""`docker import` and `docker commit`: a new layer and a new config, then an image record."""

from __future__ import annotations

import copy
import platform as _platform
from typing import BinaryIO

import orjson

from skiff.common.timefmt import now_rfc3339
from skiff.engine.images.config_changes import apply_changes
from skiff.engine.images.placeholders import without_placeholders
from skiff.engine.images.store import ImageRecord
from skiff.engine.images.tarwriter import write_changes
from skiff.oci.reference import Reference

_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386", "ppc64le": "ppc64le",
         "s390x": "s390x", "riscv64": "riscv64"}


def host_platform() -> tuple[str, str]:
    return "linux", _ARCH.get(_platform.machine(), _platform.machine())


def store_image(svc, config: dict, ref: Reference | None, parent: str = "", new_blobs=()) -> str:
    """Unpack the layers, store config + manifest, record and name the image (svc.lock held)."""
    diff_ids = config["rootfs"]["diff_ids"]
    new_chains = []
    try:
        new_chains = svc.layers.unpack(diff_ids)
        image_id = svc.content.put(orjson.dumps(config))
        rec = svc.store.records.get(image_id) or ImageRecord(image_id, loaded=now_rfc3339(), parent=parent)
        rec.size = sum(svc.layers.sizes(diff_ids))
        svc.store.save_record(rec)
        rec.manifest_digest = svc.store_manifest(image_id)
        svc.store.save_record(rec)
    except BaseException:
        for chain in reversed(new_chains):
            svc.snapshotter.remove(chain)
        for d in new_blobs:
            svc.content.delete(d)
        raise
    if ref is not None:
        svc._set_ref(ref, image_id)
    return image_id


def import_rootfs(svc, fileobj: BinaryIO, ref: Reference | None, changes: list[str], message: str,
                  platform: str) -> str:
    os_name, arch = host_platform()
    if platform:
        parts = platform.split("/")
        os_name, arch = parts[0] or os_name, (parts[1] if len(parts) > 1 else arch)
    container_config = apply_changes({}, changes)
    with svc.lock:
        diff_id, new = svc.layers.ingest(fileobj)
        created = now_rfc3339()
        config = {
            "architecture": arch,
            "os": os_name,
            "created": created,
            "config": container_config,
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            "history": [{"created": created, "comment": message or "Imported from -"}],
        }
        if message:
            config["comment"] = message
        image_id = store_image(svc, config, ref, new_blobs=[diff_id] if new else [])
    svc.events.publish("image", "import", image_id, {"name": image_id})
    return image_id


def commit(svc, key: str, parent_image: str, ref: Reference | None, author: str, comment: str,
           changes: list[str], config: dict | None, container_id: str) -> str:
    parent = svc.get(parent_image)
    with svc.lock:
        layer_changes = without_placeholders(svc._changes(key), svc.snapshotter.lower_dirs(key))
        diff_ids = parent.diff_ids
        new_blobs = []
        if layer_changes:
            with svc.content.writer() as w:
                write_changes(layer_changes, w)
                existed = svc.content.exists(w.digest)
                diff_id = w.commit()
            if not existed:
                new_blobs.append(diff_id)
            diff_ids = [*diff_ids, diff_id]
        runtime_config = copy.deepcopy(config if config is not None else parent.container_config)
        runtime_config = apply_changes(runtime_config, changes)
        cmd = [*(runtime_config.get("Entrypoint") or []), *(runtime_config.get("Cmd") or [])]
        created = now_rfc3339()
        new = copy.deepcopy(parent.config)
        new["created"] = created
        new["config"] = runtime_config
        new["rootfs"] = {"type": "layers", "diff_ids": diff_ids}
        entry: dict = {"created": created, "created_by": " ".join(cmd)}
        if author:
            entry["author"] = author
            new["author"] = author
        else:
            new.pop("author", None)
        if comment:
            entry["comment"] = comment
            new["comment"] = comment
        else:
            new.pop("comment", None)
        if not layer_changes:
            entry["empty_layer"] = True
        new["history"] = [*(parent.config.get("history") or []), entry]
        if container_id:
            new["container"] = container_id
        image_id = store_image(svc, new, ref, parent=parent.id, new_blobs=new_blobs)
    return image_id
