"""LinuxRuntime through its fork server: who forks, and what happens when the server is gone."""

from __future__ import annotations

import os
import signal

import pytest

pytestmark = pytest.mark.root


def _ppid(pid: int) -> int:
    with open(f"/proc/{pid}/stat", "rb") as f:
        raw = f.read()
    return int(raw[raw.rindex(b")") + 2:].split()[1])


@pytest.fixture
def served_rt(busybox_rootfs, tmp_path):
    from skiff.engine.runtime.linux import LinuxRuntime
    from tests.integration.runtime.fixtures import make_harness, teardown_harness

    h, prefix = make_harness(LinuxRuntime, tmp_path, busybox_rootfs)
    h.rt.start_fork_server()
    yield h
    teardown_harness(h, prefix)
    h.rt.close()


def test_the_shim_is_the_servers_child_and_the_exit_still_reaches_wait(served_rt):
    server = served_rt.rt._forkserver
    st = served_rt.create("c1", ["sh", "-c", "echo hello; exit 7"])
    assert _ppid(st.shim_pid) == server.pid != os.getpid()
    served_rt.rt.start("c1")
    ex = served_rt.wait("c1")
    served_rt.rt.delete("c1")
    assert ex.exit_code == 7 and served_rt.logs("c1")[0] == "hello\n"


def test_a_server_that_died_is_replaced_by_forking_here(served_rt):
    server = served_rt.rt._forkserver
    os.kill(server.pid, signal.SIGKILL)
    os.waitpid(server.pid, 0)
    ex, out, _ = served_rt.run("c1", ["echo", "still here"])
    assert (ex.exit_code, out) == (0, "still here\n")
    assert served_rt.rt._forkserver is None


def test_exec_failures_keep_their_exit_code_through_the_server(served_rt):
    from skiff.engine.runtime.errors import ExecFailed

    with pytest.raises(ExecFailed) as e:
        served_rt.create("c1", ["no-such-command"])
    assert e.value.exit_code == 127 and "executable file not found" in e.value.message
