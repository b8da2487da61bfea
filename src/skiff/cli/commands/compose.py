"""`skiff compose` (and `skiff fig`): docker-compose v1's commands over a compose file, as a
client of the engine's Docker API. Parsing and printing only; the model and the operations
are in `skiff.compose`."""

from __future__ import annotations

import os
import sys

from skiff.cli.flags import UsageError, format_flags, parse, parse_table

GLOBAL_FLAGS = """
 -f --file list  Specify an alternate compose file (default: docker-compose.yml)
 -p --project-name string  Specify an alternate project name (default: directory name)
    --project-directory string  Specify an alternate working directory (default: the path of the Compose file)
    --env-file string  Specify an alternate environment file
 -H --host string  Daemon socket to connect to
    --no-ansi bool  Do not print ANSI control characters
    --ansi string  Control when to print ANSI control characters ("never"|"always"|"auto")
    --profile list  Specify a profile to enable
    --verbose bool  Show more output
    --log-level string  Set log level (DEBUG, INFO, WARNING, ERROR, CRITICAL)
 -v --version bool  Print version and exit
    --compatibility bool  Convert deploy keys to their non-swarm equivalent (always done, as by docker-compose 1.29)
"""

# name → (module, one-line description); each module has a COMMANDS table of (usage, flags, handler).
COMMANDS: dict[str, tuple[str, str]] = {
    "build": ("compose_verbs", "Build or rebuild services"),
    "config": ("compose_show", "Validate and view the Compose file"),
    "create": ("compose_verbs", "Create services"),
    "down": ("compose_verbs", "Stop and remove resources"),
    "exec": ("compose_attach", "Execute a command in a running container"),
    "help": ("", "Get help on a command"),
    "images": ("compose_show", "List images"),
    "kill": ("compose_verbs", "Kill containers"),
    "logs": ("compose_attach", "View output from containers"),
    "pause": ("compose_verbs", "Pause services"),
    "port": ("compose_show", "Print the public port for a port binding"),
    "ps": ("compose_show", "List containers"),
    "pull": ("compose_verbs", "Pull service images"),
    "push": ("compose_verbs", "Push service images"),
    "restart": ("compose_verbs", "Restart services"),
    "rm": ("compose_verbs", "Remove stopped containers"),
    "run": ("compose_attach", "Run a one-off command"),
    "scale": ("compose_verbs", "Set number of containers for a service"),
    "start": ("compose_verbs", "Start services"),
    "stop": ("compose_verbs", "Stop services"),
    "top": ("compose_show", "Display the running processes"),
    "unpause": ("compose_verbs", "Unpause services"),
    "up": ("compose_attach", "Create and start containers"),
    "version": ("compose_show", "Show version information"),
}


class ComposeContext:
    """What a compose command needs: options, the engine client, the project (loaded on first use)."""

    def __init__(self, prog: str, gopts, out=None, err=None):
        self.prog = prog
        self.gopts = gopts
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self._client = None
        self._project = None

    @property
    def client(self):
        if self._client is None:
            from skiff.cli.client import Client

            self._client = Client(self.gopts.host or None)
        return self._client

    @property
    def colour(self) -> bool:
        if self.gopts.no_ansi or self.gopts.ansi == "never":
            return False
        if self.gopts.ansi == "always":
            return True
        try:
            return os.isatty(self.out.fileno())
        except (OSError, ValueError, AttributeError):
            return False

    def say(self, text: str) -> None:
        self.err.write(text + "\n")
        self.err.flush()

    @property
    def project(self):
        if self._project is None:
            from skiff.compose.loader import load_project, parse_env_file

            environ = dict(os.environ)
            if self.gopts.env_file:
                try:
                    with open(self.gopts.env_file, encoding="utf-8") as f:
                        environ = {**parse_env_file(f.read()), **environ}
                except OSError as e:
                    from skiff.compose.errors import ConfigError

                    raise ConfigError(f"Couldn't find env file: {e.filename}") from None
            stdin_text = sys.stdin.read() if self.gopts.file == ["-"] else None
            self._project = load_project(os.getcwd(), self.gopts.file, self.gopts.project_name or None,
                                         environ, warn=lambda m: self.say(f"WARNING: {m}"),
                                         stdin_text=stdin_text,
                                         project_directory=self.gopts.project_directory or None)
            self._project.profiles = list(self.gopts.profile) or \
                [p for p in environ.get("COMPOSE_PROFILES", "").split(",") if p]
        return self._project

    def ops(self):
        from skiff.compose.operations import Ops

        return Ops(self.project, self.client, self.say, self.build_image)

    def build_image(self, service: str, build: dict, tag: str, no_cache: bool = False, pull: bool = False) -> None:
        """Build through `skiff build`'s own client code (context tar, .dockerignore, progress)."""
        from skiff.cli.commands import build as build_cmd
        from skiff.cli.docker import Context
        from skiff.compose.errors import ConfigError

        argv = ["-t", tag]
        if build.get("dockerfile"):
            argv += ["-f", os.path.join(build["context"], build["dockerfile"])]
        for k, v in (build.get("args") or {}).items():
            argv += ["--build-arg", f"{k}={v}" if v is not None else k]
        for k, v in (build.get("labels") or {}).items():
            argv += ["--label", f"{k}={v}"]
        if build.get("target"):
            argv += ["--target", build["target"]]
        if build.get("network"):
            argv += ["--network", build["network"]]
        if no_cache:
            argv.append("--no-cache")
        if pull:
            argv.append("--pull")
        argv.append(build["context"])
        spec = build_cmd.COMMANDS["build"]
        opts, pos = parse(spec.flags, argv)
        ctx = Context(self.gopts.host or None, "build")
        ctx._client = self.client
        ctx.out = self.out
        ctx.err = self.err
        if build_cmd.build(ctx, opts, pos) != 0:
            raise ConfigError(f"Service '{service}' failed to build")


def _global_help(prog: str) -> str:
    width = max(len(n) for n in COMMANDS) + 4
    lines = "\n".join(f"  {n.ljust(width)}{d}" for n, (_, d) in sorted(COMMANDS.items()))
    return (f"Define and run multi-container applications with skiff.\n\n"
            f"Usage:\n  skiff {prog} [-f <arg>...] [--profile <name>...] [options] [--] [COMMAND] [ARGS...]\n"
            f"  skiff {prog} -h|--help\n\nOptions:\n{format_flags(parse_table(GLOBAL_FLAGS))}\n\n"
            f"Commands:\n{lines}\n")


def command_table(name: str):
    import importlib

    return importlib.import_module("skiff.cli.commands." + COMMANDS[name][0]).COMMANDS[name]


def command_help(prog: str, name: str) -> str:
    usage, table, _ = command_table(name)
    flags = parse_table(table) if table.strip() else []
    text = f"{COMMANDS[name][1]}.\n\nUsage: skiff {prog} {name} {usage}\n"
    if flags:
        text += "\nOptions:\n" + format_flags(flags) + "\n"
    return text


def main(argv: list[str], prog: str = "compose") -> int:
    try:
        gopts, rest = parse(parse_table(GLOBAL_FLAGS), argv, interspersed=False)
    except UsageError as e:
        sys.stderr.write(f"{e.message}\n\n{_global_help(prog)}")
        return 1
    if gopts.version:
        from skiff.cli.commands.compose_show import version_line

        sys.stdout.write(version_line() + "\n")
        return 0
    if not rest or gopts.help:
        sys.stdout.write(_global_help(prog))
        return 0
    name, args = rest[0], rest[1:]
    if name == "help":
        if args and args[0] in COMMANDS and args[0] != "help":
            sys.stdout.write(command_help(prog, args[0]))
        else:
            sys.stdout.write(_global_help(prog))
        return 0
    if name not in COMMANDS:
        sys.stderr.write(f"No such command: {name}\n\n{_global_help(prog)}")
        return 1
    usage, table, handler = command_table(name)
    try:
        opts, pos = parse(parse_table(table) if table.strip() else [], args,
                          interspersed=name not in ("run", "exec"))
    except UsageError as e:
        sys.stderr.write(f"{e.message}\n\n{command_help(prog, name)}")
        return 1
    if opts.help:
        sys.stdout.write(command_help(prog, name))
        return 0
    ctx = ComposeContext(prog, gopts)
    from skiff.cli.client import APIError, ConnectError
    from skiff.compose.errors import ConfigError, SchemaError

    try:
        return int(handler(ctx, opts, pos) or 0)
    except SchemaError as e:
        path = e.path or ", ".join(ctx.gopts.file) or "docker-compose.yml"
        sys.stderr.write(f"ERROR: The Compose file '{_display(path)}' is invalid because:\n{e.message}\n")
        return 1
    except ConfigError as e:
        sys.stderr.write(f"ERROR: {e.message}\n")
        return 1
    except UsageError as e:
        sys.stderr.write(f"{e.message}\n")
        return 1
    except ConnectError as e:
        sys.stderr.write(f"ERROR: {e}\n")
        return 1
    except APIError as e:
        sys.stderr.write(f"ERROR: {e.message}\n")
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


def registry(table: dict):
    """A decorator factory filling a module's table: name → (usage, flag table, handler)."""

    def command(name: str, usage: str, flags: str = ""):
        def wrap(fn):
            table[name] = (usage, flags, fn)
            return fn
        return wrap

    return command


def _display(path: str) -> str:
    return path if os.path.isabs(path) or path.startswith(".") else "./" + path


def parse_services(ctx, names: list[str]) -> list[str] | None:
    """The SERVICE arguments, checked against the project; None for all."""
    project = ctx.project
    for n in names:
        if n not in project.services:
            from skiff.compose.errors import ConfigError

            raise ConfigError(f"No such service: {n}")
    return names or None
