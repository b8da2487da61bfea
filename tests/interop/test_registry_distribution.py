"""The skiff engine against Debian's reference registry (distribution 2.8, `docker-registry`)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.integration.registry.conftest import docker_with_config, import_unique
from tests.support.procs import ok, ok_bytes
from tests.support.registry import DistributionRegistry, SkiffRegistry, htpasswd_file

pytestmark = [pytest.mark.root, pytest.mark.interop,
              pytest.mark.skipif(shutil.which("docker-registry") is None, reason="docker-registry not installed")]


@pytest.fixture(scope="module")
def distribution(tmp_path_factory):
    root = Path(tempfile.mkdtemp(prefix="skdist-", dir="/tmp"))
    reg = DistributionRegistry(root, htpasswd_file(root / "htpasswd", "bob", "builder")).start()
    yield reg
    reg.cleanup()


def test_push_to_reference_registry_and_pull_back(engine, distribution, tmp_path):
    docker = docker_with_config(engine, tmp_path / "cfg")
    ref = f"{distribution.addr}/interop/dist:v1"
    image_id = import_unique(engine, ref, extra_bytes=256 << 10)
    try:
        r = docker("push", ref)
        assert r.returncode == 1 and b"no basic auth credentials" in r.stderr, r.stderr
        assert b"Login Succeeded" in ok_bytes(docker("login", "-u", "bob", "--password-stdin", distribution.addr,
                                                     input=b"builder\n"))
        out = ok_bytes(docker("push", ref)).decode()
        assert "Pushed" in out and "v1: digest: sha256:" in out
        assert "Layer already exists" in ok_bytes(docker("push", ref)).decode()
        ok(engine.docker("rmi", ref))
        out = ok_bytes(docker("pull", ref)).decode()
        assert "Pull complete" in out
        assert ok(engine.docker("image", "inspect", "-f", "{{.Id}}", ref)).strip() == image_id
        assert len(ok_bytes(engine.docker("run", "--rm", ref, "cat", "/etc/random"))) == 256 << 10
        other = f"{distribution.addr}/interop/dist-copy:v1"
        ok(engine.docker("tag", ref, other))
        assert "Mounted from interop/dist" in ok_bytes(docker("push", other)).decode()
        ok(engine.docker("rmi", other))
    finally:
        engine.docker("rmi", "-f", ref)


def test_search_says_when_a_registry_has_no_search(engine, distribution):
    # the reference registry has no /v1/search; behind its basic auth it asks for credentials first
    r = engine.docker("search", f"{distribution.addr}/interop", input=b"")
    assert r.returncode == 1
    assert b"searching " + distribution.addr.encode() + b": no basic auth credentials" in r.stderr, r.stderr
    open_reg = DistributionRegistry(distribution.root.parent / (distribution.root.name + "-open")).start()
    try:
        r = engine.docker("search", f"{open_reg.addr}/interop", input=b"")
        assert r.returncode == 1
        assert b"does not offer search (no /v1/search endpoint)" in r.stderr, r.stderr
    finally:
        open_reg.cleanup()


def test_skiff_registry_reads_the_reference_config_format(tmp_path):
    """The same YAML the reference registry takes (storage, http.addr, auth.htpasswd) starts skiff's."""
    dist = DistributionRegistry(tmp_path / "dist", htpasswd_file(tmp_path / "htpasswd", "u", "p"))
    reg = SkiffRegistry(tmp_path / "skiff")
    cmd = [*reg.command()[:5], str(dist.config)]  # python -m skiff registry serve CONFIG
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        line = proc.stdout.readline().decode() if proc.stdout else ""
        assert f"listening on {dist.addr}" in line, line
        import urllib.error
        import urllib.request
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(dist.url + "/v2/", timeout=5)
        assert e.value.code == 401 and e.value.headers["WWW-Authenticate"] == 'Basic realm="test"'
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout:
            proc.stdout.close()
