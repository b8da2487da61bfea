"""A subset of Go's text/template, enough for Docker's `--format` strings. Pure.

Supported: text and ``{{ }}`` actions (with ``{{-``/``-}}`` trimming), fields ``.A.B`` on dicts
and objects, ``.`` and variables (``$``, ``$x := ...``), string/number/bool literals,
pipelines ``a | f``, parenthesised pipelines, ``if``/``else if``/``else``, ``range`` (with
``$i, $v :=``), ``with``, and the functions Docker's CLI adds (json, join, split, upper,
lower, title, pad, truncate, println) plus Go's (index, len, eq, ne, lt, le, gt, ge, and,
or, not, print, printf, slice).
"""

from __future__ import annotations

import json
import re


class TemplateError(Exception):
    pass


NO_VALUE = "<no value>"


# -- lexing -------------------------------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<raw>`[^`]*`)
  | (?P<char>'(?:[^'\\]|\\.)')
  | (?P<decl>:=)
  | (?P<assign>=)
  | (?P<pipe>\|)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<comma>,)
  | (?P<var>\$[A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)
  | (?P<field>(?:\.[A-Za-z0-9_]+)+|\.)
  | (?P<num>[-+]?(?:0[xX][0-9a-fA-F]+|\d+\.\d*(?:[eE][-+]?\d+)?|\d*\.\d+|\d+(?:[eE][-+]?\d+)?))
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<chain>(?:\.[A-Za-z0-9_]+)+)
""", re.VERBOSE)


def _tokens(text: str) -> list[tuple[str, str]]:
    out = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise TemplateError(f"unexpected {text[pos]!r} in command")
        kind = m.lastgroup or ""
        if kind != "ws":
            out.append((kind, m.group()))
        pos = m.end()
    return out


# -- syntax tree --------------------------------------------------------------------------------

class Pipeline:
    def __init__(self, decl: list[str], commands: list[list], is_assign: bool = False):
        self.decl = decl
        self.commands = commands  # each command: a list of operands
        self.is_assign = is_assign


_NO_PIPE = Pipeline([], [])


class Node:
    def __init__(self, kind: str, text: str = "", pipe: Pipeline = _NO_PIPE):
        self.kind = kind  # text | action | if | range | with
        self.text = text
        self.pipe = pipe
        self.body: list = []
        self.else_: list = []


def _split_actions(src: str) -> list[tuple[str, str]]:
    """Text and action pieces, with Go's ``{{-`` / ``-}}`` whitespace trimming applied."""
    pieces: list[tuple[str, str]] = []
    pos = 0
    while True:
        start = src.find("{{", pos)
        if start < 0:
            pieces.append(("text", src[pos:]))
            return pieces
        text = src[pos:start]
        inner_start = start + 2
        if src.startswith("- ", inner_start) or src.startswith("-\t", inner_start) or src.startswith("-\n", inner_start):
            text = text.rstrip()
            inner_start += 1
        end = src.find("}}", inner_start)
        if end < 0:
            raise TemplateError("unclosed action")
        inner = src[inner_start:end]
        trim_right = inner.endswith(" -") or inner.endswith("\t-") or inner.endswith("\n-")
        if trim_right:
            inner = inner[:-1]
        pieces.append(("text", text))
        pieces.append(("action", inner.strip()))
        pos = end + 2
        if trim_right:
            while pos < len(src) and src[pos] in " \t\r\n":
                pos += 1


class _Parser:
    def __init__(self, src: str):
        self.pieces = _split_actions(src)
        self.i = 0

    def parse_list(self, stop: tuple[str, ...] = ()) -> tuple[list, str]:
        nodes: list = []
        while self.i < len(self.pieces):
            kind, text = self.pieces[self.i]
            self.i += 1
            if kind == "text":
                if text:
                    nodes.append(Node("text", text=text))
                continue
            if text.startswith("/*"):
                continue  # comment
            word = text.split(None, 1)[0] if text else ""
            if word in ("end", "else"):
                if word not in stop and not (word == "else" and "else" in stop):
                    raise TemplateError(f"unexpected {{{{{word}}}}}")
                return nodes, text
            if word in ("if", "range", "with"):
                nodes.append(self.parse_block(word, text[len(word):].strip()))
            elif word in ("define", "template", "block"):
                raise TemplateError(f"{{{{{word}}}}} is not supported")
            else:
                nodes.append(Node("action", pipe=_parse_pipeline(_tokens(text))))
        if stop:
            raise TemplateError("unexpected EOF")
        return nodes, ""

    def parse_block(self, word: str, rest: str) -> Node:
        node = Node(word, pipe=_parse_pipeline(_tokens(rest)))
        node.body, ender = self.parse_list(("end", "else"))
        if ender.startswith("else"):
            tail = ender[4:].strip()
            if tail.startswith("if ") and word == "if":
                node.else_ = [self.parse_block("if", tail[3:].strip())]
                return node  # the nested if consumed the shared {{end}}
            node.else_, _ = self.parse_list(("end",))
        return node


def _parse_pipeline(tokens: list[tuple[str, str]]) -> Pipeline:
    decl: list[str] = []
    is_assign = False
    # "$x := pipeline" or "$i, $v := pipeline"
    for n in (2, 4):
        if len(tokens) > n - 1 and tokens[n - 1][0] in ("decl", "assign") and all(
                t[0] == "var" for t in tokens[: n - 1: 2]):
            if n == 4 and tokens[1][0] != "comma":
                continue
            decl = [t[1] for t in tokens[: n - 1: 2]]
            is_assign = tokens[n - 1][0] == "assign"
            tokens = tokens[n:]
            break
    commands: list[list] = [[]]
    pos = 0
    while pos < len(tokens):
        kind, text = tokens[pos]
        if kind == "pipe":
            commands.append([])
            pos += 1
            continue
        operand, pos = _parse_operand(tokens, pos)
        commands[-1].append(operand)
    if not commands[0] or any(not c for c in commands):
        raise TemplateError("missing value for command")
    return Pipeline(decl, commands, is_assign)


def _parse_operand(tokens: list[tuple[str, str]], pos: int) -> tuple[tuple, int]:
    kind, text = tokens[pos]
    pos += 1
    if kind == "lparen":
        depth, end = 1, pos
        while end < len(tokens) and depth:
            depth += {"lparen": 1, "rparen": -1}.get(tokens[end][0], 0)
            end += 1
        if depth:
            raise TemplateError("unclosed left paren")
        inner = _parse_pipeline(tokens[pos:end - 1])
        chain: list[str] = []
        if end < len(tokens) and tokens[end][0] in ("chain", "field") and tokens[end][1] != ".":
            chain = tokens[end][1].split(".")[1:]
            end += 1
        return ("sub", inner, chain), end
    if kind == "field":
        return ("field", [] if text == "." else text.split(".")[1:]), pos
    if kind == "var":
        name, *chain = text.split(".")
        return ("var", name, chain), pos
    if kind in ("str", "char"):
        value = json.loads(text) if kind == "str" else json.loads('"' + text[1:-1] + '"')
        return ("lit", value if kind == "str" else ord(value)), pos
    if kind == "raw":
        return ("lit", text[1:-1]), pos
    if kind == "num":
        try:
            return ("lit", int(text, 0)), pos
        except ValueError:
            return ("lit", float(text)), pos
    if kind == "ident":
        if text in ("true", "false"):
            return ("lit", text == "true"), pos
        if text == "nil":
            return ("lit", None), pos
        return ("func", text), pos
    raise TemplateError(f"unexpected {text!r} in operand")


# -- values as Go prints them -------------------------------------------------------------------

def go_string(value, top: bool = True) -> str:
    """fmt.Sprint of a value: maps as map[k:v], lists as [a b], nil as <no value>/<nil>."""
    if value is None:
        return NO_VALUE if top else "<nil>"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_string(v, False)}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, list | tuple):
        return "[" + " ".join(go_string(v, False) for v in value) + "]"
    return str(value)


def _go_float(value: float) -> str:
    """strconv 'g' with shortest digits, as fmt's %v prints a float64 (1e+06, 0.5, 123456)."""
    if value != value or value in (float("inf"), float("-inf")):
        return {"nan": "NaN", "inf": "+Inf", "-inf": "-Inf"}[repr(value)]
    from decimal import Decimal

    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    text = "".join(map(str, digits)) or "0"
    exp = len(text) + int(exponent) - 1
    prefix = "-" if sign else ""
    if text == "0":
        return prefix + "0"
    if exp < -4 or exp >= 6:
        mant = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{prefix}{mant}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    return prefix + format(Decimal(repr(abs(value))).normalize(), "f")


def go_json(value) -> str:
    """json.Marshal: compact, with Go's HTML escaping of <, > and &."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_jsonable)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _jsonable(obj):
    to_dict = getattr(obj, "to_dict", None)
    if to_dict:
        return to_dict()
    raise TypeError(f"cannot encode {type(obj).__name__}")


def truthy(value) -> bool:
    if value is None or value is False:
        return False
    if isinstance(value, int | float | str | list | tuple | dict):
        return bool(value)
    return True


# -- functions ----------------------------------------------------------------------------------

def _index(item, *keys):
    for k in keys:
        if item is None:
            return None
        if isinstance(item, dict):
            item = item.get(k)
        elif isinstance(item, list | tuple | str):
            try:
                item = item[int(k)]
            except (IndexError, ValueError):
                raise TemplateError(f"error calling index: index out of range: {k}") from None
        else:
            raise TemplateError(f"can't index item of type {type(item).__name__}")
    return item


def _printf(fmt: str, *args) -> str:
    out = []
    it = iter(args)
    i = 0
    while i < len(fmt):
        c = fmt[i]
        if c != "%":
            out.append(c)
            i += 1
            continue
        m = re.match(r"%([-+# 0]*\d*(?:\.\d+)?)([vsdqfgxXtTe%])", fmt[i:])
        if not m:
            out.append(c)
            i += 1
            continue
        flags, verb = m.groups()
        i += m.end()
        if verb == "%":
            out.append("%")
            continue
        arg = next(it, None)
        if verb in ("v", "s", "t"):
            out.append(("%" + flags + "s") % go_string(arg, False))
        elif verb == "q":
            out.append(json.dumps(go_string(arg, False)))
        elif verb == "T":
            out.append(type(arg).__name__)
        else:
            out.append(("%" + flags + verb) % arg)
    return "".join(out)


def _compare(op):
    def fn(a, *bs):
        if op == "eq":
            return any(a == b for b in bs)
        b = bs[0]
        return {"ne": a != b, "lt": a < b, "le": a <= b, "gt": a > b, "ge": a >= b}[op]
    return fn


def _truncate(s, n):
    s = go_string(s)
    return s[: int(n)]


FUNCS = {
    "json": go_json,
    "join": lambda items, sep: sep.join(go_string(i, False) for i in (items or [])),
    "split": lambda s, sep: s.split(sep),
    "upper": lambda s: go_string(s).upper(),
    "lower": lambda s: go_string(s).lower(),
    "title": lambda s: re.sub(r"\b[a-z]", lambda m: m.group().upper(), go_string(s)),
    "pad": lambda s, left, right: " " * int(left) + go_string(s) + " " * int(right),
    "truncate": _truncate,
    "println": lambda *a: " ".join(go_string(x, False) for x in a) + "\n",
    "print": lambda *a: "".join(go_string(x, False) for x in a),
    "printf": _printf,
    "index": _index,
    "len": lambda x: len(x or []),
    "slice": lambda x, *i: x[int(i[0]) if i else 0: int(i[1]) if len(i) > 1 else None],
    "not": lambda x: not truthy(x),
    "eq": _compare("eq"), "ne": _compare("ne"), "lt": _compare("lt"),
    "le": _compare("le"), "gt": _compare("gt"), "ge": _compare("ge"),
}


# -- execution ----------------------------------------------------------------------------------

def _describe(op: tuple) -> str:
    if op[0] == "field":
        return "." + ".".join(op[1])
    if op[0] == "lit":
        return repr(op[1])
    return str(op[1])


def _field(value, name: str):
    if callable(value) and not isinstance(value, type):
        value = value()  # a method in the middle of a chain, called without arguments
    if isinstance(value, dict):
        return value.get(name)
    if value is None:
        return None
    try:
        return getattr(value, name)
    except AttributeError:
        raise TemplateError(f"can't evaluate field {name} in type {type(value).__name__}") from None


class _Exec:
    def __init__(self, funcs: dict):
        self.funcs = funcs

    def run(self, nodes: list, dot, scope: list[dict], out: list[str]) -> None:
        for node in nodes:
            if node.kind == "text":
                out.append(node.text)
            elif node.kind == "action":
                value = self.pipeline(node.pipe, dot, scope)
                if not node.pipe.decl:
                    out.append(go_string(value))
            elif node.kind == "if":
                scope.append({})
                chosen = node.body if truthy(self.pipeline(node.pipe, dot, scope)) else node.else_
                self.run(chosen, dot, scope, out)
                scope.pop()
            elif node.kind == "with":
                scope.append({})
                value = self.pipeline(node.pipe, dot, scope, declare=False)
                if truthy(value):
                    self._declare(node.pipe, scope, value)
                    self.run(node.body, value, scope, out)
                else:
                    self.run(node.else_, dot, scope, out)
                scope.pop()
            elif node.kind == "range":
                self._range(node, dot, scope, out)

    def _range(self, node: Node, dot, scope: list[dict], out: list[str]) -> None:
        scope.append({})
        value = self.pipeline(node.pipe, dot, scope, declare=False)
        if isinstance(value, dict):
            items = [(k, value[k]) for k in sorted(value)]
        elif isinstance(value, list | tuple):
            items = list(enumerate(value))
        elif isinstance(value, int) and not isinstance(value, bool):
            items = [(i, i) for i in range(value)]
        elif value is None:
            items = []
        else:
            raise TemplateError(f"range can't iterate over {go_string(value)}")
        if not items:
            self.run(node.else_, dot, scope, out)
        for key, item in items:
            if len(node.pipe.decl) == 2:
                scope[-1][node.pipe.decl[0]] = key
                scope[-1][node.pipe.decl[1]] = item
            elif node.pipe.decl:
                scope[-1][node.pipe.decl[0]] = item
            self.run(node.body, item, scope, out)
        scope.pop()

    def _declare(self, pipe: Pipeline, scope: list[dict], value) -> None:
        for name in pipe.decl:
            if pipe.is_assign:
                for frame in reversed(scope):
                    if name in frame:
                        frame[name] = value
                        break
                else:
                    raise TemplateError(f"undefined variable: {name}")
            else:
                scope[-1][name] = value

    def pipeline(self, pipe: Pipeline, dot, scope: list[dict], declare: bool = True):
        value = None
        for i, command in enumerate(pipe.commands):
            value = self.command(command, dot, scope, value, piped=i > 0)
        if declare and pipe.decl:
            self._declare(pipe, scope, value)
        return value

    def command(self, command: list, dot, scope: list[dict], prev, piped: bool):
        first = command[0]
        if first[0] == "func":
            name = first[1]
            if name in ("and", "or"):
                args = [self.operand(a, dot, scope) for a in command[1:]] + ([prev] if piped else [])
                result = args[0] if args else None
                for a in args:
                    result = a
                    if truthy(a) != (name == "and"):
                        break
                return result
            fn = self.funcs.get(name)
            if fn is None:
                raise TemplateError(f'function "{name}" not defined')
            args = [self.operand(a, dot, scope) for a in command[1:]]
            if piped:
                args.append(prev)
            try:
                return fn(*args)
            except TemplateError:
                raise
            except Exception as e:
                raise TemplateError(f"error calling {name}: {e}") from None
        value = self.operand(first, dot, scope, call_last=False)
        if callable(value):  # a method such as {{.Label "key"}}
            args = [self.operand(a, dot, scope) for a in command[1:]] + ([prev] if piped else [])
            return value(*args)
        if len(command) > 1 or piped:
            raise TemplateError(f"can't give argument to non-function {_describe(first)}")
        return value

    def operand(self, op: tuple, dot, scope: list[dict], call_last: bool = True):
        kind = op[0]
        if kind == "lit":
            return op[1]
        if kind == "field":
            value = dot
            for name in op[1]:
                value = _field(value, name)
            return value() if call_last and callable(value) else value
        if kind == "var":
            name, chain = op[1], op[2]
            for frame in reversed(scope):
                if name in frame:
                    value = frame[name]
                    break
            else:
                raise TemplateError(f"undefined variable: {name}")
            for part in chain:
                value = _field(value, part)
            return value
        if kind == "sub":
            value = self.pipeline(op[1], dot, scope)
            for part in op[2]:
                value = _field(value, part)
            return value
        if kind == "func":
            return self.command([op], dot, scope, None, False)
        raise TemplateError(f"bad operand {op}")


class Template:
    """A parsed template; `execute(data)` renders it. Functions can be extended per use."""

    def __init__(self, src: str, funcs: dict | None = None):
        self.src = src
        self.nodes, _ = _Parser(src).parse_list()
        self.funcs = dict(FUNCS, **(funcs or {}))

    def execute(self, data) -> str:
        out: list[str] = []
        _Exec(self.funcs).run(self.nodes, data, [{"$": data}], out)
        return "".join(out)


def render(src: str, data) -> str:
    return Template(src).execute(data)
