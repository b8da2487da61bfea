"""Fixtures for runtime integration tests: a runtime on a temp state root, a busybox rootfs."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import tempfile
from pathlib import Path

import pytest

from skiff.engine.runtime.api import ExitStatus, IOSpec
from tests.integration.runtime.bundles import extract_rootfs, spec, write_bundle

CGROUP_ROOT = "/sys/fs/cgroup"


def remove_prefix_cgroups(prefix: str) -> None:
    """Remove the (now empty) /<prefix> cgroup directories a test's containers lived under."""
    for top in [CGROUP_ROOT] + [os.path.join(CGROUP_ROOT, c) for c in os.listdir(CGROUP_ROOT)]:
        d = os.path.join(top, prefix)
        if os.path.isdir(d):
            for sub in os.listdir(d):
                if os.path.isdir(os.path.join(d, sub)):
                    os.rmdir(os.path.join(d, sub))
            os.rmdir(d)


@pytest.fixture(scope="session")
def busybox_rootfs(tmp_path_factory) -> Path:
    return extract_rootfs(tmp_path_factory.mktemp("rootfs") / "rootfs")


class Harness:
    """A runtime plus helpers to make bundles and run them to completion."""

    def __init__(self, rt, tmp: Path, rootfs: Path):
        self.rt = rt
        self.tmp = tmp
        self.rootfs = rootfs
        self.n = 0

    def bundle(self, args: list[str], **kw) -> str:
        self.n += 1
        return str(write_bundle(self.tmp / f"bundle{self.n}", spec(args, **kw), self.rootfs))

    def log_path(self, id: str) -> str:
        return str(self.tmp / f"{id}-json.log")

    def create(self, id: str, args: list[str], io: IOSpec | None = None, **kw):
        io = io or IOSpec(log_path=self.log_path(id))
        return self.rt.create(id, self.bundle(args, **kw), io)

    def wait(self, id: str, exec_id: str | None = None) -> ExitStatus:
        return asyncio.run(asyncio.wait_for(self.rt.wait(id, exec_id), 30))

    def run(self, id: str, args: list[str], **kw) -> tuple[ExitStatus, str, str]:
        """Create, start, wait, delete; returns (exit, stdout, stderr) from the json log."""
        self.create(id, args, **kw)
        self.rt.start(id)
        ex = self.wait(id)
        self.rt.delete(id)
        out, err = self.logs(id)
        return ex, out, err

    def wait_for_output(self, id: str, text: str, timeout: float = 20) -> None:
        """Block until the container has logged `text` (so it is past its set-up)."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(self.log_path(id)) and text in "".join(self.logs(id)):
                return
            time.sleep(0.01)
        raise AssertionError(f"{id} never printed {text!r}")

    def logs(self, id: str) -> tuple[str, str]:
        out, err = [], []
        with open(self.log_path(id)) as f:
            for line in f:
                entry = json.loads(line)
                (out if entry["stream"] == "stdout" else err).append(entry["log"])
        return "".join(out), "".join(err)


def make_harness(runtime_cls, tmp_root: Path, rootfs: Path):
    prefix = "skt" + secrets.token_hex(3)
    rt = runtime_cls(str(tmp_root / "state"), prefix=prefix, bin_dir=str(SHIM_BIN))
    return Harness(rt, tmp_root, rootfs), prefix


def teardown_harness(h: Harness, prefix: str) -> None:
    for st in h.rt.list():
        try:
            h.rt.delete(st.id, force=True)
        except Exception:  # noqa: BLE001 - best effort; the assertion below reports leftovers
            pass
    remove_prefix_cgroups(prefix)


SHIM_BIN = Path(tempfile.gettempdir()) / "skiff-test-shim-bin"


@pytest.fixture(params=["in-process", "fork-server"])
def linux_rt(request, busybox_rootfs):
    """LinuxRuntime forking containers itself (`skiff runtime`) and through its fork server (the engine)."""
    from skiff.engine.runtime.linux import LinuxRuntime

    tmp = Path(tempfile.mkdtemp(prefix="skiff-rt-"))
    h, prefix = make_harness(LinuxRuntime, tmp, busybox_rootfs)
    if request.param == "fork-server":
        h.rt.start_fork_server()
    yield h
    teardown_harness(h, prefix)
    h.rt.close()
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def runc_rt(busybox_rootfs):
    from skiff.engine.runtime.runc import RuncRuntime

    if not shutil.which("runc"):
        pytest.skip("runc is not installed")
    tmp = Path(tempfile.mkdtemp(prefix="skiff-runc-"))
    h, prefix = make_harness(RuncRuntime, tmp, busybox_rootfs)
    yield h
    teardown_harness(h, prefix)
    shutil.rmtree(tmp, ignore_errors=True)
