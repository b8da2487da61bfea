"""Lifecycle verbs through the docker CLI: stop/kill/restart/pause, wait, rename, restart policies,
--rm, ps filters, logs options, top/stats, exec options, update and prune."""

import json
import re

import pytest

from tests.integration.containers.conftest import wait_for
from tests.support.procs import ok

pytestmark = [pytest.mark.root, pytest.mark.interop]


def state(engine, n, field="{{.State.Status}}"):
    return ok(engine.docker("inspect", "-f", field, n)).strip()


def test_stop_uses_stop_signal_then_kill(engine, names):
    n = names()
    ok(engine.docker("run", "-d", "--name", n, "--stop-signal", "USR1", "busybox", "sh", "-c",
                     "trap 'echo got-usr1; exit 42' USR1; echo trapped; while true; do sleep 0.1; done"))
    # until the trap is set: a USR1 before it would kill the shell (exit 138), a race in dockerd too
    assert wait_for(lambda: "trapped" in ok(engine.docker("logs", n)), timeout=60)
    ok(engine.docker("stop", n))
    assert state(engine, n, "{{.State.ExitCode}}") == "42"
    assert "got-usr1" in ok(engine.docker("logs", n))
    m = names()
    ok(engine.docker("run", "-d", "--name", m, "busybox", "sleep", "100"))
    ok(engine.docker("stop", "-t", "1", m))  # sleep as pid 1 ignores SIGTERM: killed after 1 s
    assert state(engine, m, "{{.State.ExitCode}}") == "137"
    r = engine.docker("stop", m)
    assert r.returncode == 0  # stopping a stopped container is not an error


def test_kill_pause_unpause_top_stats(engine, names):
    n = names()
    ok(engine.docker("run", "-d", "--name", n, "busybox", "sleep", "100"))
    ok(engine.docker("pause", n))
    assert state(engine, n) == "paused"
    assert "(Paused)" in ok(engine.docker("ps", "--filter", f"name={n}", "--format", "{{.Status}}"))
    r = engine.docker("pause", n)
    assert r.returncode == 1 and b"is already paused" in r.stderr
    ok(engine.docker("unpause", n))
    top = ok(engine.docker("top", n))
    assert "PID" in top.splitlines()[0] and "sleep 100" in top
    stats = json.loads(ok(engine.docker("stats", "--no-stream", "--format", "{{json .}}", n)))
    assert stats["Name"] == n and stats["PIDs"] == "1"
    ok(engine.docker("kill", "-s", "TERM", n))  # pid 1 without a handler ignores TERM
    assert state(engine, n) == "running"
    ok(engine.docker("kill", n))
    assert state(engine, n, "{{.State.ExitCode}}") == "137"
    r = engine.docker("kill", n)
    assert r.returncode == 1 and b"is not running" in r.stderr


def test_wait_rename_restart(engine, names):
    n, new = names(), names()
    ok(engine.docker("run", "-d", "--name", n, "busybox", "sh", "-c", "sleep 0.5; exit 3"))
    assert ok(engine.docker("wait", n)).strip() == "3"
    ok(engine.docker("rename", n, new))
    assert state(engine, new, "{{.Name}}") == "/" + new
    ok(engine.docker("restart", new))
    assert ok(engine.docker("wait", new)).strip() == "3"


def test_rm_running_needs_force_and_v_removes_anonymous_volumes(engine, names):
    n = names()
    ok(engine.docker("run", "-d", "--name", n, "-v", "/anon", "busybox", "sleep", "100"))
    vol = state(engine, n, "{{range .Mounts}}{{.Name}}{{end}}")
    assert len(vol) == 64
    r = engine.docker("rm", n)
    assert r.returncode == 1
    assert f'cannot remove container "/{n}": container is running: stop the container before removing or ' \
           "force remove" in r.stderr.decode()
    ok(engine.docker("rm", "-f", "-v", n))
    assert engine.docker("volume", "inspect", vol).returncode == 1


def test_auto_remove(engine, names):
    n = names()
    assert ok(engine.docker("run", "--rm", "--name", n, "busybox", "echo", "bye")) == "bye\n"
    assert engine.docker("inspect", n).returncode == 1


def test_restart_policy_on_failure(engine, names):
    n = names()
    ok(engine.docker("run", "-d", "--name", n, "--restart", "on-failure:2", "busybox", "sh", "-c", "exit 1"))
    assert wait_for(lambda: state(engine, n, "{{.RestartCount}} {{.State.Status}}") == "2 exited", timeout=30)
    m = names()
    ok(engine.docker("run", "-d", "--name", m, "--restart", "always", "busybox", "sh", "-c", "sleep 0.2"))
    assert wait_for(lambda: int(state(engine, m, "{{.RestartCount}}")) >= 2, timeout=30)
    ok(engine.docker("stop", m))  # a manual stop ends the restarts
    count = state(engine, m, "{{.RestartCount}}")
    assert state(engine, m) == "exited"
    assert wait_for(lambda: state(engine, m, "{{.RestartCount}}") != count, timeout=1) is False


def test_ps_filters_and_formats(engine, names):
    a, b = names("psa"), names("psb")
    ok(engine.docker("run", "-d", "--name", a, "--label", "tier=web", "busybox", "sleep", "100"))
    assert engine.docker("run", "--name", b, "busybox", "sh", "-c", "exit 2").returncode == 2
    running = ok(engine.docker("ps", "--format", "{{.Names}}")).split()
    assert a in running and b not in running
    assert ok(engine.docker("ps", "-a", "--filter", "exited=2", "--format", "{{.Names}}")).split() == [b]
    assert ok(engine.docker("ps", "--filter", "label=tier=web", "--format", "{{.Names}}")).split() == [a]
    assert ok(engine.docker("ps", "-a", "--filter", f"name={b}", "--format", "{{.Status}}")).startswith("Exited (2)")
    assert ok(engine.docker("ps", "-l", "--format", "{{.Names}}")).split() == [b]
    ids = ok(engine.docker("ps", "-aq", "--filter", f"name={a}")).split()
    assert len(ids) == 1 and len(ids[0]) == 12
    r = engine.docker("ps", "--filter", "bogus=1")
    assert r.returncode == 1 and b"invalid filter 'bogus'" in r.stderr


def test_logs_options(engine, names):
    n = names()
    assert engine.docker("run", "--name", n, "busybox", "sh", "-c",
                         "for i in 1 2 3; do echo o$i; echo e$i >&2; done").returncode == 0
    r = engine.docker("logs", n)
    assert r.stdout == b"o1\no2\no3\n" and r.stderr == b"e1\ne2\ne3\n"
    t = names()
    ok(engine.docker("run", "--name", t, "busybox", "sh", "-c", "for i in 1 2 3; do echo o$i; done"))
    assert engine.docker("logs", "--tail", "2", t).stdout == b"o2\no3\n"
    # o3 and e3 come through two pipes, so which was logged last is a race (in dockerd too):
    # the tail of both streams is asserted on a log with one stream (and in the unit tests)
    stamped = engine.docker("logs", "-t", "--tail", "1", t).stdout.decode()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z o3\n", stamped), stamped
    assert engine.docker("logs", "--until", "2000-01-01T00:00:00Z", n).stdout == b""
    m = names()
    ok(engine.docker("run", "-d", "--name", m, "busybox", "sh", "-c", "for i in 1 2 3; do echo f$i; sleep 0.2; done"))
    assert engine.docker("logs", "-f", m).stdout == b"f1\nf2\nf3\n"  # follow ends when the container stops


def test_log_rotation(engine, names):
    n = names()
    ok(engine.docker("run", "--name", n, "--log-opt", "max-size=2k", "--log-opt", "max-file=2", "busybox", "sh", "-c",
                     "i=0; while [ $i -lt 200 ]; do echo line-$i; i=$((i+1)); done"))
    path = state(engine, n, "{{.LogPath}}")
    import glob
    import os

    files = sorted(glob.glob(path + "*"))
    assert files == [path, path + ".1"]
    assert all(os.path.getsize(f) <= 2048 + 200 for f in files)
    assert engine.docker("logs", "--tail", "1", n).stdout == b"line-199\n"


def test_exec_options(engine, names):
    n = names()
    ok(engine.docker("run", "-d", "--name", n, "-e", "BASE=1", "busybox", "sleep", "100"))
    out = ok(engine.docker("exec", "-u", "nobody", "-w", "/tmp", "-e", "X=y", n, "sh", "-c",
                           "id -u; pwd; echo $X$BASE"))
    assert out.split() == ["65534", "/tmp", "y1"]
    assert engine.docker("exec", n, "sh", "-c", "exit 9").returncode == 9
    assert engine.docker("exec", n, "nosuchcmd").returncode == 127
    ok(engine.docker("exec", "-d", n, "sh", "-c", "echo detached > /tmp/d"))
    from tests.integration.containers.conftest import wait_for as wf

    assert wf(lambda: engine.docker("exec", n, "cat", "/tmp/d").stdout == b"detached\n")
    assert engine.docker("exec", "-i", n, "cat", input=b"piped").stdout == b"piped"


def test_update_and_prune(engine, names):
    n = names()
    ok(engine.docker("run", "-d", "--name", n, "busybox", "sleep", "100"))
    ok(engine.docker("update", "--memory", "32m", "--memory-swap", "64m", "--restart", "always", n))
    assert state(engine, n, "{{.HostConfig.Memory}} {{.HostConfig.RestartPolicy.Name}}") == f"{32 << 20} always"
    m = names()
    ok(engine.docker("create", "--name", m, "--label", "prune-me=1", "busybox", "true"))
    out = ok(engine.docker("container", "prune", "-f", "--filter", "label=prune-me=1"))
    assert engine.docker("inspect", m).returncode == 1 and "Total reclaimed space" in out
    assert state(engine, n) == "running"
