"""Bad registries and credentials: dropped connections, corrupt blobs, basic auth and login."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.integration.registry.conftest import docker_with_config, import_unique
from tests.support.procs import ok, ok_bytes
from tests.support.registry import DroppingProxy, SkiffRegistry, htpasswd_file

pytestmark = [pytest.mark.root]


def _content(engine) -> set[str]:
    return {p.name for p in (engine.root / "data" / "content" / "blobs" / "sha256").iterdir()}


def _ingest(engine) -> list[str]:
    return [p.name for p in (engine.root / "data" / "content" / "ingest").iterdir()]


def _pushed_then_removed(engine, registry, name: str) -> str:
    ref = f"{registry.addr}/{name}"
    import_unique(engine, ref, extra_bytes=1 << 20)
    ok(engine.docker("push", ref))
    ok(engine.docker("rmi", ref))
    return ref


def test_pull_resumes_after_dropped_connections(engine, skiff_registry):
    _pushed_then_removed(engine, skiff_registry, "faults/resume:v1")
    proxy = DroppingProxy(skiff_registry.port, after=200 << 10, drops=2).start()
    ref = f"{proxy.addr}/faults/resume:v1"
    try:
        out = ok(engine.docker("pull", ref))
        assert "Pull complete" in out
        assert proxy.dropped == 2
        assert len(ok_bytes(engine.docker("run", "--rm", ref, "cat", "/etc/random"))) == 1 << 20
    finally:
        proxy.stop()
        engine.docker("rmi", "-f", ref)


@pytest.mark.slow
def test_pull_gives_up_with_a_clear_error_and_leaves_nothing(engine, skiff_registry):
    _pushed_then_removed(engine, skiff_registry, "faults/giveup:v1")
    before = _content(engine)
    proxy = DroppingProxy(skiff_registry.port, after=100 << 10, drops=-1).start()
    ref = f"{proxy.addr}/faults/giveup:v1"
    try:
        r = engine.docker("pull", ref)
        assert r.returncode == 1
        assert b"failed after 5 retries" in r.stderr, r.stderr
        assert engine.docker("image", "inspect", ref).returncode == 1
        assert _content(engine) == before
        assert _ingest(engine) == []
    finally:
        proxy.stop()


@pytest.mark.slow
def test_push_retries_a_dropped_upload_then_gives_up_clearly(engine, skiff_registry):
    proxy = DroppingProxy(skiff_registry.port, after=300 << 10, drops=1, uploads=True).start()
    ref = f"{proxy.addr}/faults/push:v1"
    import_unique(engine, ref, extra_bytes=2 << 20)
    try:
        out = ok(engine.docker("push", ref))
        assert "Retrying in 1 second" in out and ": Pushed" in out
        assert proxy.dropped == 1
        ok(engine.docker("rmi", ref))
    finally:
        proxy.stop()
    always = DroppingProxy(skiff_registry.port, after=300 << 10, drops=-1, uploads=True).start()
    ref = f"{always.addr}/faults/push-never:v1"
    import_unique(engine, ref, extra_bytes=2 << 20)
    try:
        r = engine.docker("push", ref)
        assert r.returncode == 1
        assert b"failed after 3 retries" in r.stderr, r.stderr
    finally:
        always.stop()
        engine.docker("rmi", "-f", ref)


def test_corrupt_blob_fails_verification_and_leaves_nothing(engine, skiff_registry):
    ref = _pushed_then_removed(engine, skiff_registry, "faults/corrupt:v1")
    manifest = json.loads((skiff_registry.storage / "blobs" / "sha256" / _manifest_hex(skiff_registry, ref))
                          .read_bytes())
    layer = manifest["layers"][0]["digest"]
    blob = skiff_registry.storage / "blobs" / "sha256" / layer[7:]
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.write_bytes(bytes(data))
    before = _content(engine)
    r = engine.docker("pull", ref)
    assert r.returncode == 1
    assert f"filesystem layer verification failed for digest {layer}".encode() in r.stderr, r.stderr
    assert engine.docker("image", "inspect", ref).returncode == 1
    assert _content(engine) == before
    assert _ingest(engine) == []


def _manifest_hex(registry, ref: str) -> str:
    name, tag = ref.split("/", 1)[1].rsplit(":", 1)
    return (registry.storage / "repositories" / name / "_manifests" / "tags" / tag).read_text().strip()[7:]


@pytest.fixture(scope="module")
def auth_registry():
    root = Path(tempfile.mkdtemp(prefix="skreg-auth-", dir="/tmp"))
    reg = SkiffRegistry(root / "reg", htpasswd=htpasswd_file(root / "htpasswd", "alice", "wonder")).start()
    yield reg
    reg.cleanup()
    shutil.rmtree(root, ignore_errors=True)


def test_basic_auth_push_login_logout(engine, auth_registry, tmp_path):
    docker = docker_with_config(engine, tmp_path / "cfg")
    ref = f"{auth_registry.addr}/private/app:v1"
    import_unique(engine, ref)

    try:
        r = docker("push", ref, input=b"")
        assert r.returncode == 1 and b"no basic auth credentials" in r.stderr, r.stderr
        r = docker("login", "-u", "alice", "--password-stdin", auth_registry.addr, input=b"wrong\n")
        assert r.returncode == 1 and b"401 Unauthorized" in r.stderr, r.stderr
        assert not (tmp_path / "cfg" / "config.json").exists() or \
            auth_registry.addr not in (tmp_path / "cfg" / "config.json").read_text()
        r = docker("login", "-u", "alice", "--password-stdin", auth_registry.addr, input=b"wonder\n")
        assert r.returncode == 0 and b"Login Succeeded" in r.stdout, r.stderr
        assert auth_registry.addr in json.loads((tmp_path / "cfg" / "config.json").read_text())["auths"]
        assert docker("push", ref).returncode == 0
        ok(engine.docker("rmi", ref))
        assert docker("pull", ref).returncode == 0
        assert b"Removing login credentials" in docker("logout", auth_registry.addr).stdout
        ok(engine.docker("rmi", ref))
        r = docker("pull", ref, input=b"")  # stdin closed: the CLI would offer an interactive login
        assert r.returncode == 1 and b"pull access denied" in r.stderr, r.stderr
    finally:
        engine.docker("rmi", "-f", ref)


def test_skiff_login_stores_credentials_that_pull_uses(engine, auth_registry, tmp_path):
    import subprocess
    import sys

    env = {**engine.env, "DOCKER_CONFIG": str(tmp_path / "cfg")}

    def skiff(*args, input=None):
        return subprocess.run([sys.executable, "-m", "skiff", "-H", engine.host, *args], env=env,
                              capture_output=True, input=input, timeout=120)

    ref = f"{auth_registry.addr}/private/cli:v1"
    import_unique(engine, ref)
    try:
        r = skiff("login", "-u", "alice", "--password-stdin", auth_registry.addr, input=b"nope\n")
        assert r.returncode == 1
        r = skiff("login", "-u", "alice", "--password-stdin", auth_registry.addr, input=b"wonder\n")
        assert r.returncode == 0 and b"Login Succeeded" in r.stdout, r.stderr
        assert oct(os.stat(tmp_path / "cfg" / "config.json").st_mode & 0o777) == "0o600"
        assert skiff("push", ref).returncode == 0
        assert skiff("rmi", ref).returncode == 0
        r = skiff("run", "--rm", ref, "cat", "/etc/random")  # pulls with the stored credentials
        assert r.returncode == 0 and len(r.stdout) == 4096, r.stderr
        assert b"Unable to find image" in r.stderr
        assert b"Removing login credentials for " + auth_registry.addr.encode() in skiff("logout", auth_registry.addr).stdout
        assert b"Not logged in" in skiff("logout", auth_registry.addr).stdout
    finally:
        engine.docker("rmi", "-f", ref)
