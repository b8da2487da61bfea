"""`skiff` container commands against a real engine: output, exit codes, and Docker's wording."""

import json
import os
import secrets
import subprocess
import sys

import pytest

from tests.support.ptys import read_to_eof, spawn_skiff_in_pty

pytestmark = pytest.mark.root


@pytest.fixture
def names(engine):
    """Fresh container names for one test; every container made under them is removed after."""
    made: list[str] = []

    def new() -> str:
        name = "cli-" + secrets.token_hex(4)
        made.append(name)
        return name

    yield new
    if made:
        engine.skiff("rm", "-f", *made)


def out(proc) -> str:
    return proc.stdout.decode()


def err(proc) -> str:
    return proc.stderr.decode()


def test_run_prints_output_and_exits_with_the_container_code(engine):
    p = engine.skiff("run", "--rm", "busybox", "echo", "hello")
    assert (p.returncode, out(p)) == (0, "hello\n")
    p = engine.skiff("run", "--rm", "busybox", "sh", "-c", "echo oops >&2; exit 3")
    assert p.returncode == 3
    assert out(p) == "" and err(p) == "oops\n"


def test_run_exit_codes_for_commands_that_cannot_run(engine):
    p = engine.skiff("run", "--rm", "busybox", "no-such-command")
    assert p.returncode == 127
    assert err(p).startswith("skiff: Error response from daemon: ")
    assert "Run 'skiff run --help' for more information" in err(p)
    p = engine.skiff("run", "--rm", "busybox", "/etc")
    assert p.returncode == 126


def test_run_missing_image_and_bad_flag(engine):
    p = engine.skiff("run", "--rm", "--pull", "never", "no-such-image-xyz")
    assert p.returncode == 125
    p = engine.skiff("run", "--foo", "busybox")
    assert p.returncode == 125
    assert err(p).startswith("unknown flag: --foo\n")
    assert "Run 'skiff run --help' for more information" in err(p)


def test_run_stdin_env_workdir_user(engine, tmp_path):
    env_file = tmp_path / "env"
    env_file.write_text("# comment\nFROM_FILE=yes\n")
    p = engine.skiff("run", "--rm", "-i", "--env-file", str(env_file), "-e", "A=1", "-w", "/tmp", "-u", "1:2",
                     "busybox", "sh", "-c", "cat; echo $FROM_FILE $A; pwd; id -u; id -g", input=b"from stdin\n")
    assert p.returncode == 0, err(p)
    assert out(p) == "from stdin\nyes 1\n/tmp\n1\n2\n"


def test_run_detached_then_ps_logs_stop_rm(engine, names):
    name = names()
    p = engine.skiff("run", "-d", "--name", name, "-l", "suite=cli", "busybox", "sh", "-c",
                     "echo started; exec sleep 300")
    assert p.returncode == 0, err(p)
    cid = out(p).strip()
    assert len(cid) == 64
    ps = out(engine.skiff("ps"))
    header = ps.splitlines()[0]
    assert header.split() == ["CONTAINER", "ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]
    line = next(line for line in ps.splitlines() if line.endswith(name))
    assert line.startswith(cid[:12] + "   busybox   ")
    assert "Up " in line
    assert out(engine.skiff("ps", "-q", "--no-trunc", "--filter", f"name={name}")).strip() == cid
    fmt = out(engine.skiff("ps", "--filter", "label=suite=cli", "--format", "{{.Names}}|{{.State}}|{{.Label \"suite\"}}"))
    assert f"{name}|running|cli" in fmt.splitlines()
    rows = [json.loads(line) for line in out(engine.skiff("ps", "--format", "json")).splitlines()]
    assert any(r["Names"] == name and r["ID"] == cid[:12] for r in rows)
    assert out(engine.skiff("logs", name)) == "started\n"
    assert out(engine.skiff("inspect", "-f", "{{.State.Status}} {{json .Config.Cmd}}", name)) == \
        'running ["sh","-c","echo started; exec sleep 300"]\n'
    p = engine.skiff("rm", name)
    assert p.returncode == 1 and err(p).startswith("Error response from daemon: ")
    assert out(engine.skiff("stop", "-t", "1", name)) == name + "\n"
    assert out(engine.skiff("ps", "-a", "--filter", f"name={name}", "--format", "{{.Status}}")).startswith("Exited (")
    assert out(engine.skiff("rm", name)) == name + "\n"
    p = engine.skiff("inspect", name)
    assert p.returncode == 1 and out(p) == "[]\n"
    assert err(p) == f"Error: No such object: {name}\n"


def test_create_start_attach_and_wait(engine, names):
    name = names()
    p = engine.skiff("create", "--name", name, "busybox", "sh", "-c", "echo out; exit 5")
    assert p.returncode == 0, err(p)
    assert out(engine.skiff("ps", "-a", "--filter", f"name={name}", "--format", "{{.Status}}")) == "Created\n"
    p = engine.skiff("start", "-a", name)
    assert (p.returncode, out(p)) == (5, "out\n")
    p = engine.skiff("wait", name)
    assert out(p) == "5\n"


def test_inspect_json_array(engine, names):
    name = names()
    engine.skiff("create", "--name", name, "busybox", "true")
    data = json.loads(out(engine.skiff("inspect", name)))
    assert isinstance(data, list) and data[0]["Name"] == "/" + name
    assert out(engine.skiff("container", "inspect", "--format", "{{.Config.Image}}", name)) == "busybox\n"


def test_kill_pause_rename_restart(engine, names):
    name, new = names(), names()
    engine.skiff("run", "-d", "--name", name, "busybox", "sleep", "300")
    assert engine.skiff("pause", name).returncode == 0
    assert "(Paused)" in out(engine.skiff("ps", "--filter", f"name={name}", "--format", "{{.Status}}"))
    assert engine.skiff("unpause", name).returncode == 0
    assert engine.skiff("rename", name, new).returncode == 0
    assert out(engine.skiff("restart", "-t", "1", new)) == new + "\n"
    assert out(engine.skiff("kill", new)) == new + "\n"
    assert out(engine.skiff("inspect", "-f", "{{.State.Running}}", new)) == "false\n"


def test_exec(engine, names):
    name = names()
    engine.skiff("run", "-d", "--name", name, "busybox", "sleep", "300")
    p = engine.skiff("exec", name, "sh", "-c", "echo in exec; exit 4")
    assert (p.returncode, out(p)) == (4, "in exec\n"), err(p)
    p = engine.skiff("exec", "-i", "-e", "X=y", "-w", "/tmp", name, "sh", "-c", "cat; echo $X; pwd", input=b"hi\n")
    assert out(p) == "hi\ny\n/tmp\n"


def test_cp_both_ways_and_diff(engine, names, tmp_path):
    name = names()
    engine.skiff("run", "-d", "--name", name, "busybox", "sleep", "300")
    src = tmp_path / "hello.txt"
    src.write_text("hello from host\n")
    p = engine.skiff("cp", str(src), f"{name}:/tmp/")
    assert p.returncode == 0, err(p)
    back = tmp_path / "back.txt"
    p = engine.skiff("cp", f"{name}:/tmp/hello.txt", str(back))
    assert p.returncode == 0, err(p)
    assert back.read_text() == "hello from host\n"
    changes = out(engine.skiff("diff", name)).splitlines()
    assert "A /tmp/hello.txt" in changes
    renamed = tmp_path / "renamed"
    assert engine.skiff("cp", f"{name}:/etc", str(renamed)).returncode == 0
    assert (renamed / "hostname").exists()
    p = engine.skiff("cp", f"{name}:/tmp/hello.txt", "-")
    assert p.returncode == 0 and b"hello from host" in p.stdout  # a tar stream


def test_top_and_stats(engine, names):
    name = names()
    engine.skiff("run", "-d", "--name", name, "busybox", "sleep", "300")
    top = out(engine.skiff("top", name))
    assert top.splitlines()[0].split()[:3] == ["UID", "PID", "PPID"]
    assert "sleep 300" in top
    stats = out(engine.skiff("stats", "--no-stream", name)).splitlines()
    assert stats[0].split()[:4] == ["CONTAINER", "ID", "NAME", "CPU"]
    assert name in stats[1]


def test_run_tty_through_a_pty(engine):
    pid, fd = spawn_skiff_in_pty(engine, "run", "--rm", "-it", "busybox", "sh", "-c", "tty; exit 7")
    data = read_to_eof(fd)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 7
    assert b"/dev/pts/" in data


def test_no_engine_answers(tmp_path):
    sock = f"unix://{tmp_path}/nothing.sock"
    p = subprocess.run([sys.executable, "-m", "skiff", "-H", sock, "ps"], capture_output=True)
    assert p.returncode == 1
    assert p.stderr.decode() == f"Cannot connect to the skiff engine at {sock}. Is the skiff engine running?\n"
