"""Push and pull through the engine with the docker CLI, the skiff CLI and docker-py."""

from __future__ import annotations

import json

import pytest

from tests.integration.registry.conftest import import_unique
from tests.support.procs import ok, ok_bytes

pytestmark = [pytest.mark.root]


def _rmi(engine, *refs: str) -> None:
    engine.docker("rmi", "-f", *refs)


def test_docker_push_then_pull_back_and_run(engine, skiff_registry):
    ref = f"{skiff_registry.addr}/it/roundtrip:v1"
    image_id = import_unique(engine, ref)
    pushed_digest = ""
    try:
        out = ok(engine.docker("push", ref))
        assert f"The push refers to repository [{skiff_registry.addr}/it/roundtrip]" in out
        assert ": Pushed" in out
        pushed_digest = out.strip().splitlines()[-1].split("digest: ")[1].split()[0]
        again = ok(engine.docker("push", ref))
        assert "Layer already exists" in again and "Pushed" not in again
        digests = json.loads(ok(engine.docker("image", "inspect", "-f", "{{json .RepoDigests}}", ref)))
        assert digests == [f"{skiff_registry.addr}/it/roundtrip@{pushed_digest}"]
        _rmi(engine, ref)
        out = ok(engine.docker("pull", ref))
        assert "Pull complete" in out
        assert f"Digest: {pushed_digest}" in out
        assert f"Status: Downloaded newer image for {ref}" in out
        assert ok(engine.docker("image", "inspect", "-f", "{{.Id}}", ref)).strip() == image_id
        assert "Image is up to date" in ok(engine.docker("pull", ref))
        assert len(ok_bytes(engine.docker("run", "--rm", ref, "cat", "/etc/random"))) == 4096
        by_digest = f"{skiff_registry.addr}/it/roundtrip@{pushed_digest}"
        _rmi(engine, ref)
        ok(engine.docker("pull", by_digest))
        assert ok(engine.docker("image", "inspect", "-f", "{{.Id}}", by_digest)).strip() == image_id
    finally:
        _rmi(engine, ref, image_id)


def test_push_to_another_repository_mounts_the_layer(engine, skiff_registry):
    first, second = f"{skiff_registry.addr}/it/mount-a:v1", f"{skiff_registry.addr}/it/mount-b:v1"
    import_unique(engine, first)
    try:
        ok(engine.docker("push", first))
        ok(engine.docker("tag", first, second))
        out = ok(engine.docker("push", second))
        assert "Mounted from it/mount-a" in out
    finally:
        _rmi(engine, first, second)


def test_pull_errors(engine, skiff_registry):
    r = engine.docker("pull", f"{skiff_registry.addr}/it/none:v9")
    assert r.returncode == 1
    assert b"manifest for " + f"{skiff_registry.addr}/it/none:v9".encode() + b" not found" in r.stderr
    r = engine.docker("push", f"{skiff_registry.addr}/it/not-local:v1")
    assert r.returncode == 1
    assert b"An image does not exist locally with the tag" in r.stderr
    r = engine.docker("pull", "127.0.0.1:1/x:y")
    assert r.returncode == 1 and b"127.0.0.1:1" in r.stderr


def test_skiff_cli_push_pull_search(engine, skiff_registry):
    ref = f"{skiff_registry.addr}/it/cli:v1"
    import_unique(engine, ref)
    try:
        out = ok(engine.skiff("push", ref))
        assert "v1: digest: sha256:" in out
        _rmi(engine, ref)
        out = ok(engine.skiff("pull", ref))
        assert "Status: Downloaded newer image" in out and out.strip().endswith(ref)
        out = ok(engine.skiff("search", f"{skiff_registry.addr}/it/cli"))
        assert out.splitlines()[0].split() == ["NAME", "DESCRIPTION", "STARS", "OFFICIAL"]
        assert "it/cli" in out
        r = engine.skiff("pull", "--all-tags", ref)
        assert r.returncode == 1 and b"tag can't be used with --all-tags" in r.stderr
    finally:
        _rmi(engine, ref)


def test_dockerpy_pull_push(docker_client, engine, skiff_registry):
    repo = f"{skiff_registry.addr}/it/py"
    import_unique(engine, f"{repo}:v1")
    try:
        lines = list(docker_client.images.push(repo, tag="v1", stream=True, decode=True))
        assert any(line.get("aux", {}).get("Tag") == "v1" for line in lines)
        docker_client.images.remove(f"{repo}:v1")
        img = docker_client.images.pull(repo, tag="v1")
        assert f"{repo}:v1" in img.tags
        assert img.attrs["RepoDigests"][0].startswith(repo + "@sha256:")
        data = docker_client.images.get_registry_data(f"{repo}:v1")
        assert data.id == img.attrs["RepoDigests"][0].split("@")[1]
    finally:
        _rmi(engine, f"{repo}:v1")


def test_pull_all_tags(engine, skiff_registry):
    repo = f"{skiff_registry.addr}/it/alltags"
    import_unique(engine, f"{repo}:a")
    ok(engine.docker("tag", f"{repo}:a", f"{repo}:b"))
    try:
        ok(engine.docker("push", "--all-tags", repo))
        _rmi(engine, f"{repo}:a", f"{repo}:b")
        ok(engine.docker("pull", "--all-tags", repo))
        tags = ok(engine.docker("images", "--format", "{{.Tag}}", repo)).split()
        assert sorted(tags) == ["a", "b"]
    finally:
        _rmi(engine, f"{repo}:a", f"{repo}:b")


def test_pull_large_config_and_uncompressed_oci_layer(engine, skiff_registry):
    """A 1 MB config (read in many pieces) and a layer stored as plain tar, under an OCI manifest."""
    import hashlib

    import requests

    from tests.integration.registry.conftest import rootfs_tar

    def digest(data: bytes) -> str:
        return "sha256:" + hashlib.sha256(data).hexdigest()

    base, name = skiff_registry.url, "it/bigconfig"
    layer = rootfs_tar()
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "config": {"Cmd": ["/bin/sh"], "Labels": {"big": "x" * (1 << 20)}},
                         "rootfs": {"type": "layers", "diff_ids": [digest(layer)]}}).encode()
    for blob in (layer, config):
        r = requests.post(f"{base}/v2/{name}/blobs/uploads/", params={"digest": digest(blob)}, data=blob)
        assert r.status_code == 201
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": len(config),
                           "digest": digest(config)},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "size": len(layer),
                            "digest": digest(layer)}]}
    assert requests.put(f"{base}/v2/{name}/manifests/v1", json=manifest).status_code == 201
    ref = f"{skiff_registry.addr}/{name}:v1"
    try:
        ok(engine.docker("pull", ref))
        assert ok(engine.docker("image", "inspect", "-f", "{{.Id}}", ref)).strip() == digest(config)
        assert len(ok_bytes(engine.docker("run", "--rm", ref, "cat", "/etc/random"))) == 4096
    finally:
        _rmi(engine, ref)


def test_rmi_drops_repo_digests_as_dockerd(engine, skiff_registry):
    a, b = f"{skiff_registry.addr}/it/digest-a:v1", f"{skiff_registry.addr}/it/digest-b:v1"
    image_id = import_unique(engine, a)
    ok(engine.docker("tag", a, b))
    ok(engine.docker("tag", a, "it-local:keep"))
    try:
        for ref in (a, b):
            ok(engine.docker("push", ref))
        digests = json.loads(ok(engine.docker("image", "inspect", "-f", "{{json .RepoDigests}}", image_id)))
        assert len(digests) == 2
        digest_a = next(d for d in digests if d.startswith(a.rsplit(":", 1)[0] + "@"))
        out = ok(engine.docker("rmi", a))  # the repository's last tag: its digest goes too
        assert f"Untagged: {a}" in out and f"Untagged: {digest_a}" in out
        left = json.loads(ok(engine.docker("image", "inspect", "-f", "{{json .RepoDigests}}", image_id)))
        assert len(left) == 1 and left[0].startswith(b.rsplit(":", 1)[0] + "@")
        out = ok(engine.docker("rmi", left[0]))  # by digest: just that reference
        assert f"Untagged: {left[0]}" in out and "Deleted" not in out
        assert json.loads(ok(engine.docker("image", "inspect", "-f", "{{json .RepoDigests}}", image_id))) == []
    finally:
        _rmi(engine, a, b, "it-local:keep")
