"""The C shim on its own (no root): json-file lines, escaping, partial lines, rotation,
exit.json, and --run mode picking up an orphan as its child."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from skiff.engine.runtime.shimbin import ensure_shim

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is needed to build the shim")


@pytest.fixture(scope="module")
def shim(tmp_path_factory) -> str:
    return ensure_shim(str(tmp_path_factory.mktemp("bin")))


def run_shim(shim: str, tmp, script: str, *extra: str) -> tuple[dict, list[dict], str]:
    """Run `script` in sh as an orphan the shim adopts; returns (exit.json, log lines, raw log)."""
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    pid_file = tmp / "pid"
    log = tmp / "c.log"
    runner = f"(sleep 0.2; {script}) & echo $! > {pid_file}"
    argv = [shim, "--exit-file", str(tmp / "exit.json"), "--stdout-fd", str(out_r), "--stderr-fd", str(err_r),
            "--log", str(log), "--pid-file", str(pid_file), *extra, "--run", "sh", "-c", runner]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out_w, stderr=err_w, pass_fds=(out_r, err_r))
    for fd in (out_r, out_w, err_r, err_w):
        os.close(fd)
    assert proc.wait(timeout=30) == 0
    raw = log.read_text() if log.exists() else ""
    return json.loads((tmp / "exit.json").read_text()), [json.loads(line) for line in raw.splitlines()], raw


def test_lines_streams_and_exit_code(shim, tmp_path):
    ex, lines, _ = run_shim(shim, tmp_path, "echo one; echo two >&2; printf 'no newline'; exit 7")
    assert ex["exit_code"] == 7 and ex["signal"] == 0 and ex["oom_killed"] is False
    assert [(entry["log"], entry["stream"]) for entry in lines] == [("one\n", "stdout"), ("two\n", "stderr"), ("no newline", "stdout")]
    assert all(entry["time"].endswith("Z") and len(entry["time"]) == 30 for entry in lines)


def test_signal_exit_is_128_plus_signal(shim, tmp_path):
    ex, _, _ = run_shim(shim, tmp_path, "exec sh -c 'kill -TERM $$'")
    assert (ex["exit_code"], ex["signal"]) == (143, 15)


def test_escaping_like_go(shim, tmp_path):
    _, lines, raw = run_shim(shim, tmp_path, r"""printf '<a&b>\t"q"\\ \001 caf\303\251 bad:\377\n'""")
    assert lines[0]["log"] == '<a&b>\t"q"\\ \x01 café bad:\ufffd\n'
    assert "\\u003ca\\u0026b\\u003e" in raw and "\\u0001" in raw


def test_long_line_is_split_at_16k(shim, tmp_path):
    _, lines, _ = run_shim(shim, tmp_path, "head -c 40000 /dev/zero | tr '\\0' x; echo")
    sizes = [len(entry["log"]) for entry in lines]
    assert sizes == [16384, 16384, 40000 - 32768 + 1]
    assert "".join(entry["log"] for entry in lines) == "x" * 40000 + "\n"


def test_rotation_keeps_max_files(shim, tmp_path):
    script = "i=0; while [ $i -lt 300 ]; do echo line$i; i=$((i+1)); done"
    run_shim(shim, tmp_path, script, "--log-max-size", "1000", "--log-max-file", "2")
    log = tmp_path / "c.log"
    assert log.exists() and (tmp_path / "c.log.1").exists() and not (tmp_path / "c.log.2").exists()
    assert os.path.getsize(log) <= 1000 and os.path.getsize(tmp_path / "c.log.1") <= 1000
    last = [json.loads(line)["log"] for line in log.read_text().splitlines()]
    assert last[-1] == "line299\n"


def run_with_pid_file(shim, tmp_path, runner: str, pid_file) -> int:
    """Run the shim on `sh -c runner`, which leaves the pid of the process to watch in
    `pid_file`; the shim must exit 0, and this returns the exit code it recorded."""
    out_r, out_w = os.pipe()
    argv = [shim, "--exit-file", str(tmp_path / "exit.json"), "--stdout-fd", str(out_r),
            "--pid-file", str(pid_file), "--run", "sh", "-c", runner]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out_w, pass_fds=(out_r,))
    os.close(out_r)
    os.close(out_w)
    assert proc.wait(timeout=30) == 0
    return json.loads((tmp_path / "exit.json").read_text())["exit_code"]


def test_child_that_exits_before_the_runner_is_still_seen(shim, tmp_path):
    """`runc exec -d` can leave a process that is already gone when runc itself exits."""
    pid_file = tmp_path / "pid"
    # the process ends while its parent is `sleep` (which never reaps), then that exits
    runner = f"sh -c 'sleep 0.2; exit 5' & echo $! > {pid_file}; exec sleep 0.5"
    assert run_with_pid_file(shim, tmp_path, runner, pid_file) == 5


def test_a_process_that_never_becomes_our_child_still_ends_the_shim(shim, tmp_path):
    """If the pid-file process stays some other process's child, a pidfd still reports its
    end (with the status lost: 255) instead of the shim waiting forever."""
    pid_file = tmp_path / "pid"
    runner = f"sh -c 'sleep 0.5 & echo $! > {pid_file}; wait' & sleep 0.2"
    assert run_with_pid_file(shim, tmp_path, runner, pid_file) == 255
