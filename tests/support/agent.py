"""Start a `skiff agent` (kubelet + its own engine) on a private data dir against a test server,
and leave nothing behind: pods' containers, cgroups, mounts, the data dir."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.cgroups import remove_cgroups
from tests.support.engine import docker_env, request
from tests.support.procs import stop_process


class Agent:
    def __init__(self, server_url: str, token: str, root: Path, node_name: str | None = None,
                 extra_args: list[str] | None = None, wrap: list[str] | None = None):
        self.server_url = server_url
        self.token = token
        self.root = root
        self.data_dir = root / "agent"
        self.node_name = node_name or "node-" + secrets.token_hex(3)
        self.prefix = "ska" + secrets.token_hex(3)
        self.socket = str(self.data_dir / "engine.sock")
        self.host = "unix://" + self.socket
        self.extra_args = extra_args or []
        self.wrap = wrap or []  # a command prefix, e.g. nsenter into the node's netns
        self.log_path = root / "agent.log"
        self.proc: subprocess.Popen | None = None

    @property
    def env(self) -> dict[str, str]:
        return docker_env(self.host, self.root)

    def start(self, timeout: float = 60) -> Agent:
        self.root.mkdir(parents=True, exist_ok=True)
        seen = len(self.log())  # a restart: only this run's lines count
        # agents sharing the host's network let their engines pick free pod subnets (under the
        # engines' lock) rather than all taking the server's first podCIDR
        shared = [] if self.wrap or "--bip" in self.extra_args else ["--engine-pod-subnet"]
        cmd = [*self.wrap, sys.executable, "-m", "skiff", "agent", "--server", self.server_url, "--token", self.token,
               "--data-dir", str(self.data_dir), "--node-name", self.node_name, "--prefix", self.prefix,
               *shared, *self.extra_args]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"agent exited with {self.proc.returncode}:\n{self.log()[-4000:]}")
            if "ready (engine API" in self.log()[seen:]:
                return self
            time.sleep(0.05)
        self.stop()  # not left running behind the failed fixture (cleanup() removes its containers)
        raise RuntimeError(f"agent not ready after {timeout}s:\n{self.log()[-4000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def load(self, archive: Path) -> None:
        status, body = request(self.socket, "POST", "/images/load?quiet=1", archive.read_bytes(),
                               {"Content-Type": "application/x-tar"})
        if status != 200:
            raise RuntimeError(f"load failed: {status} {body!r}")

    def docker(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(["docker", *args], env=self.env, capture_output=True, timeout=timeout)

    def kill(self) -> None:
        """SIGKILL the agent alone (a crashed node agent): its containers keep running."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM: the agent stops; its pods' containers keep running (as a kubelet's do)."""
        stop_process(self.proc, signal.SIGTERM, timeout)  # the agent alone: its containers' shims live on
        self.proc = None

    def cleanup(self) -> None:
        """Stop the agent, then remove every container it left, its cgroups and its files."""
        self.stop()
        remove_node_state(self.data_dir, self.prefix, self.root, self.wrap)
        shutil.rmtree(self.root, ignore_errors=True)


def remove_node_state(data_dir: Path, prefix: str, scratch: Path, wrap: list[str] | None = None) -> None:
    """Remove every container of a stopped node agent (with a plain engine on its data root, in
    the agent's netns when `wrap` enters one), the pods' tmpfs mounts, the prefix's cgroups and
    the agent's pod-route NAT chain, Service proxy chains and cluster DNS link."""
    engine_root = data_dir / "engine"
    if engine_root.exists():
        sock = scratch / "cleanup.sock"
        proc = subprocess.Popen([*(wrap or []), sys.executable, "-m", "skiff", "engine", "--data-root", str(engine_root),
                                 "-H", f"unix://{sock}", "--prefix", prefix], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    if request(str(sock), "GET", "/_ping")[0] == 200:
                        break
                except OSError:
                    time.sleep(0.05)
            env = docker_env(f"unix://{sock}", scratch)
            ids = subprocess.run(["docker", "ps", "-aq"], env=env, capture_output=True).stdout.split()
            if ids:
                subprocess.run(["docker", "rm", "-f", *[i.decode() for i in ids]], env=env, capture_output=True)
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    pods = data_dir / "pods"
    if pods.exists():  # emptyDir tmpfs mounts of pods that were never deleted
        for m in sorted(pods.glob("*/volumes/kubernetes.io~emptydir/*"), reverse=True):
            if os.path.ismount(m):
                subprocess.run(["umount", "-l", str(m)], capture_output=True)
    remove_cgroups("/" + prefix)
    from skiff.cluster.nodenet.apply import remove_nat

    if not wrap:  # in a netns of its own, the chains go with the netns
        remove_nat(f"{prefix}-PODS")
        remove_proxy_chains(prefix)
        remove_netpol_chains(prefix)
        subprocess.run(["ip", "link", "del", f"{prefix}dns0"], capture_output=True)  # the cluster DNS link


def remove_proxy_chains(prefix: str) -> None:
    """The Service proxy's chains of an agent that did not stop cleanly (killed -9)."""
    from skiff.cluster.proxy.chains import ProxyChains, proxy_prefix
    from skiff.engine.network.iptables import Iptables

    iptables = Iptables(proxy_prefix(prefix))
    iptables.chains = ProxyChains(proxy_prefix(prefix))
    iptables.teardown()


def remove_netpol_chains(prefix: str) -> None:
    """The NetworkPolicy chains of an agent that did not stop cleanly (killed -9)."""
    from skiff.cluster.netpol.syncer import remove_chains

    remove_chains(prefix)


class Cluster:
    """A `skiff server --disable-agent` with one `skiff agent` joined to it, busybox loaded on the node."""

    def __init__(self, root: Path, busybox_archive: Path, agent_args: list[str] | None = None):
        from tests.support.server import Server

        self.token = "join-" + secrets.token_hex(8)
        self.server = Server(root / "server", extra_args=["--token", self.token])
        self.agent = Agent(self.server.url, self.token, root / "node", extra_args=agent_args)
        self.busybox_archive = busybox_archive

    def start(self) -> Cluster:
        self.server.start()
        self.agent.start()
        self.agent.load(self.busybox_archive)
        return self

    @property
    def node(self) -> str:
        return self.agent.node_name

    def kubectl(self, *args: str, input: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
        return self.server.kubectl(*args, input=input, timeout=timeout)

    def jsonpath(self, what: str, path: str, namespace: str = "default") -> str:
        r = self.kubectl("get", what, "-n", namespace, "-o", f"jsonpath={path}")
        return r.stdout.decode()

    def wait_for(self, what: str, path: str, accept, namespace: str = "default", timeout: float = 60) -> str:
        """Poll `kubectl get WHAT -o jsonpath=PATH` until accept(value); returns the value."""
        deadline = time.monotonic() + timeout
        value = ""
        while time.monotonic() < deadline:
            value = self.jsonpath(what, path, namespace)
            if accept(value):
                return value
            time.sleep(0.2)
        raise AssertionError(f"{what} {path}: last value {value!r} after {timeout}s\n--- agent log ---\n"
                             f"{self.agent.log()[-3000:]}")

    def cleanup(self) -> None:
        try:
            self.agent.cleanup()
        finally:  # a failed node cleanup must not leave the server running for the rest of the run
            self.server.cleanup()


try:
    import pytest
except ImportError:
    pytest = None  # type: ignore[assignment]

if pytest is not None:
    @pytest.fixture(scope="module")
    def cluster(busybox_archive, tmp_path_factory):
        """A server and one agent for a test module; tests use namespaces of their own (`pod_ns`)."""
        import shutil as _shutil
        import tempfile

        if not _shutil.which("kubectl"):
            pytest.skip("kubectl is not installed")
        root = Path(tempfile.mkdtemp(prefix="skiff-kubelet-", dir="/tmp"))
        c = Cluster(root, busybox_archive)
        try:
            c.start()
            yield c
        finally:
            c.cleanup()
            _shutil.rmtree(root, ignore_errors=True)

    @pytest.fixture
    def pod_ns(cluster, request):
        """A namespace of the test's own; its pods are deleted (and their containers gone) afterwards."""
        name = "t-" + "".join(ch for ch in request.node.name.lower().replace("_", "-") if ch.isalnum() or ch == "-")
        name = name[:50].strip("-") + "-" + secrets.token_hex(2)
        r = cluster.kubectl("create", "namespace", name)
        assert r.returncode == 0, r.stderr
        # its default ServiceAccount, which pod admission needs (made just after the namespace)
        cluster.server.wait_for(f"/api/v1/namespaces/{name}/serviceaccounts/default")
        yield name
        cluster.kubectl("delete", "pods", "--all", "-n", name, "--grace-period=0", "--wait=true", timeout=120)
        cluster.kubectl("delete", "namespace", name, "--wait=false")
