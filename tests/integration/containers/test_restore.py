"""The engine killed with -9 and started again: running containers are re-adopted, exits that
happened meanwhile are recorded, and restart policies and --rm are applied to them."""

import signal
import time

import pytest

from tests.integration.containers.conftest import wait_for
from tests.support.procs import ok

pytestmark = [pytest.mark.root, pytest.mark.interop]


def test_exits_while_down_apply_policies(fresh_engine, docker_cli):
    eng = fresh_engine
    ok(eng.docker("run", "-d", "--name", "always", "--restart", "always", "busybox", "sh", "-c", "sleep 1; exit 3"))
    ok(eng.docker("run", "-d", "--name", "gone", "--rm", "busybox", "sh", "-c", "sleep 1"))
    ok(eng.docker("run", "-d", "--name", "keeps", "busybox", "sleep", "300"))
    ok(eng.docker("run", "-d", "--name", "stopped", "--restart", "always", "busybox", "sleep", "300"))
    ok(eng.docker("stop", "-t", "0", "stopped"))
    pid = ok(eng.docker("inspect", "-f", "{{.State.Pid}}", "keeps")).strip()
    eng.stop(signal.SIGKILL)
    time.sleep(2.5)  # "always" and "gone" exit while no engine is watching
    eng.start()
    assert ok(eng.docker("inspect", "-f", "{{.State.Status}} {{.State.Pid}}", "keeps")).split() == ["running", pid]
    assert wait_for(lambda: eng.docker("inspect", "gone").returncode == 1)
    assert wait_for(lambda: int(ok(eng.docker("inspect", "-f", "{{.RestartCount}}", "always"))) >= 1)
    assert ok(eng.docker("inspect", "-f", "{{.State.Status}}", "stopped")).strip() == "exited"
    ok(eng.docker("stop", "-t", "1", "keeps"))
    assert ok(eng.docker("inspect", "-f", "{{.State.ExitCode}}", "keeps")).strip() == "137"
