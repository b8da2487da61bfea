"""Command families of the docker-style client; each module fills its own `COMMANDS` table."""

from __future__ import annotations

from skiff.cli.flags import Flag, parse_table

TYPE_CHECKING = False  # not typing's: importing typing costs the CLI ~10 ms of start-up
if TYPE_CHECKING:  # collections.abc costs the CLI's start-up ~2 ms; only annotations need it
    from collections.abc import Callable


def _plural(n: int) -> str:
    return f"{n} argument" + ("" if n == 1 else "s")


class Command:
    """A command's usage line, flag table (parsed on first use), argument counts and handler."""

    def __init__(self, usage: str, flag_table: str, handler: Callable, interspersed: bool = True,
                 min_args: int = 0, max_args: int | None = None):
        self.usage = usage
        self.flag_table = flag_table
        self.handler = handler
        self.interspersed = interspersed
        self.min_args = min_args
        self.max_args = max_args
        self._flags: list[Flag] | None = None

    @property
    def flags(self) -> list[Flag]:
        if self._flags is None:
            self._flags = parse_table(self.flag_table) if self.flag_table.strip() else []
        return self._flags

    def check_args(self, args: list[str]) -> str | None:
        """Docker's wording when the positional argument count is wrong, else None."""
        n, lo, hi = len(args), self.min_args, self.max_args
        if hi == 0 and n:
            return "accepts no arguments"
        if lo == hi and n != lo:
            return f"requires {_plural(lo)}"
        if n < lo:
            if hi is not None:
                return f"requires at least {lo} and at most {_plural(hi)}"
            return f"requires at least {_plural(lo)}"
        if hi is not None and n > hi:
            return f"requires at most {_plural(hi)}"
        return None


def registry(table: dict[str, Command]):
    """A decorator factory: ``@command("ls", "[OPTIONS]", FLAGS)`` registers a handler in `table`."""

    def command(name: str, usage: str, flags: str = "", *, interspersed: bool = True,
                min_args: int = 0, max_args: int | None = None):
        def wrap(fn: Callable) -> Callable:
            table[name] = Command(usage, flags, fn, interspersed, min_args, max_args)
            return fn
        return wrap

    return command


def parse_filters(values: list[str]) -> dict[str, list[str]]:
    """`--filter key=value` (repeatable) → the API's filters map."""
    from skiff.cli.flags import UsageError

    filters: dict[str, list[str]] = {}
    for v in values:
        key, eq, value = v.partition("=")
        if not eq:
            raise UsageError("bad format of filter (expected name=value)", status=125)
        filters.setdefault(key.strip().lower(), []).append(value)
    return filters


def print_errors_exit(ctx, errors: list[str]) -> int:
    """Docker's multi-target commands print every failure and exit 1 if any failed."""
    for e in errors:
        ctx.err.write(e + "\n")
    return 1 if errors else 0


def since_until(opts) -> dict[str, str]:
    """`--since`/`--until` as the API's timestamps; an unreadable value is a usage error (exit 1)."""
    from skiff.cli.flags import UsageError
    from skiff.cli.humanize import timestamp_arg

    params = {}
    try:
        if opts.since:
            params["since"] = timestamp_arg(opts.since)
        if opts.until:
            params["until"] = timestamp_arg(opts.until)
    except ValueError as e:
        raise UsageError(str(e), 1) from None
    return params

