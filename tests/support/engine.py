"""Start a `skiff engine` on a private data root and socket, for integration tests and benchmarks."""

import http.client
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.support.cgroups import remove_cgroups
from tests.support.procs import stop_process

REPO = Path(__file__).resolve().parents[2]


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float = 60):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


def request(sock_path: str, method: str, path: str, body: bytes | None = None,
            headers: dict | None = None) -> tuple[int, bytes]:
    conn = UnixHTTPConnection(sock_path)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def docker_env(host: str, root: Path) -> dict[str, str]:
    """The environment for the real docker CLI talking to `host`, with its own config dir under
    `root` (no contexts or credentials from the user's ~/.docker)."""
    env = dict(os.environ)
    env["DOCKER_HOST"] = host
    env.pop("DOCKER_CONTEXT", None)
    env["DOCKER_CONFIG"] = str(root / "docker-config")
    return env


class Engine:
    """A running engine daemon: its root, socket, and helpers to drive it with real clients."""

    def __init__(self, root: Path, prefix: str | None = None, extra_args: list[str] | None = None):
        self.root = root
        self.prefix = prefix or "sk" + secrets.token_hex(3)
        self.socket = str(root / "engine.sock")
        self.host = "unix://" + self.socket
        self.extra_args = extra_args or []
        self.proc: subprocess.Popen | None = None
        self.log_path = root / "engine.log"

    @property
    def env(self) -> dict[str, str]:
        return docker_env(self.host, self.root)

    def start(self, timeout: float = 60) -> "Engine":
        self.root.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "skiff", "engine", "--data-root", str(self.root / "data"),
               "-H", self.host, "--prefix", self.prefix, *self.extra_args]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"engine exited with {self.proc.returncode}:\n{self.log_path.read_text()[-4000:]}")
            try:
                status, _ = request(self.socket, "GET", "/_ping")
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        self.stop(signal.SIGKILL)  # not left running behind the failed fixture
        raise RuntimeError(f"engine did not answer in {timeout}s:\n{self.log_path.read_text()[-4000:]}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        stop_process(self.proc, sig, timeout)
        self.proc = None

    def load(self, archive: Path) -> None:
        status, body = request(self.socket, "POST", "/images/load?quiet=1", archive.read_bytes(),
                               {"Content-Type": "application/x-tar"})
        if status != 200:
            raise RuntimeError(f"load failed: {status} {body!r}")

    def docker(self, *args: str, input: bytes | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run the real docker CLI against this engine."""
        return subprocess.run(["docker", *args], env=self.env, input=input, capture_output=True, timeout=timeout)

    def skiff(self, *args: str, input: bytes | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run the skiff CLI against this engine."""
        return subprocess.run([sys.executable, "-m", "skiff", "-H", self.host, *args], env=self.env,
                              input=input, capture_output=True, timeout=timeout)

    def cleanup(self) -> None:
        """Stop the daemon and remove every container, so nothing is left on the host."""
        if self.proc and self.proc.poll() is None:
            ids = self.docker("ps", "-aq").stdout.split()
            if ids:
                self.docker("rm", "-f", *[i.decode() for i in ids])
        self.stop()
        remove_cgroups("/" + self.prefix)
        shutil.rmtree(self.root, ignore_errors=True)

