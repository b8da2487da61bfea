"""The shim's command line for an `IOSpec`, shared by the built-in runtime (`spawn`) and the
runc runtime: they differ in how the container is started, not in how its I/O is relayed."""

from __future__ import annotations

import os

from skiff.engine.runtime.api import IOSpec


def stdio_pipes(stdin: bool) -> tuple[list[str], list[int], list[int]]:
    """Pipes between a non-terminal process and its shim.

    Returns (shim arguments, the process's fds 0-2, the shim's ends). Without stdin the
    process reads /dev/null."""
    argv: list[str] = []
    child: list[int] = []
    shim: list[int] = []
    if stdin:
        r, w = os.pipe()
        child.append(r)
        shim.append(w)
        argv += ["--stdin-fd", str(w)]
    else:
        child.append(os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC))
    for flag in ("--stdout-fd", "--stderr-fd"):
        r, w = os.pipe()
        child.append(w)
        shim.append(r)
        argv += [flag, str(r)]
    return argv, child, shim


def log_args(io: IOSpec) -> list[str]:
    """json-file logging and stdin-once flags."""
    argv: list[str] = []
    if io.log_path:
        argv += ["--log", io.log_path, "--log-max-size", str(io.log_max_size),
                 "--log-max-file", str(max(io.log_max_file, 1))]
    if io.stdin_once:
        argv.append("--stdin-once")
    return argv
