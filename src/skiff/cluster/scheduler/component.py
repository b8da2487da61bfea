"""`skiff server`'s scheduler: `skiff scheduler` in a child process (so scheduling and the API
server each get a core, where one Python process would share one), talking to the server's own
HTTPS port with the admin client certificate, as kube-scheduler in k3s does. The server restarts
it if it dies and stops it on shutdown; it dies with the server (PR_SET_PDEATHSIG)."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from skiff.cluster.client.aio import AsyncClient, make_ssl

log = logging.getLogger("skiff.scheduler")
USER_AGENT = "skiff-scheduler/v1.32.0 (linux/amd64) kubernetes/scheduler"
STOP_GRACE = 10.0  # seconds between SIGTERM and SIGKILL on shutdown
RESTART_BACKOFF = (1.0, 30.0)  # first and longest wait before restarting a scheduler that exited


def client_for(server: str, tls_dir: Path) -> AsyncClient:
    tls = make_ssl(str(tls_dir / "server-ca.crt"), str(tls_dir / "client-admin.crt"), str(tls_dir / "client-admin.key"))
    tls.check_hostname = False  # loopback; the CA still authenticates the server
    client = AsyncClient(server, tls=tls)
    client.headers["User-Agent"] = USER_AGENT
    return client


def child_command(server: str, tls_dir: Path, debug: bool = False) -> list[str]:
    return [sys.executable, "-m", "skiff", "scheduler", "--master", server, "--server-tls-dir", str(tls_dir),
            "--leader-elect=false", *(["-v", "4"] if debug else [])]


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the server goes, however it goes."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


async def supervise(cmd: list[str]) -> None:
    """Run cmd until cancelled, restarting it (with back-off) when it exits; stop it on cancel."""
    delay = RESTART_BACKOFF[0]
    while True:
        proc = await asyncio.create_subprocess_exec(*cmd, preexec_fn=_die_with_parent, stdin=asyncio.subprocess.DEVNULL)
        log.info("scheduler started (pid %d)", proc.pid)
        try:
            code = await proc.wait()
        except asyncio.CancelledError:
            await _stop(proc)
            raise
        log.warning("scheduler (pid %d) exited with %s; restarting in %.0fs", proc.pid, code, delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, RESTART_BACKOFF[1])


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(asyncio.shield(proc.wait()), STOP_GRACE)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()


async def run_in_server(opts: Any, ctx: Any) -> None:
    from skiff.cluster.server import server_url

    if getattr(opts, "disable_scheduler", False):
        return
    await supervise(child_command(server_url(opts), Path(opts.data_dir) / "tls", bool(getattr(opts, "debug", False))))
