"""Run `skiff kubectl` and the real kubectl side by side against the session's `skiff server`."""

from __future__ import annotations

import re
import subprocess
import sys

AGE = re.compile(r"(?<![\w/.-])\d+[smhdy](\d+[smh])?(?![\w/.-])")


def skiff(server, *args: str, input: str | bytes | None = None, env: dict[str, str] | None = None,
          timeout: float = 60) -> subprocess.CompletedProcess:
    data = input.encode() if isinstance(input, str) else input
    return subprocess.run([sys.executable, "-m", "skiff", "kubectl", *args], input=data, capture_output=True,
                          env={**server.env, **(env or {})}, timeout=timeout)


def both(server, *args: str, input: str | None = None, env: dict[str, str] | None = None):
    """(skiff's result, kubectl's result) of the same command line."""
    return skiff(server, *args, input=input, env=env), server.kubectl(*args, input=input, env=env)


def masked(text: bytes | str) -> str:
    """Output with ages (`5s`, `3m2s`) masked: two runs a second apart differ there only."""
    return AGE.sub("<age>", text.decode() if isinstance(text, bytes) else text)


def assert_same(server, *args: str, input: str | None = None, mask: bool = True) -> subprocess.CompletedProcess:
    ours, theirs = both(server, *args, input=input)
    norm = masked if mask else (lambda b: b.decode())
    assert norm(ours.stdout) == norm(theirs.stdout), (args, ours.stdout.decode(), theirs.stdout.decode())
    assert norm(ours.stderr) == norm(theirs.stderr), (args, ours.stderr.decode(), theirs.stderr.decode())
    assert ours.returncode == theirs.returncode, (args, ours.returncode, theirs.returncode)
    return ours
