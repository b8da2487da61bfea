"""The docker-style `skiff` client: global options, command routing, help, and error exits.

Each command lives in a module under `skiff.cli.commands` and is imported only when used,
so `skiff run` loads only what running a container needs.
"""

from __future__ import annotations

import os
import sys

from skiff.cli.flags import UsageError, format_flags, parse, parse_table

# Canonical commands: (group, name) → (module under skiff.cli.commands, one-line description).
CANONICAL: dict[tuple[str, str], tuple[str, str]] = {
    ("container", "attach"): ("container_io", "Attach local standard input, output, and error streams to a running container"),
    ("container", "commit"): ("container_io", "Create a new image from a container's changes"),
    ("container", "cp"): ("container_io", "Copy files/folders between a container and the local filesystem"),
    ("container", "create"): ("container_run", "Create a new container"),
    ("container", "diff"): ("container_info", "Inspect changes to files or directories on a container's filesystem"),
    ("container", "exec"): ("container_io", "Execute a command in a running container"),
    ("container", "export"): ("container_io", "Export a container's filesystem as a tar archive"),
    ("container", "inspect"): ("container_info", "Display detailed information on one or more containers"),
    ("container", "kill"): ("container_life", "Kill one or more running containers"),
    ("container", "logs"): ("container_info", "Fetch the logs of a container"),
    ("container", "ls"): ("container_info", "List containers"),
    ("container", "pause"): ("container_life", "Pause all processes within one or more containers"),
    ("container", "port"): ("container_info", "List port mappings or a specific mapping for the container"),
    ("container", "prune"): ("container_life", "Remove all stopped containers"),
    ("container", "rename"): ("container_life", "Rename a container"),
    ("container", "restart"): ("container_life", "Restart one or more containers"),
    ("container", "rm"): ("container_life", "Remove one or more containers"),
    ("container", "run"): ("container_run", "Create and run a new container from an image"),
    ("container", "start"): ("container_run", "Start one or more stopped containers"),
    ("container", "stats"): ("container_info", "Display a live stream of container(s) resource usage statistics"),
    ("container", "stop"): ("container_life", "Stop one or more running containers"),
    ("container", "top"): ("container_info", "Display the running processes of a container"),
    ("container", "unpause"): ("container_life", "Unpause all processes within one or more containers"),
    ("container", "update"): ("container_life", "Update configuration of one or more containers"),
    ("container", "wait"): ("container_life", "Block until one or more containers stop, then print their exit codes"),
    ("image", "build"): ("build", "Build an image from a Dockerfile"),
    ("image", "history"): ("images", "Show the history of an image"),
    ("image", "import"): ("images", "Import the contents from a tarball to create a filesystem image"),
    ("image", "inspect"): ("images", "Display detailed information on one or more images"),
    ("image", "load"): ("images", "Load an image from a tar archive or STDIN"),
    ("image", "ls"): ("images", "List images"),
    ("image", "prune"): ("images", "Remove unused images"),
    ("image", "pull"): ("registries", "Download an image from a registry"),
    ("image", "push"): ("registries", "Upload an image to a registry"),
    ("image", "rm"): ("images", "Remove one or more images"),
    ("image", "save"): ("images", "Save one or more images to a tar archive (streamed to STDOUT by default)"),
    ("image", "tag"): ("images", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"),
    ("volume", "create"): ("volumes", "Create a volume"),
    ("volume", "inspect"): ("volumes", "Display detailed information on one or more volumes"),
    ("volume", "ls"): ("volumes", "List volumes"),
    ("volume", "prune"): ("volumes", "Remove unused local volumes"),
    ("volume", "rm"): ("volumes", "Remove one or more volumes"),
    ("network", "connect"): ("network", "Connect a container to a network"),
    ("network", "create"): ("network", "Create a network"),
    ("network", "disconnect"): ("network", "Disconnect a container from a network"),
    ("network", "inspect"): ("network", "Display detailed information on one or more networks"),
    ("network", "ls"): ("network", "List networks"),
    ("network", "prune"): ("network", "Remove all unused networks"),
    ("network", "rm"): ("network", "Remove one or more networks"),
    ("system", "df"): ("system", "Show skiff disk usage"),
    ("system", "events"): ("system", "Get real time events from the server"),
    ("system", "info"): ("system", "Display system-wide information"),
    ("system", "prune"): ("system", "Remove unused data"),
    ("", "version"): ("system", "Show the skiff version information"),
    ("", "inspect"): ("system", "Return low-level information on skiff objects"),
    ("", "login"): ("registries", "Authenticate to a registry"),
    ("", "logout"): ("registries", "Log out from a registry"),
    ("", "search"): ("registries", "Search Docker Hub for images"),
}

# Sub-command aliases inside a group (docker container list == ls, image remove == rm, ...).
GROUP_ALIASES = {
    "container": {"list": "ls", "ps": "ls", "remove": "rm"},
    "image": {"list": "ls", "remove": "rm", "rmi": "rm"},
    "volume": {"list": "ls", "remove": "rm"},
    "network": {"list": "ls", "remove": "rm"},
}

GROUPS = {
    "container": "Manage containers",
    "image": "Manage images",
    "volume": "Manage volumes",
    "network": "Manage networks",
    "system": "Manage skiff",
}

# Top-level names → canonical command.
TOP_LEVEL = {
    "run": ("container", "run"), "exec": ("container", "exec"), "ps": ("container", "ls"),
    "build": ("image", "build"), "pull": ("image", "pull"), "push": ("image", "push"),
    "images": ("image", "ls"), "login": ("", "login"), "logout": ("", "logout"), "search": ("", "search"),
    "version": ("", "version"), "info": ("system", "info"),
    "attach": ("container", "attach"), "commit": ("container", "commit"), "cp": ("container", "cp"),
    "create": ("container", "create"), "diff": ("container", "diff"), "events": ("system", "events"),
    "export": ("container", "export"), "history": ("image", "history"), "import": ("image", "import"),
    "inspect": ("", "inspect"), "kill": ("container", "kill"), "load": ("image", "load"),
    "logs": ("container", "logs"), "pause": ("container", "pause"), "port": ("container", "port"),
    "rename": ("container", "rename"), "restart": ("container", "restart"), "rm": ("container", "rm"),
    "rmi": ("image", "rm"), "save": ("image", "save"), "start": ("container", "start"),
    "stats": ("container", "stats"), "stop": ("container", "stop"), "tag": ("image", "tag"),
    "top": ("container", "top"), "unpause": ("container", "unpause"), "update": ("container", "update"),
    "wait": ("container", "wait"),
}

COMMON = ["run", "exec", "ps", "build", "pull", "push", "images", "login", "logout", "version", "info"]

GLOBAL_FLAGS = """
    --config string=~/.docker  Location of client config files
 -c --context string  Name of the context to use to connect to the daemon (overrides DOCKER_HOST env var)
 -D --debug bool  Enable debug mode
 -H --host list  Daemon socket to connect to
 -l --log-level string=info  Set the logging level ("debug", "info", "warn", "error", "fatal")
    --tls bool  Use TLS; implied by --tlsverify
    --tlscacert string  Trust certs signed only by this CA
    --tlscert string  Path to TLS certificate file
    --tlskey string  Path to TLS key file
    --tlsverify bool  Use TLS and verify the remote
 -v --version bool  Print version information and quit
"""


class Context:
    """What a command needs: the API client (made on first use), output streams, its name."""

    def __init__(self, host: str | None, path: str):
        self.host = host
        self.path = path  # "run", "container ls", ... as typed
        self.out = sys.stdout
        self.err = sys.stderr
        self._client = None

    @property
    def client(self):
        if self._client is None:
            from skiff.cli.client import Client

            self._client = Client(self.host)
        return self._client


def _global_help() -> str:
    def block(title: str, names: list[str], desc: dict[str, str]) -> str:
        return title + ":\n" + "\n".join(f"  {n.ljust(11)} {desc[n]}" for n in names) + "\n"

    desc = {name: CANONICAL[key][1] for name, key in TOP_LEVEL.items()}
    others = sorted(n for n in TOP_LEVEL if n not in COMMON)
    return (
        "Usage:  skiff [OPTIONS] COMMAND\n\nA self-sufficient runtime for containers, in Python\n\n"
        + block("Common Commands", COMMON, desc) + "\n"
        + block("Management Commands", sorted(GROUPS), GROUPS) + "\n"
        + block("Commands", others, desc) + "\n"
        + "Daemon Commands:\n  engine      Run the skiff engine (the Docker Engine API server)\n"
        + "  runtime     The OCI runtime (runc's verbs)\n\n"
        + "Other Commands:\n  compose     Define and run multi-container applications (docker-compose; also 'fig')\n"
        + "  kubectl     A kubectl-compatible client of skiff server\n\n"
        + "Global Options:\n" + format_flags(parse_table(GLOBAL_FLAGS)) + "\n\n"
        + "Run 'skiff COMMAND --help' for more information on a command.\n"
    )


def _group_help(group: str) -> str:
    subs = sorted(name for g, name in CANONICAL if g == group)
    lines = "\n".join(f"  {s.ljust(11)} {CANONICAL[(group, s)][1]}" for s in subs)
    return (f"Usage:  skiff {group} COMMAND\n\n{GROUPS[group]}\n\nCommands:\n{lines}\n\n"
            f"Run 'skiff {group} COMMAND --help' for more information on a command.\n")


def _aliases(key: tuple[str, str]) -> list[str]:
    group, name = key
    names = [f"skiff {group} {name}"] if group else []
    names += [f"skiff {group} {a}" for a, t in GROUP_ALIASES.get(group, {}).items() if t == name]
    names += [f"skiff {top}" for top, k in TOP_LEVEL.items() if k == key]
    return names


def command_help(spec, path: str, key: tuple[str, str]) -> str:
    text = f"Usage:  skiff {path} {spec.usage}\n\n{CANONICAL[key][1]}\n"
    aliases = _aliases(key)
    if len(aliases) > 1:
        text += "\nAliases:\n  " + ", ".join(aliases) + "\n"
    options = format_flags(spec.flags)
    if options:
        text += "\nOptions:\n" + options + "\n"
    return text


def _resolve(argv: list[str]) -> tuple[tuple[str, str] | None, str, list[str], str | None]:
    """(canonical key, typed path, remaining args, group shown when the command is unknown)."""
    if not argv:
        return None, "", [], None
    first = argv[0]
    if first in GROUPS:
        group = first
        if len(argv) < 2 or argv[1].startswith("-"):
            return None, group, argv[1:], group
        sub = GROUP_ALIASES.get(group, {}).get(argv[1], argv[1])
        if (group, sub) in CANONICAL:
            return (group, sub), f"{group} {argv[1]}", argv[2:], None
        return None, f"{group} {argv[1]}", argv[2:], group
    if first in TOP_LEVEL:
        return TOP_LEVEL[first], first, argv[1:], None
    return None, first, argv[1:], ""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        gopts, rest = parse(parse_table(GLOBAL_FLAGS), argv, interspersed=False)
    except UsageError as e:
        sys.stderr.write(f"{e.message}\n\nRun 'skiff --help' for more information\n")
        return 125
    if gopts.version:
        from skiff.cli.commands.system import client_version

        sys.stdout.write(f"skiff version {client_version()}\n")
        return 0
    if rest and rest[0] in ("compose", "fig"):  # `skiff -H X compose ...`: the global flags, then compose's
        from skiff.cli.commands.compose import main as compose_main

        host_args = ["-H", gopts.host[-1]] if gopts.host else []
        return compose_main(host_args + rest[1:], rest[0])
    key, path, args, unknown_group = _resolve(rest)
    if key is None:
        if not rest or (gopts.help and not rest):
            sys.stdout.write(_global_help())
            return 0
        if unknown_group is not None and unknown_group and (len(rest) < 2 or rest[1].startswith("-")):
            flag = next((a for a in rest[1:] if a.startswith("-") and a not in ("-h", "--help")), None)
            if flag:  # `skiff container --bogus`: cobra's unknown flag on the group command
                what = (f"unknown flag: {flag.split('=', 1)[0]}" if flag.startswith("--")
                        else f"unknown shorthand flag: '{flag[1:2]}' in {flag}")
                sys.stderr.write(f"{what}\n\nUsage:  skiff {unknown_group}\n\n"
                                 f"Run 'skiff {unknown_group} --help' for more information\n")
                return 125
            sys.stdout.write(_group_help(unknown_group))
            return 0
        usage = f"Usage:  skiff {unknown_group}\n\n" if unknown_group else ""
        sys.stderr.write(f"skiff: unknown command: skiff {path}\n\n{usage}"
                         f"Run 'skiff {unknown_group + ' ' if unknown_group else ''}--help' for more information\n")
        return 1
    host = (gopts.host[-1] if gopts.host else None) or os.environ.get("DOCKER_HOST") or None
    return run_command(key, path, args, host)


def run_command(key: tuple[str, str], path: str, args: list[str], host: str | None) -> int:
    import importlib

    module = importlib.import_module("skiff.cli.commands." + CANONICAL[key][0])
    spec = module.COMMANDS[key[1]]
    usage_line = f"Usage:  skiff {path} {spec.usage}"
    try:
        opts, pos = parse(spec.flags, args, interspersed=spec.interspersed)
    except UsageError as e:
        sys.stderr.write(f"{e.message}\n\n{usage_line}\n\nRun 'skiff {path} --help' for more information\n")
        return e.status
    if opts.help:
        sys.stdout.write(command_help(spec, path, key))
        return 0
    problem = spec.check_args(pos)
    if problem:
        verb = "See" if problem.startswith("requires at least") and " and at most " not in problem else "Run"
        sys.stderr.write(f"skiff: 'skiff {path}' {problem}\n\n{usage_line}\n\n"
                         f"{verb} 'skiff {path} --help' for more information\n")
        return 1
    ctx = Context(host, path)
    from skiff.cli.client import APIError, ConnectError

    try:
        return int(spec.handler(ctx, opts, pos) or 0)
    except ConnectError as e:
        sys.stderr.write(f"{e}\n")
        return 1
    except APIError as e:
        sys.stderr.write(f"{e}\n")
        return 1
    except UsageError as e:
        if e.flag_error:
            sys.stderr.write(f"{e.message}\n\n{usage_line}\n\nRun 'skiff {path} --help' for more information\n")
        else:
            sys.stderr.write(f"{e.message}\n")
        return e.status
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:
        # Template errors: the template module is loaded only by commands that format output.
        templates = sys.modules.get("skiff.cli.gotemplate")
        if templates and isinstance(e, templates.TemplateError):
            sys.stderr.write(f"template: {e}\n")
            return 1
        raise
