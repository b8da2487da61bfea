"""The engines and clients a benchmark compares: a skiff engine and the reference dockerd."""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.support.busybox import write_docker_archive  # noqa: E402
from tests.support.cgroups import remove_cgroups  # noqa: E402
from tests.support.dockerd import Dockerd  # noqa: E402
from tests.support.engine import Engine  # noqa: E402

from bench import report  # noqa: E402
from bench.procmem import processes  # noqa: E402
from bench.refbridge import RefBridge  # noqa: E402


def skiff_cli() -> list[str]:
    """The installed `skiff` console script next to this interpreter (what users run)."""
    script = Path(sys.executable).parent / "skiff"
    return [str(script)] if script.exists() else [sys.executable, "-m", "skiff"]


@dataclass
class Client:
    """One CLI talking to one engine, e.g. 'docker CLI -> skiff'."""

    label: str
    argv: list[str]
    env: dict[str, str]
    extra_env: dict[str, str] = field(default_factory=dict)

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run([*self.argv, *args], env={**self.env, **self.extra_env}, capture_output=True,
                              timeout=timeout)

    def timed(self, *args: str) -> tuple[float, subprocess.CompletedProcess]:
        t0 = time.perf_counter()
        proc = self.run(*args)
        return time.perf_counter() - t0, proc

    def must(self, *args: str, timeout: float = 600) -> str:
        try:
            proc = self.run(*args, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise RuntimeError(f"{self.label}: {' '.join(args)} did not finish in {timeout:.0f}s") from e
        if proc.returncode != 0:
            raise RuntimeError(f"{self.label}: {' '.join(args)} -> {proc.returncode}: "
                               f"{proc.stderr.decode(errors='replace')[-2000:]}")
        return proc.stdout.decode()


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            out += [int(x) for x in task.read_text().split()]
        except OSError:
            continue
    return out


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


class SkiffTarget:
    """A skiff engine on a private root, with busybox loaded."""

    name = "skiff"

    def __init__(self, archive: Path):
        # A short root: the runtime's unix sockets live at <root>/data/runtime/<64-hex id>/…,
        # and a socket path may not pass 107 bytes.
        self.engine = Engine(Path(tempfile.mkdtemp(prefix="sb", dir="/tmp")))
        self.archive = archive

    def start(self) -> SkiffTarget:
        self.engine.start()
        self.engine.load(self.archive)
        return self

    @property
    def env(self) -> dict[str, str]:
        return self.engine.env

    def skiff_client(self) -> Client:
        return Client("skiff CLI -> skiff", skiff_cli(), self.env)

    def docker_client(self) -> Client:
        return Client("docker CLI -> skiff", ["docker"], self.env)

    def daemon_pids(self) -> list[int]:
        """The engine first, then its fork server (skiff-forkd), a long-lived daemon too."""
        proc = self.engine.proc
        if not proc or proc.poll() is not None:
            return []
        return [proc.pid] + [pid for pid in _children(proc.pid) if _comm(pid) == "skiff-forkd"]

    def helper_pids(self) -> list[int]:
        """Per-container processes skiff adds (shims): anything run from a binary under its root."""
        root = str(self.engine.root.resolve()) + "/"
        mine = set(self.daemon_pids())
        return [pid for pid, _argv, exe in processes() if exe.startswith(root) and pid not in mine]

    def diagnose(self) -> str:
        """The engine's Python stacks (py-spy dump) and log tail, for a benchmark that got stuck."""
        out = []
        spy = Path(sys.executable).parent / "py-spy"
        for pid in self.daemon_pids():
            if spy.exists():
                dump = subprocess.run([str(spy), "dump", "--pid", str(pid)], capture_output=True, text=True, timeout=60)
                out.append(dump.stdout[-8000:])
        if self.engine.log_path.exists():
            out.append(self.engine.log_path.read_text()[-4000:])
        return "\n".join(out)

    def cleanup(self) -> None:
        self.engine.cleanup()
        remove_cgroups("/" + self.engine.prefix)  # the engine leaves its (empty) cgroup parent behind


class DockerdTarget:
    """The reference dockerd + containerd on private paths, with busybox loaded."""

    name = "dockerd"

    def __init__(self, archive: Path):
        self.ref = Dockerd()
        self.archive = archive

    def start(self) -> DockerdTarget:
        self.ref.start()
        self.ref.load(self.archive)
        return self

    @property
    def env(self) -> dict[str, str]:
        return self.ref.env

    def docker_client(self) -> Client:
        return Client("docker CLI -> dockerd", ["docker"], self.env)

    def daemon_pids(self) -> list[int]:
        return list(self.ref.daemon_pids().values())

    def helper_pids(self) -> list[int]:
        return self.ref.shim_pids()

    def diagnose(self) -> str:
        return self.ref.log_path.read_text()[-4000:] if self.ref.log_path.exists() else ""

    def cleanup(self) -> None:
        self.ref.cleanup()


def busybox_archive() -> Path:
    """busybox:latest as a docker-archive in a temp dir that goes away when the script ends."""
    tmp = Path(tempfile.mkdtemp(prefix="skiff-bench-img-", dir="/tmp"))
    atexit.register(shutil.rmtree, tmp, True)
    path = tmp / "busybox.tar"
    write_docker_archive(path)
    return path


def prepare() -> Path:
    """Check for root, fix the doc's time and machine line before the machine gets busy, and
    write busybox's archive; returns the archive."""
    require_root()
    report.stamp(), report.machine()
    return busybox_archive()


@contextlib.contextmanager
def running(*targets: SkiffTarget | DockerdTarget | None) -> Iterator[None]:
    """Start the targets given (None skipped) in order; clean all of them up on the way out."""
    try:
        for t in targets:
            if t:
                t.start()
        yield
    finally:
        for t in targets:
            if t:
                t.cleanup()


def require_root() -> None:
    if os.geteuid() != 0:
        sys.exit("benchmarks start engines: run them as root")
    fresh_bytecode()


def fresh_bytecode() -> None:
    """Byte-compile skiff as scripts/install.sh does, so no run pays for compiling a changed module.

    (With PYTHONDONTWRITEBYTECODE set, as in some shells, a module edited since its last .pyc
    would otherwise be compiled again by every CLI process measured.)
    """
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "src" / "skiff")], check=False,
                   stdout=subprocess.DEVNULL, env={k: v for k, v in os.environ.items()
                                                   if k != "PYTHONDONTWRITEBYTECODE"})


class DockerdBridgeTarget(DockerdTarget):
    """The reference dockerd on a bridge the benchmark made, with its iptables rules (issue 3:
    default-bridge runs are compared with dockerd on its own bridge under another name)."""

    name = "dockerd-bridge"

    def __init__(self, archive: Path):
        self.bridge = RefBridge()
        self.ref = Dockerd(network_args=self.bridge.dockerd_args())
        self.archive = archive

    def start(self) -> DockerdBridgeTarget:
        self.bridge.__enter__()
        super().start()
        return self

    def cleanup(self) -> None:
        try:
            super().cleanup()
        finally:
            self.bridge.__exit__(None, None, None)
