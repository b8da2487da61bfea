"""`.dockerignore` patterns with Docker's rules. Pure (standard library only; the CLI uses it too).

Each line is a pattern relative to the context root: a leading `/` is dropped, paths are
cleaned, `*` and `?` never cross a `/`, `**` matches any number of directories, `!` makes
an exception. A pattern that matches a directory excludes everything below it. The last
pattern that matches decides.
"""

from __future__ import annotations

import posixpath
import re


class Pattern:
    """One line: its cleaned text, whether it is a `!` exception, its compiled regex.
    (A plain class: the CLI imports this module, and dataclasses cost it milliseconds.)"""

    __slots__ = ("text", "exclusion", "regex")

    def __init__(self, text: str, exclusion: bool, regex: re.Pattern):
        self.text, self.exclusion, self.regex = text, exclusion, regex


def read_patterns(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        out.append(line)
    return out


def _clean(path: str) -> str:
    return posixpath.normpath("/" + path).lstrip("/") or "."


def _to_regex(pattern: str) -> re.Pattern:
    out = "^"
    i = 0
    n = len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "*":
            if i + 1 < n and pattern[i + 1] == "*":
                i += 1
                if i + 1 < n and pattern[i + 1] == "/":
                    i += 1
                    out += "(.*/)?"  # "**/" : zero or more directories
                elif i + 1 == n:
                    out += ".*"
                else:
                    out += ".*"
            else:
                out += "[^/]*"
        elif ch == "?":
            out += "[^/]"
        elif ch == "\\" and i + 1 < n:
            i += 1
            out += re.escape(pattern[i])
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                out += re.escape(ch)
            else:
                body = pattern[i + 1:end]
                if body.startswith("^"):
                    body = "!" + body[1:]
                out += "[" + ("^" + body[1:] if body.startswith("!") else body).replace("\\", "\\\\") + "]"
                i = end
        else:
            out += re.escape(ch)
        i += 1
    return re.compile(out + "$")


def compile_patterns(lines: list[str]) -> list[Pattern]:
    out = []
    for line in lines:
        exclusion = line.startswith("!")
        text = line[1:].strip() if exclusion else line
        if not text:
            continue
        text = _clean(text)
        out.append(Pattern(text, exclusion, _to_regex(text)))
    return out


class Matcher:
    def __init__(self, lines: list[str]):
        self.patterns = compile_patterns(lines)

    @property
    def has_exceptions(self) -> bool:
        return any(p.exclusion for p in self.patterns)

    def excluded(self, path: str) -> bool:
        """Whether the context-relative `path` is left out of the build context."""
        path = _clean(path)
        parents = path.split("/")
        candidates = ["/".join(parents[: i + 1]) for i in range(len(parents))]
        matched = False
        for p in self.patterns:
            if p.exclusion != matched:
                continue  # an inclusion cannot change an excluded path, nor an exclusion an included one
            if any(p.regex.match(c) for c in candidates):
                matched = not p.exclusion
        return matched

    def may_hold_exceptions(self, directory: str) -> bool:
        """Whether an excluded directory could still hold re-included files (so walk into it)."""
        directory = _clean(directory)
        for p in self.patterns:
            if p.exclusion and (p.text.startswith(directory + "/") or "*" in p.text or "?" in p.text
                                or "[" in p.text):
                return True
        return False


def filter_names(names: list[str], lines: list[str], dockerfile: str = "Dockerfile") -> list[str]:
    """The context-relative paths that are sent (the Dockerfile and .dockerignore always are)."""
    m = Matcher(lines)
    keep = {_clean(dockerfile), ".dockerignore"}
    return [n for n in names if _clean(n) in keep or not m.excluded(n)]
