"""Start a `skiff server` on a private data dir and port, and drive it with kubectl or HTTPS requests."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running `skiff server --disable-agent`; `kubectl(...)` runs the real kubectl against it."""

    def __init__(self, root: Path | None = None, extra_args: list[str] | None = None, disable_agent: bool = True):
        self.root = root or Path(tempfile.mkdtemp(prefix="skiff-server-", dir="/tmp"))
        self.data_dir = self.root / "data"
        self.kubeconfig = self.root / "kubeconfig.yaml"
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.extra_args = extra_args or []
        self.disable_agent = disable_agent
        self.log_path = self.root / "server.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> Server:
        cmd = [sys.executable, "-m", "skiff", "server", "--data-dir", str(self.data_dir),
               "--https-listen-port", str(self.port), "--bind-address", "127.0.0.1",
               "--write-kubeconfig", str(self.kubeconfig), *(["--disable-agent"] if self.disable_agent else []),
               *self.extra_args]
        self.root.mkdir(parents=True, exist_ok=True)
        self.kubeconfig.unlink(missing_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()[-4000:]}")
            if self.kubeconfig.exists() and self.ready():
                return self  # the default namespaces' accounts exist before /readyz says ok
            time.sleep(0.05)
        self.stop()  # not left running (and serving its port) behind the failed fixture
        raise RuntimeError(f"server not ready after {timeout}s:\n{self.log()[-4000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def ready(self) -> bool:
        try:
            status, _, _ = self.request("GET", "/readyz", auth=False)
        except OSError:
            return False
        return status == 200

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["KUBECONFIG"] = str(self.kubeconfig)
        env["KUBECACHEDIR"] = str(self.root / "kube-cache")
        env["HOME"] = str(self.root)  # no ~/.kube of the user's
        return env

    def kubectl(self, *args: str, input: str | bytes | None = None, env: dict[str, str] | None = None,
                timeout: float = 60) -> subprocess.CompletedProcess:
        data = input.encode() if isinstance(input, str) else input
        return subprocess.run(["kubectl", *args], input=data, capture_output=True, env={**self.env, **(env or {})},
                              timeout=timeout)

    def ssl_context(self, client_cert: bool = True) -> ssl.SSLContext:
        tls = self.data_dir / "tls"
        ctx = ssl.create_default_context(cafile=str(tls / "server-ca.crt"))
        if client_cert:
            ctx.load_cert_chain(tls / "client-admin.crt", tls / "client-admin.key")
        return ctx

    def request(self, method: str, path: str, body: bytes | dict | None = None, headers: dict | None = None,
                auth: bool = True, timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) of one HTTPS request; with auth, as the admin client certificate."""
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, context=self.ssl_context(auth), timeout=timeout) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def json(self, method: str, path: str, body: bytes | dict | None = None, **kw) -> tuple[int, dict]:
        status, _, raw = self.request(method, path, body, **kw)
        return status, json.loads(raw) if raw else {}

    def wait_for(self, path: str, timeout: float = 60) -> dict:
        """The object at path, once it exists (what the server's own loops make, like a namespace's
        default ServiceAccount)."""
        deadline = time.monotonic() + timeout
        while True:
            status, body = self.json("GET", path)
            if status == 200:
                return body
            if time.monotonic() > deadline:
                raise AssertionError(f"{path} did not appear: {status} {body}")
            time.sleep(0.05)

    def start_with_local_agent(self, node: str, busybox_archive: Path) -> Path:
        """Start (a server made with disable_agent=False), load busybox into its own agent's
        engine, wait for the agent's Node; the agent's data dir."""
        from tests.support.engine import request

        agent_dir = self.data_dir.absolute() / "agent"
        self.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (agent_dir / "engine.sock").exists():
            time.sleep(0.1)
        status, _ = request(str(agent_dir / "engine.sock"), "POST", "/images/load?quiet=1",
                            busybox_archive.read_bytes(), {"Content-Type": "application/x-tar"})
        assert status == 200
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.kubectl("get", "node", node).returncode != 0:
            time.sleep(0.2)
        return agent_dir

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


try:
    import pytest
except ImportError:  # the benchmark imports this module without pytest
    pytest = None  # type: ignore[assignment]

if pytest is not None:
    @pytest.fixture(scope="session")
    def kube_server():
        """One `skiff server` for the session. Tests work in namespaces of their own."""
        if not shutil.which("kubectl"):
            pytest.skip("kubectl is not installed")
        srv = Server().start()
        yield srv
        srv.cleanup()

    @pytest.fixture
    def namespace(kube_server, request):
        """A fresh namespace for one test, deleted afterwards."""
        name = "t-" + request.node.name.lower().replace("_", "-")[:40].strip("-") + "-" + os.urandom(2).hex()
        name = "".join(c for c in name if c.isalnum() or c == "-")
        status, body = kube_server.json("POST", "/api/v1/namespaces", {"metadata": {"name": name}})
        assert status == 201, body
        kube_server.wait_for(f"/api/v1/namespaces/{name}/serviceaccounts/default")
        kube_server.wait_for(f"/api/v1/namespaces/{name}/configmaps/kube-root-ca.crt")
        yield name
        kube_server.json("DELETE", f"/api/v1/namespaces/{name}")
