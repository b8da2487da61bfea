"""Command routing, help and usage errors of the docker-style client (no engine needed)."""

import pytest

from skiff.cli.docker import CANONICAL, TOP_LEVEL, main


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_every_command_has_a_spec_and_help(capsys):
    import importlib

    for (group, name), (module, _) in CANONICAL.items():
        spec = importlib.import_module("skiff.cli.commands." + module).COMMANDS[name]
        path = f"{group} {name}".strip()
        code, out, _ = run(capsys, *path.split(), "--help")
        assert code == 0 and out.startswith(f"Usage:  skiff {path} {spec.usage}"), path
    for top, key in TOP_LEVEL.items():
        assert key in CANONICAL, top


def test_global_help_and_group_help(capsys):
    code, out, _ = run(capsys)
    assert code == 0 and out.startswith("Usage:  skiff [OPTIONS] COMMAND")
    code, out, _ = run(capsys, "volume")
    assert code == 0 and "  prune       Remove unused local volumes" in out


def test_aliases_are_listed(capsys):
    _, out, _ = run(capsys, "ps", "--help")
    assert "skiff container ls, skiff container list, skiff container ps, skiff ps" in out


@pytest.mark.parametrize("argv, code, first_line", [
    (["frob"], 1, "skiff: unknown command: skiff frob"),
    (["container", "frob"], 1, "skiff: unknown command: skiff container frob"),
    (["ps", "--foo"], 125, "unknown flag: --foo"),
    (["run", "-e"], 125, "flag needs an argument: 'e' in -e"),
    (["ps", "x"], 1, "skiff: 'skiff ps' accepts no arguments"),
    (["run"], 1, "skiff: 'skiff run' requires at least 1 argument"),
    (["rename", "a"], 1, "skiff: 'skiff rename' requires 2 arguments"),
    (["port"], 1, "skiff: 'skiff port' requires at least 1 and at most 2 arguments"),
    (["--bogus"], 125, "unknown flag: --bogus"),
])
def test_usage_errors(capsys, argv, code, first_line):
    got, out, err = run(capsys, *argv)
    assert got == code
    assert err.splitlines()[0] == first_line
    assert out == ""


def test_no_engine(capsys, tmp_path):
    host = f"unix://{tmp_path}/none.sock"
    code, _, err = run(capsys, "-H", host, "ps")
    assert (code, err) == (1, f"Cannot connect to the skiff engine at {host}. Is the skiff engine running?\n")
    code, _, err = run(capsys, "-H", host, "run", "busybox")
    assert code == 125
    assert err.startswith(f"skiff: Cannot connect to the skiff engine at {host}.")


def test_bad_flag_values_are_reported_before_contacting_the_engine(capsys, tmp_path):
    host = f"unix://{tmp_path}/none.sock"
    code, _, err = run(capsys, "-H", host, "run", "--memory", "1x", "busybox")
    assert code == 125
    assert err.startswith('invalid argument "1x" for "-m, --memory" flag: invalid suffix')
    code, _, err = run(capsys, "-H", host, "run", "-p", "99999", "busybox")
    assert code == 125 and err.startswith("skiff: invalid containerPort: 99999")


def test_version_flag(capsys):
    code, out, _ = run(capsys, "-v")
    assert code == 0 and out.startswith("skiff version ")
