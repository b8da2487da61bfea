"""The lean `skiff` launcher: the script it writes, and that it starts commands without `site`."""

import os
import subprocess
import sys
from pathlib import Path

from skiff.cli import launcher

SRC = str(Path(launcher.__file__).resolve().parents[2])


def test_render_runs_python_without_site_and_puts_skiff_first():
    text = launcher.render("/opt/venv/bin/python", "/opt/src")
    assert text.startswith("#!/opt/venv/bin/python -SE\n")
    assert "sys.path.insert(0, '/opt/src')" in text and text.rstrip().endswith("launch()")


def test_render_falls_back_to_sh_for_paths_a_shebang_cannot_carry():
    text = launcher.render("/opt/my venv/bin/python", "/opt/src")
    assert text.startswith("#!/bin/sh\n'''exec' '/opt/my venv/bin/python' -SE \"$0\" \"$@\"\n")
    long_path = "/opt/" + "x" * 300 + "/python"
    assert launcher.render(long_path, "/opt/src").startswith("#!/bin/sh\n")


def _launch(tmp_path: Path, *args: str, python: str = sys.executable) -> subprocess.CompletedProcess:
    path = tmp_path / "skiff"
    launcher.install(str(path), python=python, src_dir=SRC)
    assert os.stat(path).st_mode & 0o777 == 0o755
    env = {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"}
    return subprocess.run([str(path), *args], capture_output=True, env=env, timeout=60)


def test_launched_client_command_never_loads_site(tmp_path):
    # `version` with no engine: the client part prints, then the connection error; exit 1.
    p = _launch(tmp_path, "-H", f"unix://{tmp_path}/none.sock", "version")
    assert p.returncode == 1
    assert p.stdout.startswith(b"Client:\n Version:")
    assert b"Is the skiff engine running?" in p.stderr


def test_launched_usage_error_keeps_its_exit_code(tmp_path):
    p = _launch(tmp_path, "nosuch")
    assert p.returncode == 1 and b"unknown command: skiff nosuch" in p.stderr


def test_daemon_commands_get_site_packages(tmp_path):
    p = _launch(tmp_path, "engine", "--help")  # imports aiohttp, from site-packages
    assert p.returncode == 0, p.stderr.decode()
    assert p.stdout.startswith(b"usage: skiff engine")


def test_a_third_party_import_adds_site_packages_on_demand(tmp_path):
    code = (f"import sys; sys.path.insert(0, {SRC!r})\n"
            "from skiff.cli import main\n"
            "assert 'site' not in sys.modules\n"
            "sys.meta_path.append(main._SiteOnDemand)\n"
            "import yaml\n"
            "print(yaml.safe_load('a: 1')['a'], 'site' in sys.modules, main._SiteOnDemand in sys.meta_path)\n")
    p = subprocess.run([sys.executable, "-SE", "-c", code], capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr.decode()
    assert p.stdout == b"1 True False\n"
