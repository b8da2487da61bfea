"""`--init`: a tiny init for pid 1 that forwards signals and reaps zombies, like Docker's docker-init.

No such binary ships on the host, so it is compiled from `init.c` next to this module on first
use (gcc is one of skiff's install-time packages) into `<data-root>/bin/skiff-init`, statically
linked so it runs in any image.
"""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

from skiff.common.errors import SystemError_

_SOURCE = Path(__file__).with_name("init.c")
_lock = threading.Lock()


def ensure_init(bin_dir: Path) -> str:
    target = bin_dir / "skiff-init"
    with _lock:
        if target.exists() and target.stat().st_mtime >= _SOURCE.stat().st_mtime:
            return str(target)
        bin_dir.mkdir(parents=True, exist_ok=True)
        tmp = bin_dir / f".skiff-init.{os.getpid()}"
        res = subprocess.run(["gcc", "-O2", "-static", "-o", str(tmp), str(_SOURCE)], capture_output=True, text=True)
        if res.returncode != 0:
            raise SystemError_(f"cannot build the init binary for --init: {res.stderr.strip()[:500]}")
        os.replace(tmp, target)
        return str(target)
