"""A container's process from the pod spec and the image, by Kubernetes' rules.

| command | args | process run                              |
|---------|------|------------------------------------------|
| unset   | unset| image Entrypoint + image Cmd             |
| set     | any  | command + args (the image's Cmd ignored) |
| unset   | set  | image Entrypoint + args                  |

`$(VAR)` in command, args and env values expands from the container's env; `$$(VAR)` is the
literal `$(VAR)`; an unknown `$(VAR)` stays as written (Kubernetes' expansion.go).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_REF = re.compile(r"\$\$|\$\(([A-Za-z_][-._A-Za-z0-9]*)\)")


def expand(text: str, env: Mapping[str, str]) -> str:
    def one(m: re.Match) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1)
        return env[name] if name in env else m.group(0)
    return _REF.sub(one, text)


def entrypoint_and_cmd(container: dict, env: Mapping[str, str]) -> tuple[list[str] | None, list[str] | None]:
    """(Entrypoint, Cmd) for the engine's create body: None keeps the image's value, [] clears it."""
    command = container.get("command")
    args = container.get("args")
    cmd_x = [expand(a, env) for a in args] if args is not None else None
    if command:
        return [expand(c, env) for c in command], (cmd_x or [])
    if args is not None:
        return None, cmd_x
    return None, None
