"""Helper binaries compiled from C next to their Python module (the shim, the --init process):
built with gcc on first use into the engine's bin dir and rebuilt when the source changes.

The cache key is the source's hash, kept in `<target>.src`; a file lock makes two engines (or
two threads) starting at once build it once.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
from pathlib import Path

from skiff.common.errors import SystemError_


def source_hash(source: Path) -> str:
    return hashlib.sha256(source.read_bytes()).hexdigest()[:16]


def _fresh(target: str, digest: str) -> bool:
    try:
        with open(target + ".src") as f:
            return f.read().strip() == digest and os.access(target, os.X_OK)
    except OSError:
        return False


def ensure_built(source: Path, bin_dir: str | Path, name: str, cflags: list[str], what: str) -> str:
    """Path to `<bin_dir>/<name>` built from the current `source`; builds it if missing or stale.

    `what` starts the error messages ("skiff-shim: compile failed: …")."""
    digest = source_hash(source)
    target = os.path.join(bin_dir, name)
    if _fresh(target, digest):
        return target
    os.makedirs(bin_dir, exist_ok=True)
    with open(os.path.join(bin_dir, f".{name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _fresh(target, digest):
            return target
        tmp = f"{target}.{os.getpid()}.tmp"
        try:
            proc = subprocess.run(["gcc", *cflags, "-o", tmp, str(source)], capture_output=True, text=True)
        except FileNotFoundError as e:
            raise SystemError_(f"{what}: gcc is not installed (apt-get install gcc)") from e
        if proc.returncode != 0:
            raise SystemError_(f"{what}: compile failed: {proc.stderr.strip()[:2000]}")
        os.replace(tmp, target)
        with open(target + ".src.tmp", "w") as f:
            f.write(digest)
        os.replace(target + ".src.tmp", target + ".src")
    return target
