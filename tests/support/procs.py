"""Checking finished CLI calls in tests."""

import subprocess


def ok_bytes(proc: subprocess.CompletedProcess) -> bytes:
    """stdout of a CLI call that must have succeeded; a failure shows what the tool said."""
    assert proc.returncode == 0, f"{proc.args} -> {proc.returncode}\n{proc.stderr.decode(errors='replace')}"
    return proc.stdout


def ok(proc: subprocess.CompletedProcess) -> str:
    return ok_bytes(proc).decode()
