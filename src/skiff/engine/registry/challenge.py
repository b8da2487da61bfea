"""`WWW-Authenticate` challenges: `Basic realm="x"`, `Bearer realm="..",service="..",scope=".."` (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_PARAM = re.compile(r'\s*([A-Za-z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?')


@dataclass
class Challenge:
    scheme: str  # "basic" or "bearer", lower-cased
    params: dict[str, str] = field(default_factory=dict)


def parse_challenges(header: str) -> list[Challenge]:
    out: list[Challenge] = []
    rest = header.strip()
    while rest:
        m = re.match(r"([A-Za-z][\w-]*)\s*", rest)
        if not m:
            break
        ch = Challenge(m.group(1).lower())
        rest = rest[m.end():]
        while True:
            p = _PARAM.match(rest)
            if not p:
                break
            value = p.group(2) if p.group(2) is not None else p.group(3)
            ch.params[p.group(1).lower()] = re.sub(r"\\(.)", r"\1", value)
            rest = rest[p.end():]
        out.append(ch)
        rest = rest.lstrip(", ")
    return out


def scope(repository: str, actions: str) -> str:
    """A token scope: `repository:library/busybox:pull,push`."""
    return f"repository:{repository}:{actions}"
