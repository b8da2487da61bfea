"""The shim binary: compiled from shim.c with gcc on first use, cached by source hash."""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
from pathlib import Path

from skiff.common.errors import SystemError_

SOURCE = Path(__file__).with_name("shim.c")


def source_hash() -> str:
    return hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:16]


def ensure_shim(bin_dir: str) -> str:
    """Path to a shim built from the current source; builds it if missing or stale."""
    digest = source_hash()
    path = os.path.join(bin_dir, "skiff-shim")
    stamp = path + ".src"
    try:
        with open(stamp) as f:
            if f.read().strip() == digest and os.access(path, os.X_OK):
                return path
    except OSError:
        pass
    os.makedirs(bin_dir, exist_ok=True)
    with open(os.path.join(bin_dir, ".shim.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two engines starting at once build it once
        try:
            with open(stamp) as f:
                if f.read().strip() == digest and os.access(path, os.X_OK):
                    return path
        except OSError:
            pass
        tmp = f"{path}.{os.getpid()}.tmp"
        cmd = ["gcc", "-O2", "-Wall", "-o", tmp, str(SOURCE)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True)
        except FileNotFoundError as e:
            raise SystemError_("skiff-shim: gcc is not installed (apt-get install gcc)") from e
        if proc.returncode != 0:
            raise SystemError_(f"skiff-shim: compile failed: {proc.stderr.strip()}")
        os.replace(tmp, path)
        with open(stamp + ".tmp", "w") as f:
            f.write(digest)
        os.replace(stamp + ".tmp", stamp)
    return path
