"""The `skiff` command's launcher: a script that starts Python lean.

pip's console-script wrapper runs the interpreter with `site` (every .pth file of the
virtualenv) and imports `re` before skiff's code runs: ~5 ms of every `skiff run`, on a
command whose whole client cost should stay near docker's. This launcher runs
`python -SE` with skiff's own directory on sys.path, and `cli.main.launch` adds
site-packages only for a command that imports a third-party package (the daemons do).

    python -m skiff.cli.launcher .venv/bin/skiff     # what scripts/install.sh runs
"""

from __future__ import annotations

import os
import sys

# Linux reads at most this much of a #! line (BINPRM_BUF_SIZE); longer ones need /bin/sh.
SHEBANG_MAX = 255


def render(python: str, src_dir: str) -> str:
    """The launcher script for this interpreter and the directory skiff is imported from."""
    body = (
        "# skiff's launcher, written by `python -m skiff.cli.launcher` (scripts/install.sh):\n"
        "# Python without `site`; skiff adds site-packages only for commands that need them.\n"
        "import sys\n"
        f"sys.path.insert(0, {src_dir!r})\n"
        "from skiff.cli.main import launch\n"
        "launch()\n"
    )
    line = f"#!{python} -SE\n"
    if len(line) <= SHEBANG_MAX and " " not in python:
        return line + body
    # pip's trick for interpreter paths a #! line cannot carry: sh execs Python on this file.
    quoted = python.replace("'", "'\"'\"'")
    return f"#!/bin/sh\n'''exec' '{quoted}' -SE \"$0\" \"$@\"\n' '''\n" + body


def skiff_dir() -> str:
    """The directory that holds the `skiff` package in this interpreter (src/ when editable)."""
    import skiff

    return os.path.dirname(os.path.dirname(os.path.abspath(skiff.__file__)))


def install(path: str, python: str | None = None, src_dir: str | None = None) -> None:
    """Write the launcher at path (replacing pip's wrapper), atomically, mode 0755."""
    text = render(python or sys.executable, src_dir or skiff_dir())
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o755)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] in ("-h", "--help"):
        sys.stderr.write("Usage:  python -m skiff.cli.launcher PATH\n\n"
                         "Write the lean `skiff` launcher at PATH for this interpreter.\n")
        return 0 if args and args[0] in ("-h", "--help") else 2
    install(args[0])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
