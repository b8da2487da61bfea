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


def _children(pid: int) -> set[int]:
    kids: set[int] = set()
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/children") as f:
            kids |= {int(k) for k in f.read().split()}
    return kids


def _spares(server: int) -> list[int]:
    """The server's live children that are not shims (exited shims wait to be reaped)."""
    out = []
    for pid in _children(server):
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[1].split()[0]
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            shim = f.read().split(b"\0")[0].endswith(b"skiff-shim")
        if state != b"Z" and not shim:
            out.append(pid)
    return out


def test_a_spare_pair_is_forked_ahead_and_goes_with_the_server(served_rt):
    """zygote.py: one spare A waits beside the shims; containers made from spares run and exit
    as before (twice: the second comes from the spare forked after the first); closing the
    runtime stops the server, which reaps its spare."""
    server = served_rt.rt._forkserver
    for cid in ("c1", "c2"):
        st = served_rt.create(cid, ["sh", "-c", "echo $$; exit 3"])
        assert _ppid(st.shim_pid) == server.pid and _ppid(st.pid) == st.shim_pid
        served_rt.rt.start(cid)
        assert served_rt.wait(cid).exit_code == 3
        assert served_rt.logs(cid)[0] == "1\n"  # pid 1 of its own pid namespace
        served_rt.rt.delete(cid)
    spares = _spares(server.pid)
    assert len(spares) == 1
    served_rt.rt.close()
    assert not os.path.exists(f"/proc/{spares[0]}")  # reaped, not a zombie


def test_requests_a_spare_does_not_fit_fork_as_before(served_rt):
    """An exec (it joins the init's pid namespace) forks as before; a terminal is set up in
    the spare's B as in a fresh one; the spare is there for the next container."""
    from skiff.engine.runtime.api import IOSpec

    server = served_rt.rt._forkserver
    served_rt.create("c1", ["sleep", "30"])
    served_rt.rt.start("c1")
    served_rt.rt.exec("c1", "e1", {"args": ["sh", "-c", "exit 4"], "cwd": "/", "env": ["PATH=/bin"]},
                      IOSpec(detached=True))
    assert served_rt.wait("c1", "e1").exit_code == 4
    b = served_rt.bundle(["stty", "size"], terminal=True)
    served_rt.rt.create("t1", b, IOSpec(terminal=True, log_path=served_rt.log_path("t1")))
    served_rt.rt.start("t1")
    assert served_rt.wait("t1").exit_code == 0
    assert served_rt.logs("t1")[0].endswith("\r\n")
    served_rt.rt.delete("t1")
    served_rt.rt.kill("c1", signal.SIGKILL)
    served_rt.wait("c1")
    served_rt.rt.delete("c1")
    assert len(_spares(server.pid)) == 1
