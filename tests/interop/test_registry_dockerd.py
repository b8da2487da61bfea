"""A reference dockerd and the skiff engine exchange images through the skiff registry."""

from __future__ import annotations

import json

import pytest

from tests.integration.registry.conftest import (  # noqa: F401 (skiff_registry: a fixture)
    docker_with_config,
    import_unique,
    skiff_registry,
)
from tests.support.procs import ok

pytestmark = [pytest.mark.root, pytest.mark.interop]


def test_dockerd_pushes_to_skiff_registry_and_skiff_runs_it(dockerd, engine, skiff_registry):  # noqa: F811
    ref = f"{skiff_registry.addr}/ref/from-dockerd:v1"
    ok(dockerd.docker("tag", "busybox:latest", ref))
    try:
        out = ok(dockerd.docker("push", ref))
        assert "v1: digest: sha256:" in out
        pushed = out.strip().splitlines()[-1].split("digest: ")[1].split()[0]
        ok(engine.docker("pull", ref))
        # (the same image may carry the digests of other repositories it was pushed to)
        assert f"{skiff_registry.addr}/ref/from-dockerd@{pushed}" in \
            json.loads(ok(engine.docker("image", "inspect", "-f", "{{json .RepoDigests}}", ref)))
        assert ok(engine.docker("run", "--rm", ref, "echo", "ran-on-skiff")).strip() == "ran-on-skiff"
        assert ok(dockerd.docker("image", "inspect", "-f", "{{.Id}}", ref)) == \
            ok(engine.docker("image", "inspect", "-f", "{{.Id}}", ref))
    finally:
        dockerd.docker("rmi", "-f", ref)
        engine.docker("rmi", "-f", ref)


def test_dockerd_pulls_what_skiff_pushed_and_runs_it(dockerd, engine, skiff_registry):  # noqa: F811
    ref = f"{skiff_registry.addr}/ref/from-skiff:v1"
    image_id = import_unique(engine, ref, extra_bytes=128 << 10)
    try:
        out = ok(engine.docker("push", ref))
        pushed = out.strip().splitlines()[-1].split("digest: ")[1].split()[0]
        out = ok(dockerd.docker("pull", ref))
        assert f"Digest: {pushed}" in out
        assert ok(dockerd.docker("image", "inspect", "-f", "{{.Id}}", ref)).strip() == image_id
        r = dockerd.docker("run", "--rm", "--network", "none", ref, "sh", "-c", "wc -c < /etc/random")
        assert ok(r).strip() == str(128 << 10)
        # and back: dockerd pushes the same image to another repository; skiff pulls that
        other = f"{skiff_registry.addr}/ref/via-dockerd:v1"
        ok(dockerd.docker("tag", ref, other))
        ok(dockerd.docker("push", other))
        ok(engine.docker("pull", other))
        assert ok(engine.docker("image", "inspect", "-f", "{{.Id}}", other)).strip() == image_id
    finally:
        dockerd.docker("rmi", "-f", ref, f"{skiff_registry.addr}/ref/via-dockerd:v1")
        engine.docker("rmi", "-f", ref, f"{skiff_registry.addr}/ref/via-dockerd:v1")


def test_docker_cli_login_against_skiff_engine_checks_the_registry(engine, skiff_registry, tmp_path):  # noqa: F811
    """An open registry accepts any login, as the reference registry without auth does."""
    docker = docker_with_config(engine, tmp_path / "cfg")
    r = docker("login", "-u", "x", "--password-stdin", skiff_registry.addr, input=b"y\n")
    assert r.returncode == 0 and b"Login Succeeded" in r.stdout, r.stderr
    r = docker("login", "-u", "x", "--password-stdin", "127.0.0.1:1", input=b"y\n")
    assert r.returncode == 1 and b"127.0.0.1:1" in r.stderr
