"""Every command and subcommand of `skiff` answers --help with its usage (exit 0), and refuses an
unknown flag the way the real tool does: the docker-style client with 125 and "unknown flag",
`skiff kubectl` with 1 and "Error: unknown flag" (kubectl 1.32's wording), compose with 1.

The lists are walked from the command tables themselves (cli/main.py, cli/docker.py,
cli/kubectl, cli/commands/compose.py), so a command added later is covered without a test edit.
Run in-process: no engine or server is needed to ask for help.
"""

from __future__ import annotations

import pytest

from skiff.cli import docker, kubectl
from skiff.cli import main as entry
from skiff.cli.commands import compose

BAD = "--no-such-flag"


def _docker_paths() -> list[list[str]]:
    paths = [[name] for name in docker.TOP_LEVEL]
    paths += [[group, sub] if group else [sub] for group, sub in docker.CANONICAL]
    paths += [[group, alias] for group, aliases in docker.GROUP_ALIASES.items() for alias in aliases]
    return paths


DOCKER_PATHS = _docker_paths()
GROUPS = [[group] for group in docker.GROUPS]
KUBECTL_WORDS = [["kubectl", word] for word in kubectl.COMMANDS]
COMPOSE_PATHS = [[prog, name] for prog in ("compose", "fig") for name in compose.COMMANDS]
DAEMONS = [[name] for name in entry.DAEMONS]


def _ids(paths: list[list[str]]) -> list[str]:
    return [" ".join(p) for p in paths]


def run(capsys, argv: list[str]) -> tuple[int, str, str]:
    try:
        code = entry.main(argv)
    except SystemExit as e:  # argparse's --help and errors
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    out, err = capsys.readouterr()
    return code, out, err


def test_the_walk_covers_every_table():
    """The walk is not empty and reaches the families a user meets first."""
    walked = {" ".join(p) for p in DOCKER_PATHS + GROUPS + KUBECTL_WORDS + COMPOSE_PATHS + DAEMONS}
    for expected in ("run", "container ls", "image build", "network create", "volume prune", "system df",
                     "engine", "server", "agent", "registry", "kubectl get", "kubectl rollout", "compose up", "fig ps"):
        assert expected in walked


@pytest.mark.parametrize("path", DOCKER_PATHS + GROUPS + KUBECTL_WORDS + COMPOSE_PATHS + DAEMONS,
                         ids=_ids(DOCKER_PATHS + GROUPS + KUBECTL_WORDS + COMPOSE_PATHS + DAEMONS))
def test_help_prints_usage_and_exits_0(capsys, path):
    code, out, err = run(capsys, [*path, "--help"])
    assert code == 0, err
    assert "usage" in out.lower(), out[:300]


def test_global_help_lists_the_other_families(capsys):
    code, out, _ = run(capsys, ["--help"])
    assert code == 0 and out.startswith("Usage:  skiff [OPTIONS] COMMAND")
    for family in ("engine", "compose", "kubectl", "container", "image"):
        assert f"\n  {family} " in out


@pytest.mark.parametrize("path", DOCKER_PATHS + GROUPS, ids=_ids(DOCKER_PATHS + GROUPS))
def test_docker_style_unknown_flag_exits_125(capsys, path):
    code, out, err = run(capsys, [*path, BAD])
    assert code == 125
    assert err.startswith(f"unknown flag: {BAD}\n\nUsage:  skiff {' '.join(path)}")
    assert f"Run 'skiff {' '.join(path)} --help' for more information" in err
    assert out == ""


def test_docker_style_unknown_shorthand_on_a_group(capsys):
    code, _, err = run(capsys, ["container", "-x"])
    assert code == 125 and err.startswith("unknown shorthand flag: 'x' in -x\n")


@pytest.mark.parametrize("path", KUBECTL_WORDS, ids=_ids(KUBECTL_WORDS))
def test_kubectl_unknown_flag_exits_1_before_anything_else(capsys, path):
    """Checked before required arguments and before any request, as cobra does."""
    code, out, err = run(capsys, [*path, BAD])
    assert code == 1
    assert err == f"Error: unknown flag: {BAD}\nSee 'kubectl {path[1]} --help' for usage.\n"
    assert out == ""


@pytest.mark.parametrize("word", ["config", "rollout", "set", "top", "auth"])
def test_kubectl_group_without_subcommand_prints_help_to_stderr_and_exits_1(capsys, word):
    code, out, err = run(capsys, ["kubectl", word])
    assert code == 1 and out == ""
    assert f"Usage:\n  kubectl {word} " in err


@pytest.mark.parametrize("path", [p for p in COMPOSE_PATHS if p[1] != "help"],
                         ids=_ids([p for p in COMPOSE_PATHS if p[1] != "help"]))
def test_compose_unknown_flag_exits_1_with_the_command_help(capsys, path):
    code, _, err = run(capsys, [*path, BAD])
    assert code == 1
    assert err.startswith(f"unknown flag: {BAD}\n") and f"Usage: skiff {path[0]} {path[1]}" in err


@pytest.mark.parametrize("path", DAEMONS, ids=_ids(DAEMONS))
def test_daemon_unknown_flag_is_refused_with_usage(capsys, path):
    code, out, err = run(capsys, [*path, BAD])
    assert code != 0 and out == ""
    assert err.startswith(f"usage: skiff {path[0]}")
