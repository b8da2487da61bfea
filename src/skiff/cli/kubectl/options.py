"""Flag parsing shared by every command: kubectl's global flags, anywhere on the line."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

# global flags that take a value (so the word after them is not the command)
VALUE_FLAGS = {"-n", "--namespace", "--kubeconfig", "--context", "-s", "--server", "--token", "--cluster",
               "--user", "--request-timeout", "-v", "--v", "--cache-dir", "--as", "--as-group",
               "--certificate-authority", "--client-certificate", "--client-key", "--username", "--password"}


def command_word(argv: list[str]) -> int | None:
    """Index of the command word: the first argument that is neither a flag nor a flag's value."""
    skip = False
    for i, arg in enumerate(argv):
        if skip:
            skip = False
            continue
        if arg.startswith("-"):
            skip = arg in VALUE_FLAGS
            continue
        return i
    return None


class Parser(argparse.ArgumentParser):
    """argparse with kubectl's error wording and exit code (1); an unknown flag is reported
    before missing arguments, as cobra checks flags first."""

    def parse_args(self, args=None, namespace=None):
        self._reject_unknown_flag(args)
        return super().parse_args(args, namespace)

    def parse_intermixed_args(self, args=None, namespace=None):
        self._reject_unknown_flag(args)
        return super().parse_intermixed_args(args, namespace)

    def _reject_unknown_flag(self, args: list[str] | None) -> None:
        for arg in args or ():
            if arg == "--":
                return
            name = arg.split("=", 1)[0]
            if name.startswith("--") and len(name) > 2 and not any(o.startswith(name) for o in self._option_string_actions):
                self.error(f"unrecognized arguments: {name}")

    def error(self, message: str) -> NoReturn:
        if message.startswith("unrecognized arguments:"):
            flag = message.split(":", 1)[1].strip().split()[0].split("=", 1)[0]
            sys.stderr.write(f"Error: unknown flag: {flag}\nSee '{self.prog} --help' for usage.\n")
            raise SystemExit(1)
        sys.stderr.write(f"error: {message}\nSee '{self.prog} --help' for usage.\n")
        raise SystemExit(1)


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter, given the width so that it does not import shutil to ask."""

    def __init__(self, prog: str):
        import os

        try:
            width = os.get_terminal_size().columns
        except OSError:
            width = 80
        super().__init__(prog, width=width - 2)


def parser(command: str, description: str, usage: str | None = None) -> Parser:
    p = Parser(prog=f"kubectl {command}", description=description, usage=usage, add_help=True,
               formatter_class=_Formatter)
    g = p.add_argument_group("global options")
    g.add_argument("-n", "--namespace", help="If present, the namespace scope for this CLI request")
    g.add_argument("--kubeconfig", help="Path to the kubeconfig file to use for CLI requests.")
    g.add_argument("--context", help="The name of the kubeconfig context to use")
    g.add_argument("--cluster", help="The name of the kubeconfig cluster to use")
    g.add_argument("--user", help="The name of the kubeconfig user to use")
    g.add_argument("-s", "--server", help="The address and port of the Kubernetes API server")
    g.add_argument("--token", help="Bearer token for authentication to the API server")
    g.add_argument("--as", dest="as_user", default="",
                   help="Username to impersonate for the operation. User could be a regular user or a service "
                        "account in a namespace.")
    g.add_argument("--as-group", dest="as_groups", action="append", default=[],
                   help="Group to impersonate for the operation, this flag can be repeated to specify multiple groups.")
    g.add_argument("--as-uid", dest="as_uid", default="", help="UID to impersonate for the operation.")
    g.add_argument("--insecure-skip-tls-verify", action="store_true", default=None,
                   help="If true, the server's certificate will not be checked for validity.")
    g.add_argument("--request-timeout", default="0", help="The length of time to wait before giving up on a single request")
    g.add_argument("-v", "--v", dest="verbosity", default="0", help="number for the log level verbosity")
    return p


def add_filename(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("-f", "--filename", action="append", default=[], help=f"Filename, directory, or URL to files {what}")
    p.add_argument("-R", "--recursive", action="store_true", help="Process the directory used in -f recursively.")


def add_selector(p: argparse.ArgumentParser) -> None:
    p.add_argument("-l", "--selector", help="Selector (label query) to filter on, e.g. -l key1=value1,key2=value2")
    p.add_argument("--field-selector", help="Selector (field query) to filter on, e.g. --field-selector key1=value1")


def add_output(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", default="", help="Output format: json|yaml|name|jsonpath=...|custom-columns=...")


def add_dry_run(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dry-run", nargs="?", const="client", default="none", choices=("none", "client", "server"),
                   help='Must be "none", "server", or "client".')


def parse_bool(value: str) -> bool:
    return value.lower() in ("true", "1", "yes", "t")


def split_csv(values: list[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        out.extend(v for v in value.split(",") if v)
    return out


# kubectl's commands in the order cobra keeps them (kubectl turns cobra's sorting off), for
# the "Did you mean this?" of an unknown command.
KUBECTL_COMMANDS = ("create", "expose", "run", "set", "explain", "get", "edit", "delete", "rollout", "scale",
                    "autoscale", "certificate", "cluster-info", "top", "cordon", "uncordon", "drain", "taint",
                    "describe", "logs", "attach", "exec", "port-forward", "proxy", "cp", "auth", "debug", "events",
                    "diff", "apply", "patch", "replace", "wait", "kustomize", "label", "annotate", "completion",
                    "alpha", "api-resources", "api-versions", "config", "plugin", "version", "options")


def _distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def unknown_command_text(word: str) -> str:
    """cobra's message for an unknown command, suggestions within two edits or by prefix. Pure."""
    low = word.lower()
    near = [c for c in KUBECTL_COMMANDS if _distance(low, c) <= 2 or c.startswith(low)]
    text = f'Error: unknown command "{word}" for "kubectl"\n'
    if near:
        text += "\nDid you mean this?\n" + "".join(f"\t{c}\n" for c in near) + "\n"
    return text


def group_help(parent: str, help_text: str, argv: list[str], usage: str = "SUBCOMMAND [options]") -> int:
    """A parent command (config, rollout, set, top, auth) given no subcommand: its help, or
    cobra's unknown-flag error (exit 1) for a flag it does not know. Asked with --help, the
    help goes to stdout (exit 0); with no subcommand at all, to stderr (exit 1), as kubectl does."""
    flags = [a for a in argv if a not in ("-h", "--help")]
    parser(parent, help_text).parse_args(flags)
    asked = len(flags) < len(argv)
    (sys.stdout if asked else sys.stderr).write(f"{help_text}\n\nUsage:\n  kubectl {parent} {usage}\n\n"
                     f'Use "kubectl {parent} <command> --help" for more information about a given command.\n')
    return 0 if asked else 1


def unknown_subcommand(parent: str, words: list[str]) -> int:
    """cobra's wording when a parent command (rollout, set, top) gets an unknown subcommand: the
    remaining positional words quoted together. Returns the exit code."""
    import sys

    text = " ".join(w for w in words if not w.startswith("-"))
    sys.stderr.write(f'error: unknown command "{text}"\nSee \'kubectl {parent} -h\' for help and examples\n')
    return 1
