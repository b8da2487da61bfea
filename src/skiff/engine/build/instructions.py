"""Parsed nodes → typed instructions grouped into stages, with Docker's parse errors. Pure.

Arguments stay unexpanded here: variables are substituted at build time, when the values
of ENV and ARG in effect are known (`dispatch.py`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from skiff.common.errors import InvalidArgument
from skiff.engine.build.parser import DockerfileError, Node, node_from_line, parse

# Flags each instruction takes; a flag with a None default is a boolean.
FLAGS: dict[str, dict[str, str | None]] = {
    "from": {"platform": ""},
    "copy": {"from": "", "chown": "", "chmod": "", "link": None, "parents": None, "exclude": ""},
    "add": {"chown": "", "chmod": "", "checksum": "", "keep-git-dir": None, "link": None, "exclude": ""},
    "healthcheck": {"interval": "", "timeout": "", "start-period": "", "start-interval": "", "retries": ""},
}
KINDS = ("from", "maintainer", "run", "cmd", "entrypoint", "expose", "env", "add", "copy", "volume",
         "user", "workdir", "onbuild", "arg", "label", "stopsignal", "healthcheck", "shell")


@dataclass
class Instruction:
    kind: str  # lowercase instruction name
    node: Node
    flags: dict[str, str] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)  # JSON items, or whitespace-split words (raw)
    json: bool = False  # exec form
    text: str = ""  # the arguments as written (shell form)
    pairs: list[tuple[str, str | None]] = field(default_factory=list)  # ENV / LABEL / ARG, raw values
    sub: Instruction | None = None  # ONBUILD's instruction

    @property
    def line(self) -> int:
        return self.node.line

    @property
    def original(self) -> str:
        return self.node.original


@dataclass
class Stage:
    base: str  # raw image name (may hold ${ARG}s)
    name: str  # the AS name, lowercased, or ""
    platform: str
    node: Node
    index: int
    commands: list[Instruction] = field(default_factory=list)


@dataclass
class Dockerfile:
    meta_args: list[Instruction]  # ARGs before the first FROM
    stages: list[Stage]
    escape: str = "\\"
    warnings: list[str] = field(default_factory=list)


def split_words(text: str, escape: str = "\\") -> list[str]:
    """Split on whitespace outside quotes, keeping quotes and escapes (Docker's parseWords)."""
    words: list[str] = []
    word = ""
    quote = ""
    escaped = False
    for ch in text:
        if escaped:
            word += ch
            escaped = False
            continue
        if ch == escape:
            word += ch
            escaped = True
            continue
        if quote:
            word += ch
            if ch == quote:
                quote = ""
            continue
        if ch in "'\"":
            quote = ch
            word += ch
        elif ch.isspace():
            if word:
                words.append(word)
                word = ""
        else:
            word += ch
    if word:
        words.append(word)
    return words


def _maybe_json(text: str) -> tuple[list[str], bool]:
    """An exec-form JSON array of strings, or (text,) in shell form when it is not one."""
    if text.startswith("["):
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value, True
    return [text], False


def _flags(node: Node) -> dict[str, str]:
    allowed = FLAGS.get(node.cmd, {})
    out: dict[str, str] = {}
    for raw in node.flags:
        name, eq, value = raw[2:].partition("=")
        if node.cmd == "run" and name in ("mount", "network", "security"):
            raise DockerfileError(node.line, f"the --{name} option requires BuildKit. Refer to "
                                  "https://docs.docker.com/go/buildkit/ to learn how to build images "
                                  "with BuildKit enabled")
        if name not in allowed:
            raise DockerfileError(node.line, f"unknown flag: {name}")
        if allowed[name] is None:
            if eq and value.lower() not in ("true", "false"):
                raise DockerfileError(node.line, f"expecting boolean value for flag {name}, not: {value}")
            value = "true" if not eq or value.lower() == "true" else "false"
        elif not eq:
            raise DockerfileError(node.line, f"missing a value on flag: {name}")
        out[name] = value
    return out


def _name_values(node: Node, escape: str, legacy_ok: bool) -> list[tuple[str, str | None]]:
    name = node.cmd.upper()
    words = split_words(node.rest, escape)
    if not words:
        raise DockerfileError(node.line, f"{name} requires at least one argument")
    if "=" not in words[0]:
        if not legacy_ok:
            raise DockerfileError(node.line, f"{name} requires at least one argument")
        key, _, value = node.rest.partition(" ")
        if not value.strip():
            key, _, value = node.rest.partition("\t")
        if not value.strip():
            raise DockerfileError(node.line, f"{name} must have two arguments")
        return [(key, value.strip())]
    pairs: list[tuple[str, str | None]] = []
    for w in words:
        if "=" not in w:
            raise DockerfileError(node.line, f"Syntax error - can't find = in \"{w}\". "
                                  "Must be of the form: name=value")
        key, _, value = w.partition("=")
        if not key:
            raise DockerfileError(node.line, f"{name} names can not be blank")
        pairs.append((key, value))
    return pairs


def to_instruction(node: Node, escape: str) -> Instruction:
    kind = node.cmd
    if kind not in KINDS:
        raise DockerfileError(node.line, f"unknown instruction: {node.original.split()[0].upper()}")
    ins = Instruction(kind, node, _flags(node), text=node.rest)
    name = kind.upper()
    if kind in ("run", "cmd", "entrypoint", "shell"):
        ins.args, ins.json = _maybe_json(node.rest)
        if kind == "run" and not node.rest:
            raise DockerfileError(node.line, "RUN requires at least one argument")
        if kind == "shell" and not ins.json:
            raise DockerfileError(node.line, "SHELL requires the arguments to be in JSON form")
        if kind == "shell" and not ins.args:
            raise DockerfileError(node.line, "SHELL requires at least one argument")
    elif kind in ("add", "copy", "volume"):
        if node.rest.startswith("["):
            ins.args, ins.json = _maybe_json(node.rest)
            if not ins.json:
                ins.args = split_words(node.rest, escape)
        else:
            ins.args = split_words(node.rest, escape)
        if kind != "volume" and len(ins.args) < 2:
            raise DockerfileError(node.line, f"{name} requires at least two arguments, but only one was provided. "
                                  "Destination could not be determined.")
        if kind == "volume" and not [a for a in ins.args if a.strip()]:
            raise DockerfileError(node.line, "VOLUME requires at least one argument")
    elif kind in ("env", "label"):
        ins.pairs = _name_values(node, escape, legacy_ok=True)
    elif kind == "arg":
        words = split_words(node.rest, escape)
        if not words:
            raise DockerfileError(node.line, "ARG requires at least one argument")
        for w in words:
            key, eq, value = w.partition("=")
            if not key:
                raise DockerfileError(node.line, "ARG names can not be blank")
            ins.pairs.append((key, value if eq else None))
    elif kind in ("expose", "user", "workdir", "stopsignal", "maintainer"):
        ins.args = split_words(node.rest, escape)
        if not ins.args:
            raise DockerfileError(node.line, f"{name} requires at least one argument")
        if kind in ("user", "stopsignal") and len(ins.args) != 1:
            raise DockerfileError(node.line, f"{name} requires exactly one argument")
    elif kind == "onbuild":
        _onbuild(ins, node, escape)
    elif kind == "healthcheck":
        _healthcheck(ins, node)
    return ins


def _onbuild(ins: Instruction, node: Node, escape: str) -> None:
    if not node.rest:
        raise DockerfileError(node.line, "ONBUILD requires at least one argument")
    inner = node_from_line(node.rest, node.line, node.end_line)
    if inner.cmd == "onbuild":
        raise DockerfileError(node.line, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
    if inner.cmd in ("from", "maintainer"):
        raise DockerfileError(node.line, f"{inner.cmd.upper()} isn't allowed as an ONBUILD trigger")
    ins.sub = to_instruction(inner, escape)


def _healthcheck(ins: Instruction, node: Node) -> None:
    word, _, rest = node.rest.partition(" ")
    kind = word.upper()
    if kind == "NONE":
        if rest.strip() or ins.flags:
            raise DockerfileError(node.line, "HEALTHCHECK NONE takes no arguments")
        ins.args = ["NONE"]
        return
    if kind != "CMD":
        raise DockerfileError(node.line, f"Unknown type \"{word}\" in HEALTHCHECK (try CMD)")
    rest = rest.strip()
    if not rest:
        raise DockerfileError(node.line, "Missing command after HEALTHCHECK CMD")
    args, is_json = _maybe_json(rest)
    ins.args = ["CMD", *args] if is_json else ["CMD-SHELL", rest]
    ins.json = is_json


def _from(node: Node, index: int, flags: dict[str, str]) -> Stage:
    words = node.rest.split()
    if len(words) not in (1, 3):
        raise DockerfileError(node.line, "FROM requires either one or three arguments")
    name = ""
    if len(words) == 3:
        if words[1].lower() != "as":
            raise DockerfileError(node.line, "FROM requires either one or three arguments")
        name = words[2].lower()
        if not name[:1].isalpha() or not all(c.isalnum() or c in "_.-" for c in name):
            raise DockerfileError(node.line, f"invalid name for build stage: \"{words[2]}\", "
                                  "name can't start with a number or contain symbols")
    return Stage(words[0], name, flags.get("platform", ""), node, index)


def parse_dockerfile(text: str, filename: str = "Dockerfile") -> Dockerfile:
    """The whole Dockerfile as stages; DockerfileError (400) with the line on bad input."""
    parsed = parse(text)
    if not parsed.nodes:
        raise DockerfileError(1, f"file with no instructions: the Dockerfile ({filename}) cannot be empty")
    out = Dockerfile([], [], parsed.escape, parsed.warnings)
    for node in parsed.nodes:
        if node.cmd == "from":
            out.stages.append(_from(node, len(out.stages), _flags(node)))
            continue
        ins = to_instruction(node, parsed.escape)
        if not out.stages:
            if ins.kind != "arg":
                raise DockerfileError(node.line, "no build stage in current context")
            out.meta_args.append(ins)
        else:
            out.stages[-1].commands.append(ins)
    return out


def stages_for_target(df: Dockerfile, target: str) -> list[Stage]:
    """The stages up to and including `target` (all of them without a target)."""
    if not target:
        return df.stages
    for i, stage in enumerate(df.stages):
        if stage.name == target.lower():
            return df.stages[: i + 1]
    raise InvalidArgument(f"failed to reach build target {target} in Dockerfile")
