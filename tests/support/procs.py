"""Checking finished CLI calls in tests."""

import signal
import subprocess


def ok_bytes(proc: subprocess.CompletedProcess) -> bytes:
    """stdout of a CLI call that must have succeeded; a failure shows what the tool said."""
    assert proc.returncode == 0, f"{proc.args} -> {proc.returncode}\n{proc.stderr.decode(errors='replace')}"
    return proc.stdout


def ok(proc: subprocess.CompletedProcess) -> str:
    return ok_bytes(proc).decode()


def stop_process(proc: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = 10) -> None:
    """Signal a test's daemon (SIGTERM by default), wait, and SIGKILL it if it does not go in time."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
