"""Read `docker save` tarballs (legacy and 25+ layouts) and OCI layout tarballs.

The tar is streamed once: every regular file goes into the content store (so it is
verified by digest and never held in memory), and names are mapped to digests. The
manifests are then resolved from that map. Blobs this load added are reported, so the
caller can delete them if anything fails: a bad tarball leaves nothing behind.
"""

from __future__ import annotations

import posixpath
import tarfile
import zlib
from dataclasses import dataclass, field
from typing import BinaryIO

import orjson

from skiff.common.errors import InvalidArgument, NotFound
from skiff.engine.content.store import ContentStore
from skiff.engine.images.compression import decompressed
from skiff.oci import image as oci
from skiff.oci import mediatypes as mt
from skiff.oci.reference import parse_reference


@dataclass
class ImageToLoad:
    config_digest: str
    config: dict
    layer_blobs: list[str]  # as found in the archive (maybe compressed)
    repo_tags: list[str] = field(default_factory=list)  # full references ("docker.io/library/busybox:latest")


@dataclass
class ArchiveContents:
    names: dict[str, str] = field(default_factory=dict)  # member name → blob digest
    links: dict[str, str] = field(default_factory=dict)  # member name → target member name
    added: set[str] = field(default_factory=set)  # blobs that were not in the store before

    def resolve(self, name: str) -> str:
        name = _norm(name)
        for _ in range(16):
            if name in self.names:
                return self.names[name]
            if name not in self.links:
                break
            name = self.links[name]
        raise InvalidArgument(f"invalid archive: {name!r} is referenced but missing from the tarball")


def _norm(name: str) -> str:
    return posixpath.normpath("/" + name).lstrip("/")


def ingest_archive(fileobj: BinaryIO, content: ContentStore) -> ArchiveContents:
    """Stream the tarball's files into the content store."""
    out = ArchiveContents()
    try:
        stream, _ = decompressed(fileobj)
        with tarfile.open(fileobj=stream, mode="r|", errorlevel=2) as tar:
            for m in tar:
                name = _norm(m.name)
                if m.isreg():
                    src = tar.extractfile(m)
                    assert src is not None  # a regular file always has data
                    with content.writer() as w:
                        while chunk := src.read(1 << 20):
                            w.write(chunk)
                        if w.size != m.size:
                            raise InvalidArgument(f"invalid archive: {m.name!r} is truncated")
                        existed = content.exists(w.digest)
                        digest = w.commit()
                    if not existed:
                        out.added.add(digest)
                    out.names[name] = digest
                elif m.issym():
                    out.links[name] = _norm(posixpath.join(posixpath.dirname(name), m.linkname))
                elif m.islnk():
                    out.links[name] = _norm(m.linkname)
    except InvalidArgument:
        _drop(content, out.added)
        raise
    except (tarfile.TarError, EOFError, OSError, zlib.error) as err:
        _drop(content, out.added)
        why = str(err) or "unexpected end of data"
        raise InvalidArgument(f"invalid tar archive: {why} (the file is truncated or corrupt)") from None
    if not out.names:
        raise InvalidArgument("invalid tar archive: it contains no files")
    return out


def _drop(content: ContentStore, digests: set[str]) -> None:
    for d in digests:
        content.delete(d)


def images_in(archive: ArchiveContents, content: ContentStore) -> list[ImageToLoad]:
    """The images an ingested archive describes: manifest.json first, else index.json."""
    if "manifest.json" in archive.names:
        return _from_docker_manifest(archive, content)
    if "index.json" in archive.names:
        return _from_oci_index(archive, content)
    raise InvalidArgument("invalid archive: it has neither manifest.json nor index.json "
                          "(is it a docker save or OCI layout tarball?)")


def _read_config(archive: ArchiveContents, content: ContentStore, name_or_digest: str, by_digest: bool) -> tuple[str, dict]:
    digest = name_or_digest if by_digest else archive.resolve(name_or_digest)
    try:
        raw = content.read(digest)
    except NotFound:
        raise InvalidArgument(f"invalid archive: blob {digest} is missing") from None
    return digest, oci.parse_config(raw)


def _from_docker_manifest(archive: ArchiveContents, content: ContentStore) -> list[ImageToLoad]:
    try:
        entries = orjson.loads(content.read(archive.names["manifest.json"]))
    except orjson.JSONDecodeError as err:
        raise InvalidArgument(f"invalid archive: manifest.json: {err}") from None
    if not isinstance(entries, list):
        raise InvalidArgument("invalid archive: manifest.json must be a list")
    images = []
    for e in entries:
        if not isinstance(e, dict) or not isinstance(e.get("Config"), str) or not isinstance(e.get("Layers"), list):
            raise InvalidArgument("invalid archive: manifest.json entry needs Config and Layers")
        cfg_digest, cfg = _read_config(archive, content, e["Config"], by_digest=False)
        layers = [archive.resolve(p) for p in e["Layers"]]
        tags = [str(parse_reference(t)) for t in (e.get("RepoTags") or [])]
        images.append(ImageToLoad(cfg_digest, cfg, layers, tags))
    return images


def _blob(archive: ArchiveContents, digest: str) -> str:
    oci.check_descriptor({"digest": digest})
    name = "blobs/sha256/" + digest[7:]
    got = archive.resolve(name)
    if got != digest:
        raise InvalidArgument(f"invalid archive: blob {name} does not match its digest (got {got})")
    return got


def _from_oci_index(archive: ArchiveContents, content: ContentStore) -> list[ImageToLoad]:
    index = oci.parse_index(content.read(archive.names["index.json"]))
    images: list[ImageToLoad] = []
    by_config: dict[str, ImageToLoad] = {}
    for desc in index["manifests"]:
        names = _names_of(desc)
        manifest = _pick_manifest(archive, content, desc)
        cfg_digest = _blob(archive, manifest["config"]["digest"])
        cfg_digest, cfg = _read_config(archive, content, cfg_digest, by_digest=True)
        layers = [_blob(archive, ld["digest"]) for ld in manifest["layers"]]
        if cfg_digest in by_config:
            by_config[cfg_digest].repo_tags.extend(n for n in names if n not in by_config[cfg_digest].repo_tags)
            continue
        img = ImageToLoad(cfg_digest, cfg, layers, names)
        by_config[cfg_digest] = img
        images.append(img)
    return images


def _names_of(desc: dict) -> list[str]:
    ann = desc.get("annotations") or {}
    for key in (mt.ANNOTATION_IMAGE_NAME, mt.ANNOTATION_REF_NAME):
        value = ann.get(key)
        if value and ("/" in value or ":" in value.split("/")[-1]):
            try:
                return [str(parse_reference(value))]
            except InvalidArgument:
                continue
    return []  # a bare tag with no repository names nothing we can use


def _pick_manifest(archive: ArchiveContents, content: ContentStore, desc: dict, depth: int = 0) -> dict:
    if depth > 4:
        raise InvalidArgument("invalid archive: image indexes nested too deeply")
    raw = content.read(_blob(archive, desc["digest"]))
    media = desc.get("mediaType") or orjson.loads(raw).get("mediaType", "")
    if mt.is_index(media):
        idx = oci.parse_index(raw)
        candidates = [d for d in idx["manifests"] if oci.platform_matches(d.get("platform"))]
        for d in candidates:
            try:
                return _pick_manifest(archive, content, d, depth + 1)
            except InvalidArgument:
                continue
        raise InvalidArgument("invalid archive: no manifest for linux/amd64 in the image index")
    return oci.parse_manifest(raw)
