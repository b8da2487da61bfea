"""Start Debian's dockerd (with its own containerd) as a reference engine on private paths.

Everything the reference daemon owns lives under one temp directory, so it never meets the
host's `/var/lib/docker`, `/run/docker.sock`, `/var/run/docker` or `/run/containerd`:

    ROOT/data        dockerd --data-root (images, containers, overlay2)
    ROOT/x           dockerd --exec-root (runc state, netns, plugins)   [short: socket paths]
    ROOT/ctd/...     containerd root, state, gRPC socket and config (started here, not by dockerd,
                     because dockerd would silently use a system containerd if one were running)
    ROOT/docker.sock the API socket

The one thing containerd 1.6 cannot move is its shims' ttrpc sockets, which it names
`/run/containerd/s/<sha256 of our socket path + id>`; they are unique per daemon and each shim
removes its own on exit. Containers go under the cgroup parent `/<prefix>` (removed at cleanup).
`--bridge=none` means containers need `--network none`.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from tests.support.cgroups import remove_cgroups
from tests.support.engine import docker_env, request

SHIM_SOCKET_DIR = Path("/run/containerd/s")  # fixed in containerd 1.6; see the module docstring
BINARIES = ("dockerd", "containerd", "containerd-shim-runc-v2", "runc", "docker")

CONTAINERD_CONFIG = """\
version = 2
root = "{root}"
state = "{state}"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs",
                    "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
                    "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp",
                    "io.containerd.internal.v1.tracing"]

[grpc]
  address = "{sock}"

[ttrpc]
  address = "{sock}.ttrpc"

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "{opt}"
"""


def unavailable_reason() -> str | None:
    """Why the reference engine cannot run here, or None if it can."""
    if os.geteuid() != 0:
        return "dockerd needs root"
    missing = [b for b in BINARIES if shutil.which(b) is None]
    if missing:
        return "not installed: " + ", ".join(missing)
    return None


# The default: no bridge and no iptables, so the host's network config is never touched.
# (bench/ passes a bridge it made and --iptables=true, and removes dockerd's chains after.)
NO_NETWORK_ARGS = ["--iptables=false", "--ip6tables=false", "--ip-forward=false", "--ip-masq=false", "--bridge=none"]


class Dockerd:
    """A reference dockerd + containerd pair on private paths, driven like tests.support.engine.Engine."""

    def __init__(self, root: Path | None = None, prefix: str | None = None,
                 network_args: list[str] | None = None):
        self.network_args = network_args or NO_NETWORK_ARGS
        self.root = root or Path(tempfile.mkdtemp(prefix="skref-", dir="/tmp"))
        self.prefix = prefix or "skref" + secrets.token_hex(3)
        self.data_root = self.root / "data"
        self.exec_root = self.root / "x"
        self.ctd_dir = self.root / "ctd"
        self.ctd_socket = str(self.ctd_dir / "c.sock")
        self.socket = str(self.root / "docker.sock")
        self.host = "unix://" + self.socket
        self.log_path = self.root / "dockerd.log"
        self.ctd_log_path = self.root / "containerd.log"
        self.dockerd: subprocess.Popen | None = None
        self._made_shim_dir = not SHIM_SOCKET_DIR.exists()
        self.containerd: subprocess.Popen | None = None

    @property
    def env(self) -> dict[str, str]:
        return docker_env(self.host, self.root)

    # -- life cycle ---------------------------------------------------------------------------

    def start(self, timeout: float = 60) -> Dockerd:
        for d in (self.data_root, self.exec_root, self.ctd_dir, self.root / "docker-config"):
            d.mkdir(parents=True, exist_ok=True)
        try:
            self._start_containerd(timeout)
            self._start_dockerd(timeout)
        except BaseException:
            self.cleanup()
            raise
        return self

    def _start_containerd(self, timeout: float) -> None:
        config = self.ctd_dir / "config.toml"
        config.write_text(CONTAINERD_CONFIG.format(
            root=self.data_root / "containerd", state=self.ctd_dir / "state",
            sock=self.ctd_socket, opt=self.ctd_dir / "opt"))
        log = open(self.ctd_log_path, "ab")
        self.containerd = subprocess.Popen(["containerd", "--config", str(config)], stdout=log,
                                           stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        _wait_for(lambda: os.path.exists(self.ctd_socket), self.containerd, self.ctd_log_path, timeout)

    def _start_dockerd(self, timeout: float) -> None:
        config = self.root / "daemon.json"
        # Our own config file, so /etc/docker/daemon.json is never read; it also moves dockerd's
        # trust key, which would otherwise be written to /etc/docker/key.json.
        config.write_text(json.dumps({"deprecated-key-path": str(self.root / "key.json")}))
        cmd = ["dockerd", "--data-root", str(self.data_root), "--exec-root", str(self.exec_root),
               "--pidfile", str(self.root / "dockerd.pid"), "-H", self.host,
               "--config-file", str(config), "--containerd", self.ctd_socket,
               *self.network_args, "--userland-proxy=false", "--storage-driver=overlay2",
               "--exec-opt", "native.cgroupdriver=cgroupfs", "--cgroup-parent", "/" + self.prefix,
               "--group", "root", "--log-level", "warn"]
        log = open(self.log_path, "ab")
        self.dockerd = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

        def answers() -> bool:
            try:
                return request(self.socket, "GET", "/_ping")[0] == 200
            except OSError:
                return False

        _wait_for(answers, self.dockerd, self.log_path, timeout)

    def load(self, archive: Path) -> None:
        status, body = request(self.socket, "POST", "/images/load?quiet=1", archive.read_bytes(),
                               {"Content-Type": "application/x-tar"})
        if status != 200 or b'"error' in body:
            raise RuntimeError(f"dockerd load failed: {status} {body!r}")

    def docker(self, *args: str, input: bytes | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run the real docker CLI against this daemon."""
        return subprocess.run(["docker", *args], env=self.env, input=input, capture_output=True, timeout=timeout)

    def remove_all_containers(self) -> None:
        ids = self.docker("ps", "-aq").stdout.split()
        if ids:
            self.docker("rm", "-f", *[i.decode() for i in ids], timeout=600)

    # -- processes, for the benchmarks --------------------------------------------------------

    def daemon_pids(self) -> dict[str, int]:
        """The reference's own long-lived processes (not per container)."""
        pids = {}
        if self.dockerd and self.dockerd.poll() is None:
            pids["dockerd"] = self.dockerd.pid
        if self.containerd and self.containerd.poll() is None:
            pids["containerd"] = self.containerd.pid
        return pids

    def shim_pids(self) -> list[int]:
        """containerd-shim-runc-v2 processes serving this containerd (one per container)."""
        return [pid for pid, argv in _processes() if argv and argv[0].endswith("containerd-shim-runc-v2")
                and self.ctd_socket in argv]

    # -- teardown -----------------------------------------------------------------------------

    def stop(self) -> None:
        for proc in (self.dockerd, self.containerd):
            if proc and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.dockerd = self.containerd = None

    def cleanup(self) -> None:
        """Remove containers, stop both daemons and every shim, unmount, drop cgroups and files."""
        if self.dockerd and self.dockerd.poll() is None:
            try:
                self.remove_all_containers()
            except (OSError, subprocess.SubprocessError):
                pass
        shims = self.shim_pids()
        self.stop()
        for pid in shims + self.shim_pids():
            _kill(pid)
        _unmount_under(self.root)
        remove_cgroups("/" + self.prefix)
        if self._made_shim_dir:  # leave the host as we found it; rmdir fails if another daemon uses it
            for d in (SHIM_SOCKET_DIR, SHIM_SOCKET_DIR.parent):
                try:
                    d.rmdir()
                except OSError:
                    break
        shutil.rmtree(self.root, ignore_errors=True)


def _wait_for(ready, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        if ready():
            return
        time.sleep(0.05)
    raise RuntimeError(f"{proc.args[0]} not ready in {timeout}s:\n{log.read_text()[-4000:]}")


def _processes() -> list[tuple[int, list[str]]]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        out.append((int(entry), raw.decode(errors="replace").split("\0")))
    return out


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _unmount_under(root: Path) -> None:
    """Lazily unmount whatever dockerd left mounted below root, deepest first."""
    prefix = str(root.resolve()) + "/"
    points = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = line.split()[4].replace("\\040", " ")
            if point.startswith(prefix):
                points.append(point)
    for point in sorted(set(points), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)

