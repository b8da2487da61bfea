"""`--network none` through the docker CLI: the runtime makes the namespace (no netns file
from the engine) with lo up, and `--network container:X` joins it."""

from __future__ import annotations

import json
import secrets
import shutil

import pytest

from tests.support.procs import ok_bytes as ok

pytestmark = [pytest.mark.interop, pytest.mark.root,
              pytest.mark.skipif(shutil.which("docker") is None, reason="docker CLI not installed")]


def test_none_has_lo_up_and_is_shared_by_container_mode(engine):
    box, guest = f"nn{secrets.token_hex(4)}", f"ng{secrets.token_hex(4)}"
    try:
        ok(engine.docker("run", "-d", "--network", "none", "--name", box, "busybox", "sleep", "600"))
        links = ok(engine.docker("exec", box, "ip", "-o", "link")).decode()
        assert [line.split(":")[1].strip() for line in links.splitlines()] == ["lo"]
        assert "UP" in links.split("<", 1)[1].split(">", 1)[0].split(",")
        # a listener in the first container answers on 127.0.0.1 from the second
        ok(engine.docker("exec", "-d", box, "sh", "-c", "echo hello-from-box | nc -l -p 7777"))
        ok(engine.docker("run", "-d", "--network", f"container:{box}", "--name", guest, "busybox", "sleep", "600"))
        mine = ok(engine.docker("exec", box, "readlink", "/proc/1/ns/net")).strip()
        theirs = ok(engine.docker("exec", guest, "readlink", "/proc/1/ns/net")).strip()
        assert mine == theirs
        got = b""
        for _ in range(50):  # the listener may not be up yet
            r = engine.docker("exec", guest, "nc", "127.0.0.1", "7777")
            got = r.stdout
            if got:
                break
        assert got == b"hello-from-box\n"
        info = json.loads(ok(engine.docker("inspect", box)))[0]
        assert list(info["NetworkSettings"]["Networks"]) == ["none"]
        data_root = engine.root / "data"
        assert (data_root / "containers" / info["Id"]).is_dir()
        assert not (data_root / "netns" / info["Id"]).exists()  # made by the runtime, not bind-mounted by the engine
    finally:
        engine.docker("rm", "-f", guest, box)
