"""`skiff` streaming commands against a real engine: logs options, events, attach, tty detach, export/import."""

import os
import secrets
import select
import time

import pytest

from tests.support.ptys import read_match, set_size, spawn_skiff_in_pty

pytestmark = pytest.mark.root


@pytest.fixture
def name(engine):
    n = "cli-" + secrets.token_hex(4)
    yield n
    engine.skiff("rm", "-f", n)


def out(proc) -> str:
    return proc.stdout.decode()


def test_logs_tail_timestamps_and_streams(engine, name):
    p = engine.skiff("run", "--name", name, "busybox", "sh", "-c", "echo one; echo two >&2; echo three")
    assert p.returncode == 0
    p = engine.skiff("logs", name)
    assert out(p) == "one\nthree\n" and p.stderr.decode() == "two\n"
    # stdout and stderr reach the log through separate pipes, so which of "two" and "three"
    # is last in the log is not fixed: the last line is one of them, on its own stream.
    p = engine.skiff("logs", "--tail", "1", name)
    assert (out(p), p.stderr.decode()) in (("three\n", ""), ("", "two\n"))
    p = engine.skiff("logs", "--tail", "2", name)
    assert out(p) in ("three\n", "one\nthree\n") and out(p).endswith("three\n")
    lines = out(engine.skiff("logs", "-t", name)).splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == ["one", "three"]
    assert lines[0][:4].isdigit() and lines[0].split(" ")[0].endswith("Z")
    assert out(engine.skiff("logs", "--since", "1h", name)) == "one\nthree\n"
    p = engine.skiff("logs", "--until", "2000-01-01T00:00:00Z", name)
    assert out(p) == ""


def test_logs_follow_ends_with_the_container(engine, name):
    engine.skiff("run", "-d", "--name", name, "busybox", "sh", "-c", "echo a; sleep 1; echo b")
    p = engine.skiff("logs", "-f", name, timeout=30)
    assert out(p) == "a\nb\n"


def test_events_for_a_container(engine, name):
    since = str(int(time.time()) - 1)
    engine.skiff("run", "--rm", "--name", name, "busybox", "true")
    until = str(int(time.time()) + 1)
    p = engine.skiff("events", "--since", since, "--until", until, "--filter", f"container={name}",
                     "--format", "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}", timeout=30)
    lines = out(p).splitlines()
    assert f"container create {name}" in lines
    assert f"container start {name}" in lines
    assert any(line.startswith("container die") for line in lines)


def test_export_import_commit(engine, name, tmp_path):
    tag = "cli-imp-" + secrets.token_hex(3)
    engine.skiff("run", "--name", name, "busybox", "sh", "-c", "echo marker > /marker")
    archive = tmp_path / "rootfs.tar"
    assert engine.skiff("export", "-o", str(archive), name).returncode == 0
    p = engine.skiff("import", "-c", 'CMD ["cat", "/marker"]', str(archive), f"{tag}:v1")
    assert p.returncode == 0, p.stderr
    assert out(p).strip().startswith("sha256:")
    assert out(engine.skiff("run", "--rm", f"{tag}:v1")) == "marker\n"
    p = engine.skiff("commit", "-c", "ENV FROM_COMMIT=1", "-m", "msg", name, f"{tag}:v2")
    assert p.returncode == 0, p.stderr
    assert out(engine.skiff("run", "--rm", f"{tag}:v2", "sh", "-c", "cat /marker; echo $FROM_COMMIT")) == "marker\n1\n"
    engine.skiff("rmi", f"{tag}:v1", f"{tag}:v2")


def test_start_attached_with_stdin(engine, name):
    engine.skiff("create", "-i", "--name", name, "busybox", "sh", "-c", "read line; echo got $line")
    p = engine.skiff("start", "-ai", name, input=b"hello\n", timeout=30)
    assert (p.returncode, out(p)) == (0, "got hello\n")


def _detach(pid, fd) -> int:
    """Send ctrl-p ctrl-q and wait for the client to exit, draining what it still prints."""
    os.write(fd, b"\x10\x11")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            os.close(fd)
            return os.waitstatus_to_exitcode(status)
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                os.read(fd, 4096)
            except OSError:
                pass
    raise AssertionError("the client did not exit after the detach keys")


def test_interactive_tty_and_detach_keys(engine, name):
    """Detaching leaves the container running with its stdin open: a second attach still talks to it."""
    pid, fd = spawn_skiff_in_pty(engine, "run", "-it", "--name", name, "busybox", "sh", "-c",
                            "while read x; do echo got-$x; done")
    assert b"got-hello" in read_match(fd, rb"got-hello", poke=b"hello\r")
    assert _detach(pid, fd) == 0
    pid, fd = spawn_skiff_in_pty(engine, "attach", name)
    assert b"got-again" in read_match(fd, rb"got-again", poke=b"again\r")
    assert _detach(pid, fd) == 0
    assert out(engine.skiff("inspect", "-f", "{{.State.Running}}", name)) == "true\n"


def test_tty_size_follows_the_terminal(engine, name):
    # the size before the client starts: the container is created with it
    pid, fd = spawn_skiff_in_pty(engine, "run", "-it", "--name", name, "busybox", "sh", "-c",
                                 "while read x; do echo size-$(stty size | tr ' ' x); done", size=(30, 100))
    try:
        assert b"size-30x100" in read_match(fd, rb"size-\d+x\d+", poke=b"\r")
        set_size(fd, 40, 120)  # SIGWINCH to the client, which resizes the container's tty
        assert b"size-40x120" in read_match(fd, rb"size-40x120", poke=b"\r")
        _detach(pid, fd)
    finally:
        try:
            os.close(fd)
        except OSError:
            pass


def test_attach_to_a_running_container(engine, name):
    # time for the attaching CLI to start and connect, under load too (it would find the container exited)
    engine.skiff("run", "-d", "--name", name, "busybox", "sh", "-c", "sleep 4; echo late; exit 9")
    p = engine.skiff("attach", "--no-stdin", name, timeout=30)
    assert (p.returncode, out(p)) == (9, "late\n")
