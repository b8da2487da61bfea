"""README's quick start, run as written, so it cannot rot silently.

The shell blocks of README.md's "Quick start" section are extracted and every line is run with
bash, against private instances instead of the host's: the engine socket the README names
(/run/skiff/engine.sock) becomes the session engine's, /tmp/demo and /tmp/busybox.tar become
a temporary directory, and `skiff server` gets a free port and node name of its own. Lines
that set the machine up (install.sh, test.sh) or need the Debian mirror (mkdebian.sh and the
build that uses its image) are skipped by name; any other line is run, so a line added to the
README is tested without editing this file.
"""

from __future__ import annotations

import hashlib
import os
import pty
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.support.agent import remove_node_state
from tests.support.ptys import read_match, read_to_eof
from tests.support.server import free_port

README = Path(__file__).resolve().parents[2] / "README.md"

# Lines the test does not run, and why: each must still be in the README (checked below).
SKIPPED = {
    "./scripts/install.sh": "sets up the machine: CI has run it already",
    "./scripts/test.sh": "the whole suite",
    "sudo scripts/mkdebian.sh": "debootstrap from the Debian mirror: about a minute and 120 MB",
    "skiff build -t hello -": "needs debian:bookworm from mkdebian.sh",
    "skiff run --rm hello": "needs the hello image built above",
    "kill %1": "the test stops the server it started",
}
SERVER_LINE = "skiff server "


def quick_start_lines(text: str) -> list[str]:
    """The command lines of the ```sh blocks in the "## Quick start" section, in order. Pure."""
    section = text.split("\n## Quick start", 1)[1].split("\n## ", 1)[0]
    lines: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", section, re.S):
        lines += [line.strip() for line in block.splitlines() if line.strip() and not line.strip().startswith("#")]
    return lines


def skipped_reason(line: str) -> str | None:
    return next((why for start, why in SKIPPED.items() if start in line), None)


def test_quick_start_is_found_and_every_skip_names_a_real_line():
    lines = quick_start_lines(README.read_text())
    assert any(line.startswith(SERVER_LINE) for line in lines)
    assert any("skiff run --rm busybox echo hello" in line for line in lines)
    for start in SKIPPED:
        assert any(start in line for line in lines), f"{start!r} is no longer in the README: drop it from SKIPPED"


def _bin_dir(root: Path) -> Path:
    """A directory put first on PATH with `skiff` running this checkout's skiff, as the
    /usr/local/bin/skiff link install.sh makes does."""
    bindir = root / "bin"
    bindir.mkdir()
    (bindir / "skiff").write_text(f'#!/bin/sh\nexec {sys.executable} -m skiff "$@"\n')
    (bindir / "skiff").chmod(0o755)
    return bindir


def _privatise(line: str, engine_sock: str, root: Path) -> str:
    line = line.replace("/run/skiff/engine.sock", engine_sock)
    line = line.replace("/tmp/busybox.tar", str(root / "busybox.tar"))
    return line.replace("/tmp/demo", str(root / "demo"))


def _run_in_pty(line: str, env: dict[str, str]) -> bytes:
    """An interactive line (`docker run -it ... sh`): at the shell's prompt, type a command and exit."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe("bash", ["bash", "-c", line], env)
    try:
        out = read_match(fd, rb"/ # ", timeout=60)
        os.write(fd, b"echo tty-$((40+2)); exit\r")
        out += read_to_eof(fd, timeout=60)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, out
        return out
    finally:
        os.close(fd)


@pytest.mark.root
@pytest.mark.interop
@pytest.mark.slow
def test_readme_quick_start_runs_as_written(engine, tmp_path):
    if not shutil.which("kubectl") or not shutil.which("docker"):
        pytest.skip("needs the real kubectl and docker CLIs")
    root = Path(tempfile.mkdtemp(prefix="skiff-qs-", dir="/tmp"))
    env = {**os.environ, "PATH": f"{_bin_dir(tmp_path)}:{os.environ['PATH']}", "HOME": str(tmp_path),
           "KUBECACHEDIR": str(tmp_path / "kube-cache"), "DOCKER_CONFIG": str(tmp_path / "docker-config")}
    env["DOCKER_HOST"] = engine.host  # the default socket, /run/skiff/engine.sock, of a bare `skiff`
    node = "qs-" + root.name[-6:].lower().replace("_", "x")
    agent_dir = root / "demo" / "agent"
    server: subprocess.Popen | None = None
    outputs: dict[str, str] = {}
    try:
        for raw in quick_start_lines(README.read_text()):
            if skipped_reason(raw):
                continue
            line = _privatise(raw, engine.socket, root)
            if line.startswith("export "):
                name, _, value = line[len("export "):].partition("=")
                env[name] = value
                continue
            if raw.startswith(SERVER_LINE):
                command = line.rstrip("& ").split() + ["--https-listen-port", str(free_port()),
                                                       "--bind-address", "127.0.0.1", "--node-name", node]
                with open(root / "server.log", "ab") as log:
                    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                              start_new_session=True)
                continue
            if " -it " in line:
                outputs[raw] = _run_in_pty(line, env).decode(errors="replace")
                continue
            r = subprocess.run(["bash", "-c", line], env=env, capture_output=True, timeout=120)
            assert r.returncode == 0, (raw, r.stdout.decode(), r.stderr.decode(), _server_log(root))
            outputs[raw] = r.stdout.decode()
        assert _output_of(outputs, "skiff run --rm busybox echo hello") == "hello\n"
        assert "tty-42" in _output_of(outputs, "docker run --rm -it busybox sh")
        assert re.search(rf"^{node}\s+Ready\s", _output_of(outputs, "kubectl get nodes"), re.M)
        assert "successfully rolled out" in _output_of(outputs, "kubectl rollout status deployment web")
        assert _output_of(outputs, "kubectl exec deploy/web").strip() == "hi"
        pods = _output_of(outputs, "skiff kubectl get pods")
        assert len(re.findall(r"^web-\S+\s+1/1\s+Running\s", pods, re.M)) == 3, pods
    finally:
        if server and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        prefix = "sn" + hashlib.sha256(str(agent_dir).encode()).hexdigest()[:6]
        remove_node_state(agent_dir, prefix, root)
        shutil.rmtree(root, ignore_errors=True)


def _output_of(outputs: dict[str, str], start: str) -> str:
    """The output of the README line that runs `start` (after any VAR=value assignments)."""
    found = [out for raw, out in outputs.items() if re.sub(r"^(\w+=\S+ )+", "", raw).startswith(start)]
    assert found, f"no README line with {start!r} was run"
    return found[0]


def _server_log(root: Path) -> str:
    log = root / "server.log"
    return log.read_text(errors="replace")[-3000:] if log.exists() else ""
