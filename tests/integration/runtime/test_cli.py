"""`skiff runtime` on the command line: runc's verbs and state JSON."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.integration.runtime.bundles import spec, write_bundle
from tests.integration.runtime.fixtures import remove_prefix_cgroups

pytestmark = pytest.mark.root


def skiff_runtime(root, *args, check=True):
    cmd = [sys.executable, "-m", "skiff", "runtime", "--root", str(root), "--prefix", "sktcli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=check)


@pytest.fixture
def cli_root(tmp_path):
    yield tmp_path / "state"
    listing = skiff_runtime(tmp_path / "state", "list", check=False).stdout.splitlines()[1:]
    for line in listing:
        skiff_runtime(tmp_path / "state", "delete", "--force", line.split()[0], check=False)
    remove_prefix_cgroups("sktcli")


def test_run_copies_output_and_exits_with_the_code(cli_root, tmp_path, busybox_rootfs):
    b = write_bundle(tmp_path / "b", spec(["sh", "-c", "echo out; echo err >&2; exit 6"]), busybox_rootfs)
    p = skiff_runtime(cli_root, "run", "--bundle", str(b), "r1", check=False)
    assert (p.returncode, p.stdout, p.stderr) == (6, "out\n", "err\n"), p.stderr


def test_create_start_state_kill_delete(cli_root, tmp_path, busybox_rootfs):
    b = write_bundle(tmp_path / "b", spec(["sleep", "60"]), busybox_rootfs)
    skiff_runtime(cli_root, "create", "--bundle", str(b), "c1")
    state = json.loads(skiff_runtime(cli_root, "state", "c1").stdout)
    assert state["status"] == "created" and state["id"] == "c1" and state["pid"] > 0
    skiff_runtime(cli_root, "start", "c1")
    assert json.loads(skiff_runtime(cli_root, "state", "c1").stdout)["status"] == "running"
    assert "c1" in skiff_runtime(cli_root, "list").stdout
    p = skiff_runtime(cli_root, "exec", "c1", "sh", "-c", "echo $$ from exec", check=False)
    assert p.stdout.endswith("from exec\n"), p.stderr
    p = skiff_runtime(cli_root, "delete", "c1", check=False)
    assert p.returncode != 0 and "not stopped" in p.stderr
    skiff_runtime(cli_root, "kill", "--all", "c1", "KILL")
    skiff_runtime(cli_root, "delete", "--force", "c1")
    p = skiff_runtime(cli_root, "state", "c1", check=False)
    assert p.returncode != 0 and "does not exist" in p.stderr


def test_missing_command_exit_127(cli_root, tmp_path, busybox_rootfs):
    b = write_bundle(tmp_path / "b", spec(["nosuch"]), busybox_rootfs)
    p = skiff_runtime(cli_root, "run", "--bundle", str(b), "r1", check=False)
    assert p.returncode == 127
    assert 'exec: "nosuch": executable file not found in $PATH' in p.stderr
