"""Write images as `docker save` (25+) does: an OCI layout plus the legacy manifest.json.

Layout of the tarball (also what skopeo reads as `oci-archive:` and `docker-archive:`):

    blobs/sha256/<hex>   configs, uncompressed layer tars, OCI manifests
    index.json           one manifest descriptor per reference, with name annotations
    manifest.json        [{"Config": "blobs/sha256/..", "RepoTags": [..], "Layers": [..]}]
    oci-layout           {"imageLayoutVersion": "1.0.0"}
    repositories         {"busybox": {"latest": "<top layer hex>"}}
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import orjson

from skiff.engine.content.store import ContentStore
from skiff.oci import image as oci
from skiff.oci import mediatypes as mt
from skiff.oci.reference import parse_reference

EPOCH_MTIME = 0


@dataclass
class ImageToSave:
    image_id: str
    manifest_digest: str
    diff_ids: list[str]
    refs: list[str] = field(default_factory=list)  # full references to name in this archive


def layout_documents(images: list[ImageToSave], content: ContentStore) -> dict[str, bytes]:
    """index.json, manifest.json, oci-layout and repositories for these images."""
    index_entries: list[dict] = []
    legacy: list[dict] = []
    repositories: dict[str, dict[str, str]] = {}
    for img in images:
        size = content.size(img.manifest_digest)
        base = {"mediaType": mt.OCI_MANIFEST, "digest": img.manifest_digest, "size": size}
        tags: list[str] = []
        for ref_s in img.refs:
            ref = parse_reference(ref_s)
            ann = {mt.ANNOTATION_IMAGE_NAME: str(ref)}
            if ref.tag:
                ann[mt.ANNOTATION_REF_NAME] = ref.tag
                tags.append(ref.familiar())
                if img.diff_ids:
                    repositories.setdefault(ref.familiar_name(), {})[ref.tag] = img.diff_ids[-1][7:]
            index_entries.append({**base, "annotations": ann})
        if not img.refs:
            index_entries.append(base)
        legacy.append({"Config": "blobs/sha256/" + img.image_id[7:], "RepoTags": tags or None,
                       "Layers": ["blobs/sha256/" + d[7:] for d in img.diff_ids]})
    return {
        "index.json": orjson.dumps(oci.build_index(index_entries)),
        "manifest.json": orjson.dumps(legacy),
        "oci-layout": b'{"imageLayoutVersion": "1.0.0"}',
        "repositories": orjson.dumps(repositories),
    }


def blobs_of(images: list[ImageToSave]) -> list[str]:
    seen: dict[str, None] = {}
    for img in images:
        for d in [img.image_id, *img.diff_ids, img.manifest_digest]:
            seen.setdefault(d, None)
    return list(seen)


def _entry(name: str, size: int, mode: int = 0o644, kind: bytes = tarfile.REGTYPE) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.size = size
    ti.mode = mode
    ti.type = kind
    ti.mtime = EPOCH_MTIME
    return ti


def write_archive(images: list[ImageToSave], content: ContentStore, out: BinaryIO) -> None:
    docs = layout_documents(images, content)
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(_entry("blobs", 0, 0o755, tarfile.DIRTYPE))
        tar.addfile(_entry("blobs/sha256", 0, 0o755, tarfile.DIRTYPE))
        for digest in blobs_of(images):
            with content.open(digest) as f:
                tar.addfile(_entry("blobs/sha256/" + digest[7:], os.fstat(f.fileno()).st_size), f)
        for name, data in docs.items():
            tar.addfile(_entry(name, len(data)), io.BytesIO(data))


def write_layout_dir(images: list[ImageToSave], content: ContentStore, directory: str | Path) -> None:
    """An OCI image layout directory (skopeo's `oci:DIR`)."""
    d = Path(directory)
    (d / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    for digest in blobs_of(images):
        target = d / "blobs" / "sha256" / digest[7:]
        if not target.exists():
            shutil.copyfile(content.path(digest), target)
    docs = layout_documents(images, content)
    for name in ("index.json", "oci-layout"):
        (d / name).write_bytes(docs[name])
