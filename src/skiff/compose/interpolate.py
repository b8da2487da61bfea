"""Variable substitution in compose files: `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
`${VAR:?error}`, `${VAR?error}` and `$$` for a literal `$`, as docker-compose 1.29 does it. Pure."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from skiff.compose.errors import ConfigError

_NAME = r"[_a-zA-Z][_a-zA-Z0-9]*"
_PATTERN = re.compile(
    rf"\$(?:(?P<escaped>\$)|(?P<named>{_NAME})|{{(?P<braced>{_NAME})(?P<op>:?[-?])?(?P<arg>[^}}]*)}}|(?P<invalid>))")


class _Missing(Exception):
    def __init__(self, name: str, err: str):
        self.name = name
        self.err = err


def substitute(text: str, env: Mapping[str, str]) -> str:
    """One string with its variables replaced; ValueError on a malformed `${...}`."""

    def replace(m: re.Match) -> str:
        if m.group("escaped"):
            return "$"
        name = m.group("named") or m.group("braced")
        if name is None:
            raise ValueError(text)
        op, arg = m.group("op"), m.group("arg") or ""
        if op is None and arg:
            raise ValueError(text)
        value = env.get(name)
        if op in (":-", "-"):
            unset = value is None or (op == ":-" and value == "")
            return substitute(arg, env) if unset else value  # type: ignore[return-value]
        if op in (":?", "?"):
            if value is None or (op == ":?" and value == ""):
                raise _Missing(name, arg)
            return value
        return value if value is not None else ""

    return _PATTERN.sub(replace, text)


def missing_names(text: str, env: Mapping[str, str]) -> list[str]:
    """Variables `text` uses plainly that are unset (docker-compose warns about them)."""
    return [m.group("named") or m.group("braced") for m in _PATTERN.finditer(text)
            if (m.group("named") or (m.group("braced") and not m.group("op")))
            and (m.group("named") or m.group("braced")) not in env]


def interpolate_section(section: dict, env: Mapping[str, str], kind: str,
                        warn: Callable[[str], None] | None = None) -> dict:
    """Every string of a top-level section (services, networks, volumes) substituted; errors name
    the option and the entry, in docker-compose's words."""
    out = {}
    warned: set[str] = set()
    for name, entry in section.items():
        def walk(value, path: str, name=name):
            if isinstance(value, str):
                try:
                    for var in missing_names(value, env):
                        if warn and var not in warned:
                            warned.add(var)
                            warn(f'The "{var}" variable is not set. Defaulting to a blank string.')
                    return substitute(value, env)
                except ValueError:
                    raise ConfigError(f'Invalid interpolation format for "{path}" option in {kind} "{name}": '
                                      f'"{value}"') from None
                except _Missing as e:
                    raise ConfigError(f'Missing mandatory value for "{path}" option interpolating '
                                      f'{value} in {kind} "{name}": {e.err}') from None
            if isinstance(value, dict):
                return {k: walk(v, path if path else str(k)) for k, v in value.items()}
            if isinstance(value, list):
                return [walk(v, path) for v in value]
            return value

        out[name] = walk(entry, "") if not isinstance(entry, dict) else \
            {k: walk(v, str(k)) for k, v in entry.items()}
    return out
