"""Dockerfile text → logical lines (nodes), as Docker's parser splits them. Pure.

Handles parser directives (`# syntax=`, `# escape=`, only at the very top), comment lines
(also inside continuations), blank lines, line continuations with the escape character,
the instruction word (case-insensitive) and leading `--flag[=value]` words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from skiff.common.errors import InvalidArgument

_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
KNOWN_DIRECTIVES = ("syntax", "escape", "check")


class DockerfileError(InvalidArgument):
    """A Dockerfile that does not parse; the message carries the line, in Docker's wording."""

    def __init__(self, line: int, message: str):
        super().__init__(f"dockerfile parse error on line {line}: {message}")
        self.line = line
        self.detail = message


@dataclass
class Node:
    """One instruction as written: `cmd` lowercased, `rest` after the flags."""

    cmd: str
    original: str  # the logical line, continuations joined ("RUN echo a b")
    rest: str
    flags: list[str] = field(default_factory=list)  # "--from=x" words, as written
    line: int = 0  # first physical line (1-based)
    end_line: int = 0


@dataclass
class Parsed:
    nodes: list[Node]
    escape: str = "\\"
    directives: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _directives(lines: list[str]) -> tuple[dict[str, str], int]:
    """Directives at the top of the file; returns them and how many lines they took."""
    found: dict[str, str] = {}
    n = 0
    for n, raw in enumerate(lines):  # noqa: B007 - n is used after the loop
        m = _DIRECTIVE.match(raw.strip()) if raw.strip().startswith("#") else None
        if not m:
            return found, n
        key, value = m.group(1).lower(), m.group(2)
        if key not in KNOWN_DIRECTIVES:
            return found, n  # an unknown "directive" is a comment and ends the directives
        if key in found:
            raise DockerfileError(n + 1, f"only one {key} parser directive can be used")
        found[key] = value
    return found, len(lines)


def _strip_continuation(line: str, escape: str) -> tuple[str, bool]:
    stripped = line.rstrip(" \t")
    if stripped.endswith(escape):
        return stripped[: -len(escape)], True
    return line, False


def split_flags(text: str) -> tuple[list[str], str]:
    """Leading `--name[=value]` words off an instruction's arguments."""
    flags = []
    rest = text.lstrip()
    while rest.startswith("--"):
        word, _, after = rest.partition(" ")
        word2, _, after2 = rest.partition("\t")
        if len(word2) < len(word):
            word, after = word2, after2
        if word == "--":
            break
        flags.append(word)
        rest = after.lstrip()
    return flags, rest


def node_from_line(text: str, line: int, end_line: int) -> Node:
    word, _, rest = text.strip().partition(" ")
    if "\t" in word:
        word, _, more = word.partition("\t")
        rest = more + " " + rest if rest else more
    flags, rest = split_flags(rest)
    return Node(word.lower(), text.strip(), rest.strip(), flags, line, end_line)


def parse(text: str) -> Parsed:
    """The Dockerfile's logical lines. Raises DockerfileError on bad directives."""
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.replace("\r\n", "\n").split("\n")
    directives, start = _directives(lines)
    escape = directives.get("escape", "\\")
    if escape not in ("\\", "`"):
        raise DockerfileError(1, f"invalid escape token '{escape}' does not match ` or \\")
    out = Parsed([], escape, directives)
    i = start
    while i < len(lines):
        raw = lines[i]
        if not raw.strip() or raw.lstrip().startswith("#"):
            i += 1
            continue
        first = i
        text_, cont = _strip_continuation(raw, escape)
        parts = [text_]
        i += 1
        while cont and i < len(lines):
            nxt = lines[i]
            i += 1
            if nxt.lstrip().startswith("#"):
                continue  # comments inside a continuation are dropped
            if not nxt.strip():
                out.warnings.append(f"[WARNING]: Empty continuation line found in: {''.join(parts).strip()}")
                continue
            text_, cont = _strip_continuation(nxt, escape)
            parts.append(text_)
        joined = "".join(parts)
        if joined.strip():
            out.nodes.append(node_from_line(joined, first + 1, i))
    return out
