"""skopeo copies images into the skiff registry and out of it; the engine pulls what skopeo put there,
including an OCI index with two platforms."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.integration.registry.conftest import rootfs_tar, skiff_registry  # noqa: F401 (fixture)
from tests.support.procs import ok, ok_bytes

pytestmark = [pytest.mark.root, pytest.mark.interop,
              pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo not installed")]


def skopeo(*args: str) -> str:
    return ok(subprocess.run(["skopeo", "--insecure-policy", *args], capture_output=True, timeout=120))


def _blob(layout: Path, data: bytes) -> dict:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256" / digest[7:]).write_bytes(data)
    return {"digest": digest, "size": len(data)}


def write_oci_index(layout: Path, marker: dict[str, bytes]) -> None:
    """An OCI layout whose index holds one image per platform (arch → a file's content)."""
    (layout / "blobs" / "sha256").mkdir(parents=True)
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    entries = []
    for arch, content in marker.items():
        layer = rootfs_tar(64, {"etc/arch": content})
        gz = gzip.compress(layer, mtime=0)
        config = json.dumps({"architecture": arch, "os": "linux", "config": {"Cmd": ["/bin/sh"]},
                             "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]}
                             }).encode()
        manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                               "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **_blob(layout, config)},
                               "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                                           **_blob(layout, gz)}]}).encode()
        entries.append({"mediaType": "application/vnd.oci.image.manifest.v1+json", **_blob(layout, manifest),
                        "platform": {"architecture": arch, "os": "linux"}})
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries}
    nested = json.dumps(index).encode()
    top = {"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json",
                                               **_blob(layout, nested), "annotations": {
                                                   "org.opencontainers.image.ref.name": "multi"}}]}
    (layout / "index.json").write_text(json.dumps(top))


def test_skopeo_copies_into_skiff_registry_and_engine_runs_it(engine, skiff_registry, busybox_archive):  # noqa: F811
    ref = f"{skiff_registry.addr}/skopeo/busybox:v1"
    skopeo("copy", "--dest-tls-verify=false", f"docker-archive:{busybox_archive}", f"docker://{ref}")
    info = json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{ref}"))
    assert info["RepoTags"] == ["v1"]
    try:
        ok(engine.docker("pull", ref))
        assert ok(engine.docker("run", "--rm", ref, "echo", "from-skopeo")).strip() == "from-skopeo"
        digests = json.loads(ok(engine.docker("image", "inspect", "-f", "{{json .RepoDigests}}", ref)))
        assert f"{skiff_registry.addr}/skopeo/busybox@{info['Digest']}" in digests
    finally:
        engine.docker("rmi", "-f", ref)


def write_docker_archive(path: Path, layer: bytes) -> None:
    import io
    import tarfile

    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/sh"]},
                         "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]}})
    with tarfile.open(path, "w") as tar:
        for name, data in (("layer.tar", layer), ("config.json", config.encode()),
                           ("manifest.json", json.dumps([{"Config": "config.json", "RepoTags": [],
                                                          "Layers": ["layer.tar"]}]).encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_zstd_layers_pull(engine, skiff_registry, tmp_path):  # noqa: F811
    ref = f"{skiff_registry.addr}/skopeo/zstd:v1"
    write_docker_archive(tmp_path / "img.tar", rootfs_tar())  # a layer the registry has in no form yet
    skopeo("copy", "--dest-tls-verify=false", "--format", "oci", "--dest-compress-format", "zstd",
           f"docker-archive:{tmp_path / 'img.tar'}", f"docker://{ref}")
    info = json.loads(skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{ref}"))
    assert info["layers"][0]["mediaType"].endswith("+zstd")
    try:
        ok(engine.docker("pull", ref))
        assert ok(engine.docker("run", "--rm", ref, "echo", "zstd")).strip() == "zstd"
    finally:
        engine.docker("rmi", "-f", ref)


def test_skopeo_copies_what_skiff_pushed_out_of_skiff_registry(engine, skiff_registry, tmp_path):  # noqa: F811
    from tests.integration.registry.conftest import import_unique

    ref = f"{skiff_registry.addr}/skopeo/out:v1"
    image_id = import_unique(engine, ref)
    try:
        ok(engine.docker("push", ref))
        skopeo("copy", "--src-tls-verify=false", f"docker://{ref}", f"dir:{tmp_path / 'copy'}")
        manifest = json.loads((tmp_path / "copy" / "manifest.json").read_text())
        assert manifest["config"]["digest"] == image_id
        assert manifest["layers"][0]["mediaType"] == "application/vnd.docker.image.rootfs.diff.tar.gzip"
        skopeo("copy", "--src-tls-verify=false", "--dest-tls-verify=false", f"docker://{ref}",
               f"docker://{skiff_registry.addr}/skopeo/copied:v2")
        tags = json.loads(skopeo("list-tags", "--tls-verify=false", f"docker://{skiff_registry.addr}/skopeo/copied"))
        assert tags["Tags"] == ["v2"]
    finally:
        engine.docker("rmi", "-f", ref)


def test_oci_index_pull_selects_the_platform(engine, skiff_registry, tmp_path):  # noqa: F811
    write_oci_index(tmp_path / "multi", {"amd64": b"I am amd64", "arm64": b"I am arm64"})
    ref = f"{skiff_registry.addr}/skopeo/multi:v1"
    skopeo("copy", "--all", "--dest-tls-verify=false", f"oci:{tmp_path / 'multi'}:multi", f"docker://{ref}")
    try:
        ok(engine.docker("pull", ref))
        assert ok(engine.docker("image", "inspect", "-f", "{{.Architecture}}", ref)).strip() == "amd64"
        assert ok_bytes(engine.docker("run", "--rm", ref, "cat", "/etc/arch")) == b"I am amd64"
        ok(engine.docker("pull", "--platform", "linux/arm64", ref))
        assert ok(engine.docker("image", "inspect", "-f", "{{.Architecture}}", ref)).strip() == "arm64"
        r = engine.docker("pull", "--platform", "linux/s390x", ref)
        assert r.returncode == 1 and b"no matching manifest for linux/s390x" in r.stderr, r.stderr
    finally:
        engine.docker("rmi", "-f", ref)
