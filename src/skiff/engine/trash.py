"""Deleting directory trees off the hot path.

Once a removed container's record (`config.v2.json`) and its rootfs snapshot's record
(`info.json`) are gone, nothing refers to their directories any more, but deleting the trees
is a few hundred system calls: ~2 ms of every `docker run --rm` that the client would wait
for. So they are handed to one daemon thread that deletes them in order (containerd's
snapshotters remove asynchronously for the same reason). What a crash or a kill leaves behind
is found again at the next start: snapshot directories without a record are dropped when the
snapshot store loads, container directories without a record when the container store does.

The worker is process-wide infrastructure, like asyncio's default executor: `discard` from
anywhere, `flush` before relying on the trees being gone (engine shutdown, tests).
"""

from __future__ import annotations

import shutil
import threading
from collections import deque

_pending: deque[str] = deque()
_cond = threading.Condition()
_busy = False
_worker: threading.Thread | None = None


def discard(path: str) -> None:
    """Delete the tree at `path` soon (errors ignored, as `rmtree(ignore_errors=True)`)."""
    global _worker
    with _cond:
        _pending.append(str(path))
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_run, name="skiff-trash", daemon=True)
            _worker.start()
        _cond.notify_all()


def flush(timeout: float = 30.0) -> bool:
    """Wait until everything discarded so far is deleted; False if that took too long."""
    with _cond:
        return _cond.wait_for(lambda: not _pending and not _busy, timeout)


def _run() -> None:
    global _busy
    while True:
        with _cond:
            _cond.wait_for(lambda: bool(_pending))
            path = _pending.popleft()
            _busy = True
        try:
            shutil.rmtree(path, ignore_errors=True)
        finally:
            with _cond:
                _busy = False
                _cond.notify_all()
