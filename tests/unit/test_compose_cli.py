"""`skiff compose` commands that need no engine: help, config, version, and error reporting."""

import textwrap

import pytest
import yaml

from skiff.cli.commands.compose import COMMANDS, main


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COMPOSE_FILE", raising=False)
    monkeypatch.delenv("COMPOSE_PROJECT_NAME", raising=False)

    def write(text: str, name: str = "docker-compose.yml"):
        (tmp_path / name).write_text(textwrap.dedent(text))
        return tmp_path
    return write


def run(capsys, *args, prog="compose"):
    code = main(list(args), prog)
    out, err = capsys.readouterr()
    return code, out, err


def test_help_for_every_command(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "Usage:\n  skiff compose [-f <arg>...]" in out
    for name in COMMANDS:
        if name == "help":
            continue
        code, out, _ = run(capsys, name, "--help")
        assert code == 0, name
        assert f"Usage: skiff compose {name} " in out
    code, out, _ = run(capsys, "help", "up", prog="fig")
    assert code == 0 and "Usage: skiff fig up [options]" in out and "--abort-on-container-exit" in out


def test_unknown_command_and_flag(capsys, project):
    code, _, err = run(capsys, "frobnicate")
    assert code == 1 and err.startswith("No such command: frobnicate")
    project("services: {web: {image: busybox}}\n")
    code, _, err = run(capsys, "up", "--no-such-flag")
    assert code == 1 and err.startswith("unknown flag: --no-such-flag")


def test_config_prints_the_resolved_project(capsys, project, monkeypatch):
    monkeypatch.setenv("TAG", "1.36")
    project("""
        version: "3.8"
        services:
          web:
            image: "busybox:${TAG}"
            ports: ["8080:80"]
          db:
            image: busybox
        volumes:
          data: {}
        """)
    code, out, _ = run(capsys, "config")
    assert code == 0
    doc = yaml.safe_load(out)
    assert doc["services"]["web"] == {"image": "busybox:1.36", "ports": ["8080:80"]}
    assert doc["version"] == "3.8" and doc["volumes"] == {"data": {}}
    assert run(capsys, "config", "--services")[1] == "web\ndb\n"
    assert run(capsys, "config", "--volumes")[1] == "data\n"
    assert run(capsys, "config", "-q")[1] == ""
    code, out, _ = run(capsys, "config", "--hash", "web")
    assert code == 0 and out.startswith("web ") and len(out.split()[1]) == 64


def test_file_flag_project_name_and_ps_services(capsys, project, tmp_path):
    project("services:\n  a: {image: x}\n", "one.yml")
    project("services:\n  b: {image: x, depends_on: [a]}\n", "two.yml")
    code, out, _ = run(capsys, "-f", "one.yml", "--file", "two.yml", "-p", "Demo", "config", "--services")
    assert code == 0 and out == "a\nb\n"
    code, out, _ = run(capsys, "-f", "one.yml", "-f", "two.yml", "ps", "--services")
    assert code == 0 and out == "a\nb\n"


def test_errors_are_reported_like_docker_compose(capsys, project):
    project("services:\n  web:\n    image: busybox\n    prots: ['80']\n")
    code, _, err = run(capsys, "config")
    assert code == 1
    assert err == ("ERROR: The Compose file './docker-compose.yml' is invalid because:\n"
                   "Unsupported config option for services.web: 'prots'\n")
    project("services:\n  web:\n    image: busybox\n    links: [db]\n")
    code, _, err = run(capsys, "config")
    assert (code, err) == (1, "ERROR: Service 'web' has a link to service 'db' which is undefined.\n")
    project("services:\n  web:\n  image: busybox\n   oops: 1\n")
    code, _, err = run(capsys, "config")
    assert code == 1 and err.startswith("ERROR: yaml.") and 'in "./docker-compose.yml", line 4, column 8' in err
    project("services: {web: {image: busybox}}\n")
    code, _, err = run(capsys, "logs", "nosuch")
    assert (code, err) == (1, "ERROR: No such service: nosuch\n")


def test_no_compose_file(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COMPOSE_FILE", raising=False)
    code, _, err = run(capsys, "ps")
    assert code == 1 and "Can't find a suitable configuration file in this directory or any" in err


def test_version(capsys):
    code, out, _ = run(capsys, "version")
    assert code == 0 and out.startswith("skiff compose version ") and "docker-compose 1.29.2 compatible" in out
    assert run(capsys, "--version")[1] == out


def test_routing_from_the_skiff_entry_point(capsys, project):
    from skiff.cli import docker
    from skiff.cli.main import main as skiff_main

    assert skiff_main(["fig", "version", "--short"]) == 0
    assert capsys.readouterr().out.strip()
    project("services: {web: {image: busybox}}\n")
    # global flags before the command reach compose (no engine there: compose says so, exit 1)
    assert docker.main(["-H", "unix:///nonexistent/engine.sock", "compose", "ps"]) == 1
    assert "unix:///nonexistent/engine.sock" in capsys.readouterr().err
