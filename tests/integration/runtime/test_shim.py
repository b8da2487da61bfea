"""The shim: attach (multiplexed and tty), stdin, resize, and outliving the engine."""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
import textwrap

import pytest

from skiff.engine.runtime.api import RUNNING, IOSpec

pytestmark = pytest.mark.root


def attach(path: str, stdin: bool = True) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    s.connect(path)
    s.sendall(json.dumps({"stdin": stdin, "stdout": True, "stderr": True}).encode() + b"\n")
    return s


def read_frames(s: socket.socket) -> list[tuple[int, bytes]]:
    """Docker's multiplexed stream until EOF."""
    buf = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    frames = []
    while buf:
        stream, length = struct.unpack(">BxxxI", buf[:8])
        frames.append((stream, buf[8:8 + length]))
        buf = buf[8 + length:]
    return frames


def read_all(s: socket.socket) -> bytes:
    out = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return out
        out += chunk


def test_attach_multiplexed_with_stdin_once(linux_rt):
    io = IOSpec(stdin=True, stdin_once=True, log_path=linux_rt.log_path("c1"))
    linux_rt.create("c1", ["sh", "-c", "cat; echo bye >&2"], io=io)
    s = attach(linux_rt.rt.attach_path("c1"))
    linux_rt.rt.start("c1")
    s.sendall(b"hello\n")
    s.shutdown(socket.SHUT_WR)  # the client's EOF closes the container's stdin
    frames = read_frames(s)
    s.close()
    assert linux_rt.wait("c1").exit_code == 0
    joined: dict[int, bytes] = {1: b"", 2: b""}
    for stream, data in frames:
        joined[stream] += data
    assert joined == {1: b"hello\n", 2: b"bye\n"}
    assert linux_rt.logs("c1") == ("hello\n", "bye\n")


def test_close_stdin_through_control_socket(linux_rt):
    io = IOSpec(stdin=True, log_path=linux_rt.log_path("c1"))
    linux_rt.create("c1", ["sh", "-c", "cat; echo closed"], io=io)
    linux_rt.rt.start("c1")
    linux_rt.rt.close_stdin("c1")
    assert linux_rt.wait("c1").exit_code == 0
    assert linux_rt.logs("c1")[0] == "closed\n"


def test_tty_attach_resize_and_raw_output(linux_rt):
    io = IOSpec(terminal=True, stdin=True, log_path=linux_rt.log_path("c1"))
    linux_rt.create("c1", ["sh", "-c", "read x; tty; stty size; echo got $x"], io=io, terminal=True)
    linux_rt.rt.resize("c1", None, 33, 101)
    s = attach(linux_rt.rt.attach_path("c1"))
    linux_rt.rt.start("c1")
    s.sendall(b"abc\n")
    out = read_all(s)
    s.close()
    assert linux_rt.wait("c1").exit_code == 0
    text = out.decode()
    assert "/dev/pts/0\r\n" in text
    assert "33 101\r\n" in text
    assert "got abc\r\n" in text
    assert "got abc" in linux_rt.logs("c1")[0]


def test_exec_with_tty(linux_rt):
    linux_rt.create("c1", ["sleep", "60"])
    linux_rt.rt.start("c1")
    linux_rt.rt.exec("c1", "e1", {"args": ["sh", "-c", "read x; tty; echo exec $x"], "cwd": "/", "env": ["PATH=/bin"]},
                     IOSpec(terminal=True, stdin=True))
    s = attach(linux_rt.rt.attach_path("c1", "e1"))
    s.sendall(b"zz\n")
    out = read_all(s).decode()
    s.close()
    assert linux_rt.wait("c1", "e1").exit_code == 0
    assert "exec zz" in out and "/dev/pts/" in out


CREATE_AND_QUIT = textwrap.dedent("""
    import sys
    from skiff.engine.runtime.linux import LinuxRuntime
    from skiff.engine.runtime.api import IOSpec
    state, prefix, bin_dir, bundle, log = sys.argv[1:]
    rt = LinuxRuntime(state, prefix=prefix, bin_dir=bin_dir)
    rt.create("c1", bundle, IOSpec(log_path=log))
    rt.start("c1")
""")


def test_shim_outlives_the_process_that_made_it(linux_rt):
    """A separate 'engine' process creates and starts, then exits; a new runtime object
    re-adopts the container purely from the files and sees its exit."""
    bundle = linux_rt.bundle(["sh", "-c", "echo before; sleep 0.3; echo after; exit 4"])
    rt = linux_rt.rt
    subprocess.run([sys.executable, "-c", CREATE_AND_QUIT, rt.root.root, rt.prefix, rt.bin_dir, bundle,
                    linux_rt.log_path("c1")], check=True, timeout=60)
    st = rt.state("c1")
    assert st.status in (RUNNING, "stopped")
    assert os.path.exists(f"/proc/{st.shim_pid}")
    ex = linux_rt.wait("c1")
    assert ex.exit_code == 4
    assert linux_rt.logs("c1")[0] == "before\nafter\n"
    rt.delete("c1")


def test_exec_output_waits_for_the_first_attach(linux_rt):
    """An exec'd process is held until a client attaches, so a quick command loses nothing."""
    linux_rt.create("c1", ["sleep", "60"])
    linux_rt.rt.start("c1")
    st = linux_rt.rt.exec("c1", "e1", {"args": ["echo", "quick"], "cwd": "/", "env": ["PATH=/bin"]}, IOSpec())
    assert st.status == "created"
    s = attach(linux_rt.rt.attach_path("c1", "e1"), stdin=False)
    frames = read_frames(s)
    s.close()
    assert frames == [(1, b"quick\n")]
    assert linux_rt.wait("c1", "e1").exit_code == 0


def shim_argv(pid: int) -> list[bytes]:
    """The shim's command line, once the forked child has become the shim."""
    import time

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
        if argv[0].endswith(b"skiff-shim"):
            return argv
        time.sleep(0.01)
    raise AssertionError(f"{pid} never became the shim")


def test_unattached_exec_starts_after_the_grace_period(linux_rt):
    linux_rt.create("c1", ["sleep", "60"])
    linux_rt.rt.start("c1")
    linux_rt.rt.exec("c1", "e1", {"args": ["sh", "-c", "exit 3"], "cwd": "/", "env": ["PATH=/bin"]}, IOSpec())
    assert linux_rt.wait("c1", "e1").exit_code == 3


def test_detached_exec_runs_without_an_attach(linux_rt):
    linux_rt.create("c1", ["sleep", "60"])
    linux_rt.rt.start("c1")
    # nobody attaches to e1; e2 only ends once e1 has run (the grace period would be 2 s)
    st = linux_rt.rt.exec("c1", "e1", {"args": ["sh", "-c", "touch /dev/shm/done; sleep 60"], "cwd": "/",
                                       "env": ["PATH=/bin"]}, IOSpec(detached=True))
    argv = shim_argv(st.shim_pid)
    assert argv[argv.index(b"--gate-ms") + 1] == b"0"  # the shim opens the gate without waiting
    linux_rt.rt.exec("c1", "e2", {"args": ["sh", "-c", "while [ ! -e /dev/shm/done ]; do sleep 0.01; done"], "cwd": "/",
                                  "env": ["PATH=/bin"]}, IOSpec(detached=True))
    assert linux_rt.wait("c1", "e2").exit_code == 0


def test_runc_runtime_tty_pause_and_exec(runc_rt):
    io = IOSpec(terminal=True, stdin=True, log_path=runc_rt.log_path("c1"))
    runc_rt.create("c1", ["sh", "-c", "read x; echo got $x; sleep 60"], io=io, terminal=True)
    s = attach(runc_rt.rt.attach_path("c1"))
    runc_rt.rt.start("c1")
    s.sendall(b"tty-in\n")
    runc_rt.wait_for_output("c1", "got tty-in")
    runc_rt.rt.pause("c1")
    assert runc_rt.rt.state("c1").status == "paused"
    runc_rt.rt.resume("c1")
    runc_rt.rt.exec("c1", "e1", {"args": ["sh", "-c", "exit 4"], "cwd": "/", "env": ["PATH=/bin"]}, IOSpec())
    assert runc_rt.wait("c1", "e1").exit_code == 4
    runc_rt.rt.kill("c1", 9)
    assert runc_rt.wait("c1").exit_code == 137
    s.close()


def _feed_stdin_once(linux_rt, cid: str, argv: list[str], data: bytes) -> tuple[int, bytes]:
    """Run `argv` with stdin_once, send `data` then half-close while reading the output;
    the exit code and stdout."""
    import threading

    linux_rt.create(cid, argv, io=IOSpec(stdin=True, stdin_once=True))
    s = attach(linux_rt.rt.attach_path(cid))
    linux_rt.rt.start(cid)

    def send():
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)

    t = threading.Thread(target=send)
    t.start()
    frames = read_frames(s)
    t.join()
    s.close()
    return linux_rt.wait(cid).exit_code, b"".join(d for stream, d in frames if stream == 1)


def test_large_stdin_through_cat_does_not_deadlock(linux_rt):
    """More input than any pipe holds, echoed back: the shim must keep reading output
    while the container's stdin is full."""
    data = os.urandom(3 * 1024 * 1024)
    exit_code, out = _feed_stdin_once(linux_rt, "c1", ["cat"], data)
    assert exit_code == 0
    assert out == data


def test_a_client_attached_before_start_gets_all_output_of_a_quick_process(linux_rt):
    """The engine attaches before `start`: even if the process is done before the shim
    has looked at the connection, the client must get every byte, then EOF."""
    for i in range(15):
        cid = f"q{i}"
        linux_rt.create(cid, ["sh", "-c", "echo out; echo err >&2"])
        s = attach(linux_rt.rt.attach_path(cid), stdin=False)
        linux_rt.rt.start(cid)
        frames = read_frames(s)
        s.close()
        assert linux_rt.wait(cid).exit_code == 0
        linux_rt.rt.delete(cid)
        assert sorted(frames) == [(1, b"out\n"), (2, b"err\n")]


def _unsent(s: socket.socket) -> int:
    """Bytes still in the client socket's send queue (not yet read by the shim)."""
    import array
    import fcntl
    import termios

    buf = array.array("i", [0])
    fcntl.ioctl(s.fileno(), termios.TIOCOUTQ, buf, True)
    return buf[0]


def test_half_close_delivers_all_stdin_to_a_slow_reader(linux_rt):
    """stdin_once: the client's half-close closes the process's stdin only after every byte
    sent before it was written, however slowly the process reads; output still flows back."""
    import hashlib

    data = os.urandom(1024 * 1024 + 17)
    exit_code, out = _feed_stdin_once(linux_rt, "c1", ["sh", "-c", "sleep 1; md5sum; wc -c </dev/null"], data)
    assert exit_code == 0
    assert out.split()[0].decode() == hashlib.md5(data).hexdigest()


def test_close_stdin_on_control_socket_first_writes_what_the_shim_holds(linux_rt):
    """close_stdin arriving while the shim still buffers input (the process has not read it
    yet) closes stdin after that input, not instead of it."""
    import time

    # A pipe's worth (64 KiB) plus less than one read: the shim takes all of it from the socket,
    # the rest waiting in its buffer while the process sleeps.
    data = os.urandom(80_000)
    io = IOSpec(stdin=True, log_path=linux_rt.log_path("c1"))
    linux_rt.create("c1", ["sh", "-c", "sleep 1; wc -c"], io=io)
    s = attach(linux_rt.rt.attach_path("c1"))
    linux_rt.rt.start("c1")
    s.sendall(data)
    deadline = time.monotonic() + 20
    while _unsent(s) and time.monotonic() < deadline:  # the shim has taken every byte
        time.sleep(0.01)
    assert _unsent(s) == 0
    linux_rt.rt.close_stdin("c1")
    out = b"".join(d for stream, d in read_frames(s) if stream == 1)
    s.close()
    assert linux_rt.wait("c1").exit_code == 0
    assert out.strip() == b"80000"


def test_more_stdin_clients_lose_nothing_while_the_shim_is_full(linux_rt):
    """Clients that connect (header and input in one write) while the shim already holds input
    the process has not read are read only as room frees up: none of their bytes are lost."""
    import time

    def wait_taken(s: socket.socket) -> None:
        deadline = time.monotonic() + 20
        while _unsent(s) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _unsent(s) == 0

    first, more = os.urandom(80_000), [os.urandom(50_000), os.urandom(50_000)]
    io = IOSpec(stdin=True, log_path=linux_rt.log_path("c1"))
    linux_rt.create("c1", ["sh", "-c", "sleep 1; wc -c"], io=io)
    a = attach(linux_rt.rt.attach_path("c1"))
    linux_rt.rt.start("c1")
    a.sendall(first)
    wait_taken(a)  # the pipe is full and the shim holds the rest
    others = []
    for data in more:
        b = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        b.settimeout(20)
        b.connect(linux_rt.rt.attach_path("c1"))
        b.sendall(json.dumps({"stdin": True, "stdout": False, "stderr": False}).encode() + b"\n" + data)
        others.append(b)
    for b in others:
        wait_taken(b)  # taken once the process started reading
    linux_rt.rt.close_stdin("c1")
    out = b"".join(d for stream, d in read_frames(a) if stream == 1)
    for s in (a, *others):
        s.close()
    assert linux_rt.wait("c1").exit_code == 0
    assert out.strip() == str(len(first) + sum(map(len, more))).encode()
