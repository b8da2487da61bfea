"""`skiff engine` as a process: refusals, pidfile, socket, and containers outliving a SIGTERM."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.support.engine import Engine

pytestmark = pytest.mark.root


def _engine_cmd(root: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "skiff", "engine", "--data-root", str(root / "data"),
            "-H", f"unix://{root}/e.sock", "--prefix", "skd" + os.urandom(2).hex(), *extra]


@pytest.fixture
def tmp_root():
    root = Path(tempfile.mkdtemp(prefix="skiff-daemon-", dir="/tmp"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv not installed")
def test_refuses_to_run_without_root(tmp_root):
    tmp_root.chmod(0o777)
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *_engine_cmd(tmp_root)],
                       capture_output=True, timeout=30, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert r.returncode == 1
    assert b"must be run as root" in r.stderr


def test_bad_host_is_refused(tmp_root):
    r = subprocess.run([sys.executable, "-m", "skiff", "engine", "--data-root", str(tmp_root / "data"),
                        "-H", "ftp://nowhere"], capture_output=True, timeout=30)
    assert r.returncode == 1 and b"invalid host" in r.stderr


def test_pidfile_and_sigterm_leave_containers_running(tmp_root, busybox_archive):
    pidfile = tmp_root / "engine.pid"
    eng = Engine(tmp_root, extra_args=["--pidfile", str(pidfile)]).start()
    try:
        assert pidfile.read_text().strip() == str(eng.proc.pid)
        eng.load(busybox_archive)
        r = eng.docker("run", "-d", "--name", "outlives", "busybox", "sleep", "600")
        assert r.returncode == 0, r.stderr
        pid = int(eng.docker("inspect", "-f", "{{.State.Pid}}", "outlives").stdout)
        eng.stop(signal.SIGTERM)
        assert not pidfile.exists()
        assert not Path(eng.socket).exists()
        os.kill(pid, 0)  # still alive without the engine
        eng.start()
        assert eng.docker("inspect", "-f", "{{.State.Running}} {{.State.Pid}}", "outlives").stdout == \
            f"true {pid}\n".encode()
    finally:
        eng.cleanup()
