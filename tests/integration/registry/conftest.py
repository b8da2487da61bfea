"""Fixtures: a skiff registry on a loopback port, and images with layers no engine has yet."""

from __future__ import annotations

import io
import secrets
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import pytest

from tests.support.procs import ok
from tests.support.registry import SkiffRegistry


@pytest.fixture(scope="module")
def skiff_registry():
    reg = SkiffRegistry(Path(tempfile.mkdtemp(prefix="skreg-", dir="/tmp"))).start()
    yield reg
    reg.cleanup()


def rootfs_tar(extra_bytes: int = 4096, files: dict[str, bytes] | None = None) -> bytes:
    """A runnable root filesystem (static busybox) plus a random file, so its layer is new everywhere,
    and any `files` given (path → content)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for d in ("bin", "etc"):
            info = tarfile.TarInfo(d)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        tar.add(shutil.which("busybox") or "/bin/busybox", "bin/busybox")
        for name in ("sh", "echo", "cat"):
            link = tarfile.TarInfo(f"bin/{name}")
            link.type, link.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(link)
        for path, data in {"etc/random": secrets.token_bytes(extra_bytes), **(files or {})}.items():
            info = tarfile.TarInfo(path)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def import_unique(engine, ref: str, extra_bytes: int = 4096) -> str:
    """`docker import` a fresh rootfs as `ref`; returns the image id."""
    ok(engine.docker("import", "--change", 'CMD ["/bin/sh"]', "-", ref, input=rootfs_tar(extra_bytes)))
    return ok(engine.docker("image", "inspect", "-f", "{{.Id}}", ref)).strip()


def docker_with_config(engine, config_dir: Path):
    """The docker CLI against `engine` with its own credentials directory; stdin empty (no prompts)."""
    env = {**engine.env, "DOCKER_CONFIG": str(config_dir)}

    def docker(*args: str, input: bytes = b"") -> subprocess.CompletedProcess:
        return subprocess.run(["docker", *args], env=env, capture_output=True, input=input, timeout=120)
    return docker
