"""The installed `skiff` launcher (python -SE, os._exit at the end) against a real engine:
output, stdin and exit codes come through as with `python -m skiff`."""

import subprocess
import sys
from pathlib import Path

import pytest

from skiff.cli import launcher
from tests.support.procs import ok

pytestmark = pytest.mark.root


@pytest.fixture
def skiff(engine, tmp_path):
    path = tmp_path / "skiff"
    launcher.install(str(path), python=sys.executable)

    def run(*args: str, input: bytes | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([str(path), "-H", engine.host, *args], input=input, capture_output=True,
                              env=engine.env, timeout=120)

    return run


def test_run_rm_passes_output_streams_and_exit_code(skiff):
    p = skiff("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert (p.returncode, p.stdout, p.stderr) == (3, b"out\n", b"err\n")


def test_run_with_stdin_and_command_not_found(skiff):
    p = skiff("run", "--rm", "-i", "busybox", "tr", "a-z", "A-Z", input=b"hello\n")
    assert (p.returncode, p.stdout) == (0, b"HELLO\n")
    p = skiff("run", "--rm", "busybox", "no-such-command")
    assert p.returncode == 127 and b"executable file not found" in p.stderr


def test_detached_run_then_remove(skiff, engine):
    cid = ok(skiff("run", "-d", "busybox", "sleep", "60")).strip()
    assert len(cid) == 64
    assert ok(skiff("ps", "-q", "--no-trunc")).split().count(cid) == 1
    assert ok(skiff("rm", "-f", cid)).strip() == cid
    assert cid not in ok(skiff("ps", "-aq", "--no-trunc"))


def test_output_larger_than_a_pipe_buffer_is_flushed_before_exit(skiff, tmp_path):
    p = skiff("run", "--rm", "busybox", "sh", "-c", "seq 1 50000")
    lines = p.stdout.split(b"\n")
    assert p.returncode == 0 and lines[0] == b"1" and lines[-2] == b"50000"
    assert Path(tmp_path / "skiff").read_text().startswith("#!")
