"""Run `skiff kubectl` and the real kubectl side by side against the session's `skiff server`."""

from __future__ import annotations

import re
import subprocess
import sys

AGE = re.compile(r"(?<![\w/.-])\d+[smhdy](\d+[smh])?(?![\w/.-])")
SPACES = re.compile(r" {2,}")


def skiff(server, *args: str, input: str | bytes | None = None, env: dict[str, str] | None = None,
          timeout: float = 60) -> subprocess.CompletedProcess:
    data = input.encode() if isinstance(input, str) else input
    return subprocess.run([sys.executable, "-m", "skiff", "kubectl", *args], input=data, capture_output=True,
                          env={**server.env, **(env or {})}, timeout=timeout)


def both(server, *args: str, input: str | None = None, env: dict[str, str] | None = None):
    """(skiff's result, kubectl's result) of the same command line."""
    return skiff(server, *args, input=input, env=env), server.kubectl(*args, input=input, env=env)


def masked(text: bytes | str) -> str:
    """Output with ages (`5s`, `3m2s`) masked: two runs a second apart differ there only. In an
    events table the Age column is not the last, so `9s` and `10s` also change the padding of
    its lines: there, runs of spaces count as one."""
    out = AGE.sub("<age>", text.decode() if isinstance(text, bytes) else text)
    lines = out.split("\n")
    for i, line in enumerate(lines):
        if "<age>" in line or line.lstrip().startswith(("Type ", "---- ")):
            if not line.rstrip().endswith("<age>"):
                lines[i] = SPACES.sub("  ", line)
    return "\n".join(lines)


def assert_same(server, *args: str, input: str | None = None, mask: bool = True) -> subprocess.CompletedProcess:
    ours, theirs = both(server, *args, input=input)
    norm = masked if mask else (lambda b: b.decode())
    assert norm(ours.stdout) == norm(theirs.stdout), (args, ours.stdout.decode(), theirs.stdout.decode())
    assert norm(ours.stderr) == norm(theirs.stderr), (args, ours.stderr.decode(), theirs.stderr.decode())
    assert ours.returncode == theirs.returncode, (args, ours.returncode, theirs.returncode)
    return ours
