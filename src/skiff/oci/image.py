"""Manifests, indexes and image configs: building, parsing and checking them (pure)."""

from __future__ import annotations

import hashlib

import orjson

from skiff.common.digest import is_digest
from skiff.common.errors import InvalidArgument
from skiff.oci import mediatypes as mt


def canonical_json(obj) -> bytes:
    """Compact JSON with sorted keys: a stable digest for what we generate."""
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)


def descriptor(media_type: str, data_or_digest: bytes | str, size: int | None = None,
               annotations: dict[str, str] | None = None, platform: dict | None = None) -> dict:
    if isinstance(data_or_digest, bytes):
        digest = "sha256:" + hashlib.sha256(data_or_digest).hexdigest()
        size = len(data_or_digest)
    else:
        digest = data_or_digest
    d: dict = {"mediaType": media_type, "digest": digest, "size": int(size or 0)}
    if annotations:
        d["annotations"] = dict(annotations)
    if platform:
        d["platform"] = dict(platform)
    return d


def chain_ids(diff_ids: list[str]) -> list[str]:
    """OCI chain IDs: chain(0) = diff(0); chain(n) = sha256(chain(n-1) + " " + diff(n))."""
    out: list[str] = []
    for d in diff_ids:
        if not out:
            out.append(d)
        else:
            out.append("sha256:" + hashlib.sha256(f"{out[-1]} {d}".encode()).hexdigest())
    return out


def build_manifest(config: bytes, layers: list[dict], media_type: str = mt.OCI_MANIFEST,
                   annotations: dict[str, str] | None = None) -> dict:
    """A schema-2 manifest (OCI or Docker flavour) for a config blob and layer descriptors."""
    config_type = mt.OCI_CONFIG if media_type == mt.OCI_MANIFEST else mt.DOCKER_CONFIG
    m: dict = {"schemaVersion": 2, "mediaType": media_type,
               "config": descriptor(config_type, config), "layers": layers}
    if annotations:
        m["annotations"] = dict(annotations)
    return m


def build_index(manifests: list[dict]) -> dict:
    return {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": manifests}


def parse_json(data: bytes, what: str) -> dict:
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise InvalidArgument(f"invalid {what}: {e}") from None
    if not isinstance(obj, dict):
        raise InvalidArgument(f"invalid {what}: expected a JSON object")
    return obj


def parse_manifest(data: bytes) -> dict:
    m = parse_json(data, "manifest")
    if m.get("schemaVersion") != 2:
        raise InvalidArgument(f"unsupported manifest schemaVersion {m.get('schemaVersion')!r}")
    media = m.get("mediaType", mt.OCI_MANIFEST)
    if not mt.is_manifest(media):
        raise InvalidArgument(f"unsupported manifest media type {media!r}")
    if not isinstance(m.get("config"), dict) or not isinstance(m.get("layers"), list):
        raise InvalidArgument("invalid manifest: config and layers are required")
    for d in [m["config"], *m["layers"]]:
        check_descriptor(d)
    return m


def parse_index(data: bytes) -> dict:
    idx = parse_json(data, "image index")
    if not isinstance(idx.get("manifests"), list):
        raise InvalidArgument("invalid image index: manifests is required")
    for d in idx["manifests"]:
        check_descriptor(d)
    return idx


def check_descriptor(d) -> dict:
    if not isinstance(d, dict) or not isinstance(d.get("digest"), str) or not isinstance(d.get("size", 0), int):
        raise InvalidArgument(f"invalid descriptor: {d!r}")
    if not is_digest(d["digest"]):
        raise InvalidArgument(f"invalid descriptor digest {d['digest']!r}")
    return d


def parse_config(data: bytes) -> dict:
    """An image config (OCI and Docker share the shape); checks what we rely on."""
    c = parse_json(data, "image config")
    rootfs = c.get("rootfs")
    if not isinstance(rootfs, dict) or rootfs.get("type") != "layers" or not isinstance(rootfs.get("diff_ids"), list):
        raise InvalidArgument("invalid image config: rootfs.diff_ids is required")
    for d in rootfs["diff_ids"]:
        if not isinstance(d, str) or not is_digest(d):
            raise InvalidArgument(f"invalid image config: bad diff_id {d!r}")
    return c


def platform_matches(p: dict | None, os_name: str = "linux", arch: str = "amd64") -> bool:
    if not p:
        return True
    return p.get("os", os_name) == os_name and p.get("architecture", arch) == arch
