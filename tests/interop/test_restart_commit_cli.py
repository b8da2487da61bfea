"""Two dockerd behaviours through the real docker CLI: `docker restart` keeps a `--rm`
container, and `docker commit` leaves the runtime's /etc placeholders out of the layer."""

from __future__ import annotations

import io
import json
import secrets
import shutil
import tarfile
import time

import pytest

from tests.support.procs import ok_bytes as ok

pytestmark = [pytest.mark.interop, pytest.mark.root,
              pytest.mark.skipif(shutil.which("docker") is None, reason="docker CLI not installed")]


def _gone(engine, name: str, attempts: int = 100) -> bool:
    for _ in range(attempts):
        if engine.docker("inspect", name).returncode != 0:
            return True
        time.sleep(0.1)
    return False


def test_restart_keeps_an_autoremove_container(engine):
    n = f"rr{secrets.token_hex(4)}"
    try:
        ok(engine.docker("run", "-d", "--rm", "--network", "none", "--name", n, "busybox", "sleep", "600"))
        first = ok(engine.docker("inspect", "-f", "{{.State.StartedAt}}", n))
        ok(engine.docker("restart", "-t", "1", n))
        out = ok(engine.docker("inspect", "-f", "{{.State.Running}} {{.HostConfig.AutoRemove}} {{.State.StartedAt}}", n))
        running, auto_remove, started = out.decode().split()
        assert (running, auto_remove) == ("true", "true")
        assert started.encode() != first.strip()
        assert ok(engine.docker("exec", n, "echo", "alive")) == b"alive\n"
        # AutoRemove still holds for a stop after the restart.
        ok(engine.docker("stop", "-t", "1", n))
        assert _gone(engine, n)
    finally:
        engine.docker("rm", "-f", n)


def _last_layer_names(engine, image: str) -> list[str]:
    archive = tarfile.open(fileobj=io.BytesIO(ok(engine.docker("save", image))))
    manifest = json.load(archive.extractfile("manifest.json"))  # type: ignore[arg-type]
    layer = archive.extractfile(manifest[0]["Layers"][-1])
    assert layer is not None
    with tarfile.open(fileobj=io.BytesIO(layer.read())) as t:
        return sorted(m.name.lstrip("./").rstrip("/") for m in t.getmembers())


@pytest.mark.parametrize("running", [False, True])
def test_commit_leaves_out_the_runtime_placeholders(engine, running):
    n, image = f"cm{secrets.token_hex(4)}", f"committed:{secrets.token_hex(3)}"
    script = "echo data > /made-here" + (" && sleep 600" if running else "")
    try:
        if running:
            ok(engine.docker("run", "-d", "--name", n, "busybox", "sh", "-c", script))
            deadline = time.monotonic() + 30  # `run -d` returns before the shell has written the file
            while engine.docker("exec", n, "test", "-f", "/made-here").returncode != 0:
                assert time.monotonic() < deadline, "/made-here never appeared"
                time.sleep(0.1)
        else:
            ok(engine.docker("run", "--name", n, "busybox", "sh", "-c", script))
        ok(engine.docker("commit", n, image))
        assert _last_layer_names(engine, image) == ["made-here"]
        # The placeholders are still there for the container and for one run from the image.
        assert ok(engine.docker("run", "--rm", image, "cat", "/made-here")) == b"data\n"
        assert ok(engine.docker("run", "--rm", "--hostname", "h1", image, "cat", "/etc/hostname")) == b"h1\n"
        if running:
            assert ok(engine.docker("exec", n, "cat", "/etc/hostname")).strip()
    finally:
        engine.docker("rm", "-f", n)
        engine.docker("rmi", image)


def test_commit_keeps_etc_files_the_container_wrote(engine):
    n, image = f"cm{secrets.token_hex(4)}", f"committed:{secrets.token_hex(3)}"
    try:
        ok(engine.docker("run", "--name", n, "busybox", "sh", "-c", "echo hi > /etc/motd"))
        ok(engine.docker("commit", n, image))
        assert _last_layer_names(engine, image) == ["etc", "etc/motd"]
    finally:
        engine.docker("rm", "-f", n)
        engine.docker("rmi", image)
