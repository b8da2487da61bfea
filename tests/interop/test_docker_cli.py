"""The real docker CLI (28.x) against `skiff engine`: the commands people use most, their
output and exit codes, the -it hijack through a pty, bad input, and an engine restart."""

from __future__ import annotations

import fcntl
import os
import pty
import secrets
import select
import shutil
import signal
import struct
import tarfile
import termios
import time

import pytest

from tests.support.procs import ok_bytes as ok

pytestmark = [pytest.mark.interop, pytest.mark.root,
              pytest.mark.skipif(shutil.which("docker") is None, reason="docker CLI not installed")]


def name(prefix: str = "t") -> str:
    return f"{prefix}{secrets.token_hex(4)}"


@pytest.fixture
def cname(engine):
    """A container name that is removed after the test."""
    names: list[str] = []

    def make(prefix: str = "t") -> str:
        names.append(name(prefix))
        return names[-1]

    yield make
    if names:
        engine.docker("rm", "-f", *names)


def test_version_and_info(engine):
    out = ok(engine.docker("version", "--format", "{{.Server.APIVersion}} {{.Server.Os}}"))
    assert out.decode().split() == ["1.50", "linux"]
    assert ok(engine.docker("info", "--format", "{{.OSType}}")) == b"linux\n"


def test_run_echo_and_exit_codes(engine):
    assert ok(engine.docker("run", "--rm", "busybox", "echo", "hello")) == b"hello\n"
    assert engine.docker("run", "--rm", "busybox", "sh", "-c", "exit 42").returncode == 42
    r = engine.docker("run", "--rm", "busybox", "no-such-command")
    assert r.returncode == 127, r.stderr
    r = engine.docker("run", "--rm", "busybox", "/etc/passwd")
    assert r.returncode == 126, r.stderr
    r = engine.docker("run", "--rm", "busybox", "--nonsense-flag")
    assert r.returncode in (125, 127)


def test_run_stdout_stderr_apart(engine):
    r = engine.docker("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2")
    assert (r.stdout, r.stderr) == (b"out\n", b"err\n")


def test_run_env_workdir_user(engine):
    out = ok(engine.docker("run", "--rm", "-e", "FOO=bar", "-w", "/tmp", "-u", "65534:65534", "busybox",
                           "sh", "-c", 'echo "$FOO $(pwd) $(id -u):$(id -g)"'))
    assert out == b"bar /tmp 65534:65534\n"


def test_run_piped_stdin(engine):
    r = engine.docker("run", "-i", "--rm", "busybox", "cat", input=b"one\ntwo\n")
    assert (r.returncode, r.stdout) == (0, b"one\ntwo\n")
    r = engine.docker("run", "-i", "--rm", "busybox", "wc", "-l", input=b"a\nb\nc\n")
    assert r.stdout.strip() == b"3"


def test_detached_logs_exec_stop_rm(engine, cname):
    n = cname()
    cid = ok(engine.docker("run", "-d", "--name", n, "busybox", "sh", "-c", "echo started; exec sleep 600"))
    assert len(cid.strip()) == 64
    assert n.encode() in ok(engine.docker("ps", "--format", "{{.Names}}"))
    deadline = time.monotonic() + 10
    while b"started" not in engine.docker("logs", n).stdout and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ok(engine.docker("logs", n)) == b"started\n"
    assert ok(engine.docker("exec", n, "echo", "in exec")) == b"in exec\n"
    assert engine.docker("exec", n, "sh", "-c", "exit 3").returncode == 3
    assert ok(engine.docker("exec", "-i", n, "cat", input=b"piped\n")) == b"piped\n"
    assert ok(engine.docker("inspect", "-f", "{{.State.Running}} {{.Name}}", n)) == f"true /{n}\n".encode()
    r = engine.docker("rm", n)
    assert r.returncode == 1 and b"container is running" in r.stderr
    ok(engine.docker("stop", "-t", "1", n))
    assert ok(engine.docker("inspect", "-f", "{{.State.Running}}", n)) == b"false\n"
    ok(engine.docker("rm", n))
    assert n.encode() not in ok(engine.docker("ps", "-a", "--format", "{{.Names}}"))


def test_kill_and_exit_code(engine, cname):
    n = cname()
    ok(engine.docker("run", "-d", "--name", n, "busybox", "sleep", "600"))
    ok(engine.docker("kill", n))
    assert ok(engine.docker("wait", n)) == b"137\n"


def test_ps_variants(engine, cname):
    a, b = cname("psa"), cname("psb")
    ok(engine.docker("run", "-d", "--name", a, "--label", "grp=x", "busybox", "sleep", "600"))
    ok(engine.docker("run", "--name", b, "busybox", "true"))
    running = ok(engine.docker("ps", "--format", "{{.Names}}")).split()
    assert a.encode() in running and b.encode() not in running
    everything = ok(engine.docker("ps", "-a", "--format", "{{.Names}}")).split()
    assert a.encode() in everything and b.encode() in everything
    assert ok(engine.docker("ps", "-q", "--filter", "label=grp=x")).strip()
    assert ok(engine.docker("ps", "-a", "--filter", f"name={b}", "--format", "{{.Status}}")).startswith(b"Exited (0)")
    assert len(ok(engine.docker("ps", "-aq", "-n", "1")).split()) == 1


def test_name_conflict(engine, cname):
    n = cname()
    ok(engine.docker("create", "--name", n, "busybox", "true"))
    r = engine.docker("run", "--name", n, "busybox", "true")
    assert r.returncode == 125 and b"is already in use" in r.stderr


def test_missing_image_and_bad_reference(engine):
    # a registry on loopback that does not answer: the pull fails without leaving the machine
    r = engine.docker("run", "--rm", "127.0.0.1:9/no-such-image:1")
    assert r.returncode == 125
    assert b"Unable to find image '127.0.0.1:9/no-such-image:1' locally" in r.stderr
    assert b"127.0.0.1:9" in r.stderr.split(b"Error response from daemon:", 1)[1]
    r = engine.docker("image", "inspect", "no-such-image:1")
    assert r.returncode == 1 and b"No such image" in r.stderr
    r = engine.docker("run", "--rm", "Bad:Ref!!")
    assert r.returncode == 125 and b"invalid reference format" in r.stderr


def test_images_tag_history_rmi(engine):
    tag = f"mybox:{secrets.token_hex(3)}"
    ok(engine.docker("tag", "busybox", tag))
    assert tag.encode() in ok(engine.docker("images", "--format", "{{.Repository}}:{{.Tag}}"))
    assert ok(engine.docker("history", "-q", tag)).strip()
    out = ok(engine.docker("rmi", tag))
    assert f"Untagged: {tag}".encode() in out
    assert ok(engine.docker("image", "inspect", "-f", "{{.Os}}", "busybox")) == b"linux\n"


def test_save_load_round_trip(engine, tmp_path):
    tag = f"roundtrip:{secrets.token_hex(3)}"
    ok(engine.docker("tag", "busybox", tag))
    archive = tmp_path / "img.tar"
    ok(engine.docker("save", "-o", str(archive), tag))
    with tarfile.open(archive) as t:
        assert "manifest.json" in t.getnames()
    ok(engine.docker("rmi", tag))
    out = ok(engine.docker("load", "-i", str(archive)))
    assert f"Loaded image: {tag}".encode() in out
    assert ok(engine.docker("run", "--rm", tag, "echo", "reloaded")) == b"reloaded\n"
    ok(engine.docker("rmi", tag))


def test_load_corrupt_tarball_keeps_engine_serving(engine):
    r = engine.docker("load", input=b"\x00garbage" * 1000)
    assert r.returncode == 1 and b"Error response from daemon" in r.stderr
    assert ok(engine.docker("version", "--format", "{{.Server.Os}}")) == b"linux\n"


def test_import_export_commit_diff(engine, cname, tmp_path):
    n = cname()
    ok(engine.docker("run", "--name", n, "busybox", "sh", "-c", "echo data > /made-here"))
    changes = ok(engine.docker("diff", n))
    assert b"A /made-here" in changes
    exported = tmp_path / "fs.tar"
    ok(engine.docker("export", "-o", str(exported), n))
    with tarfile.open(exported) as t:
        assert "made-here" in [m.lstrip("./") for m in t.getnames()]
    imported = f"imported:{secrets.token_hex(3)}"
    ok(engine.docker("import", str(exported), imported))
    assert ok(engine.docker("run", "--rm", imported, "/bin/cat", "/made-here")) == b"data\n"
    committed = f"committed:{secrets.token_hex(3)}"
    ok(engine.docker("commit", "-m", "msg", n, committed))
    assert ok(engine.docker("run", "--rm", committed, "cat", "/made-here")) == b"data\n"
    engine.docker("rmi", imported, committed)


def test_cp_both_ways(engine, cname, tmp_path):
    n = cname()
    ok(engine.docker("run", "-d", "--name", n, "busybox", "sleep", "600"))
    src = tmp_path / "in.txt"
    src.write_text("copied in\n")
    ok(engine.docker("cp", str(src), f"{n}:/tmp/in.txt"))
    assert ok(engine.docker("exec", n, "cat", "/tmp/in.txt")) == b"copied in\n"
    ok(engine.docker("cp", f"{n}:/etc/passwd", str(tmp_path / "passwd")))
    assert (tmp_path / "passwd").read_text().startswith("root:")


def test_volumes(engine, cname):
    vol = name("vol")
    assert ok(engine.docker("volume", "create", vol)) == f"{vol}\n".encode()
    assert vol.encode() in ok(engine.docker("volume", "ls", "-q"))
    ok(engine.docker("run", "--rm", "-v", f"{vol}:/data", "busybox", "sh", "-c", "echo kept > /data/f"))
    assert ok(engine.docker("run", "--rm", "-v", f"{vol}:/data", "busybox", "cat", "/data/f")) == b"kept\n"
    ok(engine.docker("volume", "rm", vol))
    r = engine.docker("volume", "inspect", vol)
    assert r.returncode == 1 and b"no such volume" in r.stderr


def test_events_for_a_run(engine, cname):
    since = str(int(time.time()) - 1)
    n = cname()
    ok(engine.docker("run", "--name", n, "busybox", "true"))
    until = str(int(time.time()) + 1)
    out = ok(engine.docker("events", "--since", since, "--until", until, "--filter", f"container={n}",
                           "--format", "{{.Action}}"))
    actions = out.decode().split()
    assert "create" in actions and "start" in actions and "die" in actions


def _pty_run(engine, args: list[str], keys: list[bytes], settle: float = 3) -> tuple[int, bytes]:
    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 101, 0, 0))
        os.execvpe("docker", ["docker", *args], engine.env)
    out = b""
    try:
        for k in keys:
            end = time.monotonic() + 1.5
            while time.monotonic() < end:
                if select.select([fd], [], [], 0.1)[0]:
                    try:
                        out += os.read(fd, 4096)
                    except OSError:
                        break
            os.write(fd, k)
        end = time.monotonic() + settle
        while time.monotonic() < end:
            if select.select([fd], [], [], 0.1)[0]:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(status), out


def test_run_it_through_a_pty(engine):
    code, out = _pty_run(engine, ["run", "-it", "--rm", "busybox", "sh"], [b"echo tty-$((6*7))\r", b"exit 5\r"])
    assert b"tty-42" in out
    assert code == 5


def test_run_it_gets_the_terminal_size(engine):
    code, out = _pty_run(engine, ["run", "-it", "--rm", "busybox", "sh"], [b"stty size\r", b"exit\r"])
    assert b"33 101" in out


def test_exec_it_and_attach(engine, cname):
    n = cname()
    ok(engine.docker("run", "-d", "-it", "--name", n, "busybox", "sh"))
    code, out = _pty_run(engine, ["exec", "-it", n, "sh"], [b"echo exec-$((2+3)); stty size\r", b"exit\r"])
    assert b"exec-5" in out and b"33 101" in out and code == 0
    code, out = _pty_run(engine, ["attach", n], [b"echo attach-$((1+1))\r", b"\x10\x11"])
    assert b"attach-2" in out
    assert ok(engine.docker("inspect", "-f", "{{.State.Running}}", n)) == b"true\n"


def _alive(pid: int) -> bool:
    """Running (not gone, not a zombie its shim has still to reap)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_engine_restart_keeps_containers(fresh_engine):
    eng = fresh_engine
    ok(eng.docker("run", "-d", "--name", "survivor", "busybox", "sh", "-c",
                  "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done"))
    ok(eng.docker("run", "-d", "--name", "ender", "busybox", "sh", "-c", "sleep 2; exit 9"))
    ender_pid = int(ok(eng.docker("inspect", "-f", "{{.State.Pid}}", "ender")))
    eng.stop(signal.SIGKILL)
    deadline = time.monotonic() + 60  # "ender" exits while the engine is down (a fixed sleep was short under load)
    while _alive(ender_pid):
        assert time.monotonic() < deadline, "ender never exited"
        time.sleep(0.1)
    eng.start()
    assert b"survivor" in ok(eng.docker("ps", "--format", "{{.Names}}"))
    assert ok(eng.docker("inspect", "-f", "{{.State.ExitCode}} {{.State.Running}}", "ender")) == b"9 false\n"
    before = ok(eng.docker("logs", "survivor")).count(b"tick")
    deadline = time.monotonic() + 30  # it keeps ticking after the restart
    while ok(eng.docker("logs", "survivor")).count(b"tick") <= before:
        assert time.monotonic() < deadline, "survivor's logs stopped"
        time.sleep(0.2)


def test_second_engine_on_same_root_refused(engine):
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "skiff", "engine", "--data-root", str(engine.root / "data"),
                        "-H", f"unix://{engine.root}/other.sock"], capture_output=True, timeout=30)
    assert r.returncode == 1 and b"already using data root" in r.stderr


def test_socket_is_root_skiff_0660(engine):
    import grp

    st = os.stat(engine.socket)
    assert st.st_mode & 0o777 == 0o660
    assert st.st_uid == 0 and grp.getgrgid(st.st_gid).gr_name == "skiff"


def test_bad_input_status_codes(engine):
    """What the CLI reports above, checked at the HTTP level: dockerd's statuses and messages."""
    import orjson

    from tests.support.engine import request

    status, body = request(engine.socket, "POST", "/v1.50/images/load", b"\x00not a tarball" * 100,
                           {"Content-Type": "application/x-tar"})
    assert status == 400, body
    status, body = request(engine.socket, "POST", "/v1.50/containers/create",
                           orjson.dumps({"Image": "Bad:Ref!!", "Cmd": ["true"]}), {"Content-Type": "application/json"})
    assert status == 400, body
    status, body = request(engine.socket, "POST", "/v1.50/containers/create",
                           orjson.dumps({"Image": "absent:9", "Cmd": ["true"]}), {"Content-Type": "application/json"})
    assert status == 404 and orjson.loads(body)["message"] == "No such image: absent:9"
    status, body = request(engine.socket, "POST", "/v1.50/containers/create", b"{broken",
                           {"Content-Type": "application/json"})
    assert status == 400
    assert request(engine.socket, "GET", "/v1.50/containers/absent/json")[0] == 404
    assert request(engine.socket, "GET", "/_ping") == (200, b"OK")


def test_stdin_eof_ends_attach_not_the_container(engine, cname):
    """`docker run -d -i` has no StdinOnce: an attach's stdin EOF ends that attach (as dockerd),
    the container's stdin stays open for the next one."""
    from tests.integration.api.test_api_wire import _attach_raw

    n = cname()
    cid = ok(engine.docker("run", "-d", "-i", "--name", n, "busybox", "cat")).strip().decode()
    _attach_raw(engine.socket, cid, b"first\n")
    assert ok(engine.docker("inspect", "-f", "{{.State.Running}}", n)) == b"true\n"
    # cat's echo may come after that attach ended: let it reach the log before the next attach
    deadline = time.monotonic() + 20
    while ok(engine.docker("logs", n)) != b"first\n" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ok(engine.docker("logs", n)) == b"first\n"
    out = _attach_raw(engine.socket, cid, b"")
    assert out == b""  # nothing was lost into a closed stdin: cat is still there and quiet
    assert ok(engine.docker("inspect", "-f", "{{.State.Running}}", n)) == b"true\n"


def test_piped_stdin_reaches_the_process_whole(engine):
    """`docker run -i` with more input than any buffer on the way holds, to a process that
    reads at once and to one that starts reading only later: every byte, then EOF. Random
    bytes also carry the detach keys (ctrl-p ctrl-q), which without a tty are plain input."""
    import hashlib

    data = os.urandom(1024 * 1024 + 3)
    data += b"\x10\x11" + os.urandom(1000)
    r = engine.docker("run", "-i", "--rm", "busybox", "md5sum", input=data)
    assert ok(r).split()[0].decode() == hashlib.md5(data).hexdigest()
    r = engine.docker("run", "-i", "--rm", "busybox", "sh", "-c", "sleep 1; wc -c", input=data)
    assert ok(r).strip() == str(len(data)).encode()


def test_piped_stdin_a_process_does_not_read(engine):
    """The process ends without reading its input: the client gets the output and exit code,
    not a reset connection."""
    data = os.urandom(4 * 1024 * 1024)
    assert ok(engine.docker("run", "-i", "--rm", "busybox", "true", input=data)) == b""
    assert ok(engine.docker("run", "-i", "--rm", "busybox", "head", "-c", "10", input=data)) == data[:10]


def test_piped_stdin_to_exec_whole(engine, cname):
    n = cname()
    ok(engine.docker("run", "-d", "--name", n, "busybox", "sleep", "100"))
    data = os.urandom(512 * 1024) + b"\x10\x11"
    r = engine.docker("exec", "-i", n, "sh", "-c", "sleep 1; wc -c", input=data)
    assert ok(r).strip() == str(len(data)).encode()


def test_logs_tail_since_until_timestamps_combined(engine, cname):
    """As dockerd: --tail takes the last lines first, then --since/--until filter them."""
    from datetime import datetime

    n = cname()
    ok(engine.docker("run", "--name", n, "busybox", "sh", "-c", "echo a; sleep 0.3; echo b; sleep 0.3; echo c"))
    stamped = ok(engine.docker("logs", "-t", n)).decode().splitlines()
    assert [line.split(" ", 1)[1] for line in stamped] == ["a", "b", "c"]
    assert all(len(line.split(" ", 1)[0]) == len("2006-01-02T15:04:05.000000000Z") for line in stamped)
    b_time = datetime.fromisoformat(stamped[1].split(" ", 1)[0][:26] + "+00:00").timestamp()
    before_b, after_b = f"{b_time - 0.1:.3f}", f"{b_time + 0.1:.3f}"
    assert ok(engine.docker("logs", "--since", before_b, n)) == b"b\nc\n"
    assert ok(engine.docker("logs", "--until", after_b, n)) == b"a\nb\n"
    assert ok(engine.docker("logs", "--since", before_b, "--until", after_b, n)) == b"b\n"
    assert ok(engine.docker("logs", "--tail", "1", "--until", after_b, n)) == b""  # c is the last line
    assert ok(engine.docker("logs", "--tail", "2", "--until", after_b, n)) == b"b\n"
    assert ok(engine.docker("logs", "--tail", "2", "--since", before_b, n)) == b"b\nc\n"
    assert ok(engine.docker("logs", "-t", "--tail", "1", n)).decode() == stamped[2] + "\n"
    assert ok(engine.docker("logs", "--tail", "0", n)) == b""
