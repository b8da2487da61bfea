"""A small pflag-style command-line parser: Docker's flag syntax without argparse's start-up cost.

Commands declare their flags in a compact text table (one flag a line:
``-d --detach bool  Run container in background``), parsed only when the command runs.
The syntax accepted is pflag's: ``--name=v``, ``--name v``, ``-d``, ``-it``, ``-p80:80``,
``-e=X``, ``--flag=false`` for booleans, ``--`` to end flags, and (for run/exec/create)
parsing stops at the first positional argument so the container's own flags pass through.
"""

from __future__ import annotations


class UsageError(Exception):
    """A command line the parser refuses; `status` is the exit code Docker uses for it."""

    def __init__(self, message: str, status: int = 125, flag_error: bool = False):
        super().__init__(message)
        self.message = message
        self.status = status
        self.flag_error = flag_error  # a bad flag value: printed with the usage line, as pflag does


class Flag:
    __slots__ = ("long", "short", "kind", "default", "help", "hidden", "shown")

    def __init__(self, long: str, short: str, kind: str, default: object, help: str, hidden: bool = False,
                 shown: str = ""):
        self.long = long
        self.short = short
        self.kind = kind  # bool | string | list | int | float
        self.default = default
        self.help = help
        self.hidden = hidden
        self.shown = shown or kind  # the type name help shows (docker's "filter", "bytes", ...)

    @property
    def dest(self) -> str:
        return self.long.replace("-", "_")

    def label(self) -> str:
        return f"-{self.short}, --{self.long}" if self.short else f"--{self.long}"


# Type names shown in help (as docker's pflag values name themselves) → how they are parsed here.
_KIND_ALIASES = {"filter": "list", "map": "list", "bytes": "string", "duration": "string", "decimal": "string",
                 "network": "string", "uint16": "int", "uint": "int", "ulimit": "list", "mount": "list",
                 "external-ca": "list", "gpu-request": "string", "pref": "list"}


def parse_table(table: str) -> list[Flag]:
    """Flags from lines of ``[-s] --long TYPE[=DEFAULT]  help``; TYPE ending in ``!`` hides it."""
    flags = []
    for raw in table.strip().splitlines():
        line = raw.strip()
        if not line:
            continue
        head, _, help_ = line.partition("  ")
        parts = head.split()
        short = ""
        if not parts[0].startswith("--"):
            short = parts.pop(0)[1:]
        long = parts[0][2:]
        kind, _, default_text = parts[1].partition("=")
        hidden = kind.endswith("!")
        kind = kind.rstrip("!")
        shown = kind
        kind = _KIND_ALIASES.get(kind, kind)
        default: object
        if kind == "bool":
            default = default_text == "true"
        elif kind == "list":
            default = []
        elif kind == "int":
            default = int(default_text) if default_text else 0
        elif kind == "float":
            default = float(default_text) if default_text else 0.0
        else:
            default = default_text
        flags.append(Flag(long, short, kind, default, help_.strip(), hidden, shown))
    return flags


class Options:
    """Parsed flag values by attribute (``opts.detach``), plus which flags were given."""

    def __init__(self, values: dict | None = None):
        self.__dict__["values"] = values if values is not None else {}
        self.__dict__["given"] = set()

    def __getattr__(self, name: str):
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None


HELP_FLAG = Flag("help", "", "bool", False, "Print usage", hidden=True)


def _convert(flag: Flag, text: str, shown: str) -> object:
    try:
        if flag.kind == "int":
            return int(text, 0) if text.lower().startswith(("0x", "0o")) else int(text)
        if flag.kind == "float":
            return float(text)
    except ValueError:
        fn = "strconv.ParseInt" if flag.kind == "int" else "strconv.ParseFloat"
        raise UsageError(f'invalid argument "{text}" for "{flag.label()}" flag: '
                         f'{fn}: parsing "{text}": invalid syntax') from None
    if flag.kind == "bool":
        if text.lower() in ("1", "t", "true"):
            return True
        if text.lower() in ("0", "f", "false"):
            return False
        raise UsageError(f'invalid argument "{text}" for "{flag.label()}" flag: '
                         f'strconv.ParseBool: parsing "{text}": invalid syntax')
    return text


def parse(flags: list[Flag], argv: list[str], interspersed: bool = True) -> tuple[Options, list[str]]:
    """Parse argv against flags; returns the options and the positional arguments."""
    by_long = {f.long: f for f in flags}
    by_long.setdefault("help", HELP_FLAG)
    by_short = {f.short: f for f in flags if f.short}
    if "h" not in by_short:  # run/create use -h for --hostname
        by_short["h"] = by_long["help"]
    opts = Options({f.dest: (list(f.default) if isinstance(f.default, list) else f.default) for f in flags})
    opts.values.setdefault("help", False)
    args: list[str] = []

    def store(flag: Flag, value: object) -> None:
        opts.given.add(flag.dest)
        if flag.kind == "list":
            opts.values[flag.dest].append(value)
        else:
            opts.values[flag.dest] = value

    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == "--":
            args.extend(argv[i:])
            break
        if arg.startswith("--") and len(arg) > 2:
            name, eq, value = arg[2:].partition("=")
            flag = by_long.get(name)
            if flag is None:
                raise UsageError(f"unknown flag: --{name}")
            if flag.kind == "bool":
                store(flag, _convert(flag, value, arg) if eq else True)
            elif eq:
                store(flag, _convert(flag, value, arg))
            elif i < len(argv):
                store(flag, _convert(flag, argv[i], arg))
                i += 1
            else:
                raise UsageError(f"flag needs an argument: --{name}")
        elif arg.startswith("-") and len(arg) > 1:
            shorts = arg[1:]
            j = 0
            while j < len(shorts):
                c = shorts[j]
                flag = by_short.get(c)
                if flag is None:
                    raise UsageError(f"unknown shorthand flag: '{c}' in {arg}")
                rest = shorts[j + 1:]
                if flag.kind == "bool":
                    if rest.startswith("="):
                        store(flag, _convert(flag, rest[1:], arg))
                        break
                    store(flag, True)
                    j += 1
                    continue
                if rest:
                    store(flag, _convert(flag, rest[1:] if rest.startswith("=") else rest, arg))
                elif i < len(argv):
                    store(flag, _convert(flag, argv[i], arg))
                    i += 1
                else:
                    raise UsageError(f"flag needs an argument: '{c}' in -{c}")
                break
        else:
            args.append(arg)
            if not interspersed:
                args.extend(argv[i:])
                break
    return opts, args


def format_flags(flags: list[Flag]) -> str:
    """The ``Options:`` block of a help page, aligned as cobra prints it."""
    rows = []
    for f in sorted(flags, key=lambda f: f.long):
        if f.hidden:
            continue
        left = (f"  -{f.short}, --{f.long}" if f.short else f"      --{f.long}")
        if f.kind != "bool":
            left += " " + f.shown
        help_ = f.help
        if f.kind in ("int", "float") and f.default not in (0, 0.0):
            help_ += f" (default {f.default})"
        elif f.kind == "string" and f.default:
            help_ += f' (default "{f.default}")'
        rows.append((left, help_))
    width = max((len(r[0]) for r in rows), default=0) + 3
    return "\n".join(left.ljust(width) + help_ for left, help_ in rows)
