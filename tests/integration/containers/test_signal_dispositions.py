"""A container's processes start with every signal at its default disposition, whatever the
engine ignores (the fork server ignores SIGINT; an engine started by `nohup ... &` inherits
ignored SIGHUP and SIGQUIT), so a STOPSIGNAL of SIGINT or SIGQUIT stops the container."""

import pytest

from tests.support.names import unique_names
from tests.support.procs import ok

pytestmark = [pytest.mark.root, pytest.mark.interop]


def ignored_standard_signals(status: str) -> int:
    """The SigIgn mask of /proc/PID/status, signals 1-31 only (32 and 33 belong to the C library)."""
    line = next(x for x in status.splitlines() if x.startswith("SigIgn:"))
    return int(line.split()[1], 16) & 0x7FFFFFFF


def test_run_and_exec_start_with_no_ignored_signals(engine):
    out = ok(engine.docker("run", "--rm", "busybox", "cat", "/proc/self/status"))
    assert ignored_standard_signals(out) == 0
    with unique_names(engine, "sigign") as new:
        name = new()
        ok(engine.docker("run", "-d", "--name", name, "busybox", "sleep", "600"))
        assert ignored_standard_signals(ok(engine.docker("exec", name, "cat", "/proc/self/status"))) == 0


def test_stop_signal_sigint_reaches_the_process(engine):
    """docker-init (--init) forwards the stop signal to its child; with SIGINT ignored there,
    `docker stop` would wait out -t and SIGKILL (exit 137). (Without --init the command is its
    pid namespace's init, which the kernel shields from signals it has no handler for.)"""
    with unique_names(engine, "sigint") as new:
        name = new()
        ok(engine.docker("run", "-d", "--name", name, "--init", "--stop-signal", "SIGINT", "busybox", "sleep", "600"))
        ok(engine.docker("stop", "-t", "60", name))
        assert ok(engine.docker("inspect", "-f", "{{.State.ExitCode}}", name)).strip() == "130"
