import hashlib

import orjson
import pytest

from skiff.common.errors import InvalidArgument
from skiff.oci import image as oci
from skiff.oci import mediatypes as mt

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64


def test_chain_ids_follow_the_spec():
    c = oci.chain_ids([D1, D2])
    assert c[0] == D1
    assert c[1] == "sha256:" + hashlib.sha256(f"{D1} {D2}".encode()).hexdigest()
    assert oci.chain_ids([]) == []


@pytest.mark.parametrize("media", [mt.OCI_MANIFEST, mt.DOCKER_MANIFEST])
def test_manifest_roundtrip_both_media_types(media):
    cfg = b'{"rootfs":{"type":"layers","diff_ids":[]}}'
    m = oci.build_manifest(cfg, [oci.descriptor(mt.OCI_LAYER, D1, 10)], media)
    parsed = oci.parse_manifest(orjson.dumps(m))
    assert parsed["config"]["mediaType"] == (mt.OCI_CONFIG if media == mt.OCI_MANIFEST else mt.DOCKER_CONFIG)
    assert parsed["config"]["size"] == len(cfg)
    assert parsed["layers"][0]["digest"] == D1


@pytest.mark.parametrize("raw,match", [
    (b"not json", "invalid manifest"),
    (b"[]", "JSON object"),
    (b'{"schemaVersion":1}', "schemaVersion"),
    (b'{"schemaVersion":2,"mediaType":"text/plain","config":{},"layers":[]}', "media type"),
    (b'{"schemaVersion":2,"config":{"digest":"sha256:zz","size":1},"layers":[]}', "digest"),
])
def test_bad_manifests(raw, match):
    with pytest.raises(InvalidArgument, match=match):
        oci.parse_manifest(raw)


def test_config_requires_diff_ids():
    assert oci.parse_config(orjson.dumps({"rootfs": {"type": "layers", "diff_ids": [D1]}}))
    for bad in ({}, {"rootfs": {"type": "layers"}}, {"rootfs": {"type": "layers", "diff_ids": ["x"]}}):
        with pytest.raises(InvalidArgument):
            oci.parse_config(orjson.dumps(bad))


def test_index_and_platform():
    idx = oci.build_index([oci.descriptor(mt.OCI_MANIFEST, D1, 5, platform={"os": "linux", "architecture": "arm64"})])
    parsed = oci.parse_index(orjson.dumps(idx))
    assert not oci.platform_matches(parsed["manifests"][0]["platform"])
    assert oci.platform_matches({"os": "linux", "architecture": "amd64"})
    assert mt.layer_compression(mt.DOCKER_LAYER_GZIP) == "gzip" and mt.layer_compression(mt.OCI_LAYER) == ""
