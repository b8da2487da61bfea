"""kubectl's JSONPath templates (`-o jsonpath='{.items[*].metadata.name}'`), pure.

Supported: literal text, `{.a.b}`, `{.a['b.c']}`, `[n]`, `[-n]`, `[a:b]`, `[*]`, `..name`,
`[?(@.x=="y")]` (==, !=, <, >, <=, >=, and bare existence), `{range …}…{end}`, `{"\\n"}`.
Several results of one expression are joined with a space, as kubectl does.
"""

from __future__ import annotations

import json
import re
from typing import Any

_MISSING = object()


class JSONPathError(Exception):
    pass


def _tokenize_template(template: str) -> list[tuple[str, str]]:
    """[('text', ...), ('expr', ...)] — braces inside quoted strings do not end an expression."""
    out: list[tuple[str, str]] = []
    i, n = 0, len(template)
    text = ""
    while i < n:
        c = template[i]
        if c == "{":
            if text:
                out.append(("text", text))
                text = ""
            j, quote = i + 1, ""
            while j < n:
                ch = template[j]
                if quote:
                    if ch == "\\":
                        j += 1
                    elif ch == quote:
                        quote = ""
                elif ch in "\"'":
                    quote = ch
                elif ch == "}":
                    break
                j += 1
            if j >= n:
                raise JSONPathError("unclosed action")
            out.append(("expr", template[i + 1:j].strip()))
            i = j + 1
        else:
            text += c
            i += 1
    if text:
        out.append(("text", text))
    return out


_STEP = re.compile(r"""\.\.(?P<deep>[\w-]+|\*)|\.(?P<field>[\w-]+|\*)|\[(?P<bracket>(?:[^\]'"]|'[^']*'|"[^"]*")*)\]""")


def _steps(expr: str) -> list[tuple[str, str]]:
    if expr in ("", "."):
        return []
    if expr.startswith("$"):
        expr = expr[1:]
    if expr and expr[0] not in ".[":
        expr = "." + expr
    steps, pos = [], 0
    while pos < len(expr):
        m = _STEP.match(expr, pos)
        if not m:
            raise JSONPathError(f"unrecognized character in action: {expr[pos:]!r}")
        if m.group("deep") is not None:
            steps.append(("deep", m.group("deep")))
        elif m.group("field") is not None:
            steps.append(("field", m.group("field")))
        else:
            steps.append(("bracket", m.group("bracket").strip()))
        pos = m.end()
    return steps


def _children(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, list):
        return list(value)
    return []


def _descend(value: Any) -> list[Any]:
    out = [value]
    for child in _children(value):
        out.extend(_descend(child))
    return out


def _literal(text: str) -> Any:
    text = text.strip()
    if text[:1] in "\"'" and text[-1:] == text[:1]:
        return text[1:-1]
    try:
        return json.loads(text)
    except ValueError:
        return text


_FILTER = re.compile(r"^\?\((?P<left>@[^=!<>]*)\s*(?:(?P<op>==|!=|<=|>=|<|>)\s*(?P<right>.+))?\)$")


def _filter(items: list[Any], expr: str) -> list[Any]:
    m = _FILTER.match(expr)
    if not m:
        raise JSONPathError(f"unsupported filter: {expr}")
    left = m.group("left").strip()[1:]
    op, right = m.group("op"), m.group("right")
    out = []
    for item in items:
        found = _eval(_steps(left), [item]) if left else [item]
        if op is None:
            if found:
                out.append(item)
            continue
        if right.strip().startswith("@"):
            rvals = _eval(_steps(right.strip()[1:]), [item])
            rv = rvals[0] if rvals else _MISSING
        else:
            rv = _literal(right)
        for lv in found:
            try:
                ok = {"==": lv == rv, "!=": lv != rv}.get(op)
                if ok is None:
                    ok = {"<": lv < rv, ">": lv > rv, "<=": lv <= rv, ">=": lv >= rv}[op]
            except TypeError:
                ok = False
            if ok:
                out.append(item)
                break
    return out


def _index(values: list[Any], spec: str) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if spec == "*":
            out.extend(_children(value))
        elif spec.startswith("?"):
            out.extend(_filter(_children(value) if isinstance(value, list) else [value], spec))
        elif spec[:1] in "'\"":
            for key in (k.strip()[1:-1] for k in spec.split(",")):
                if isinstance(value, dict) and key in value:
                    out.append(value[key])
        elif ":" in spec and isinstance(value, list):
            parts = [int(p) if p.strip() else None for p in spec.split(":")]
            out.extend(value[slice(*parts)])
        elif isinstance(value, list):
            try:
                out.append(value[int(spec)])
            except (IndexError, ValueError):
                raise JSONPathError(f"array index out of bounds: index {spec}, length {len(value)}") from None
    return out


def _eval(steps: list[tuple[str, str]], values: list[Any]) -> list[Any]:
    for kind, arg in steps:
        nxt: list[Any] = []
        if kind == "field":
            for v in values:
                if arg == "*":
                    nxt.extend(_children(v))
                elif isinstance(v, dict) and arg in v:
                    nxt.append(v[arg])
        elif kind == "deep":
            for v in values:
                for d in _descend(v):
                    if arg == "*":
                        nxt.extend(_children(d))
                    elif isinstance(d, dict) and arg in d:
                        nxt.append(d[arg])
        else:
            nxt = _index(values, arg)
        values = nxt
    return values


def format_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return str(value)


def _unescape(text: str) -> str:
    return text.replace("\\n", "\n").replace("\\t", "\t").replace("\\r", "\r")


def render(template: str, data: Any, allow_missing: bool = True) -> str:
    """Render a JSONPath template against `data` (the object or the List)."""
    tokens = _tokenize_template(template)
    out, _ = _render(tokens, 0, data, allow_missing, stop_at_end=False)
    return out


def _render(tokens: list[tuple[str, str]], i: int, data: Any, allow_missing: bool, stop_at_end: bool) -> tuple[str, int]:
    out = []
    while i < len(tokens):
        kind, value = tokens[i]
        if kind == "text":
            out.append(value)
            i += 1
            continue
        if value == "end":
            if stop_at_end:
                return "".join(out), i + 1
            raise JSONPathError("not in range, nothing to end")
        if value.startswith("range "):
            items = _eval(_steps(value[6:].strip()), [data])
            end = _skip_range(tokens, i + 1)
            for item in items:
                text, _ = _render(tokens, i + 1, item, allow_missing, stop_at_end=True)
                out.append(text)
            i = end
            continue
        if value[:1] in "\"'":
            out.append(_unescape(_literal(value)))
            i += 1
            continue
        results = _eval(_steps(value), [data])
        if not results and not allow_missing:
            raise JSONPathError(f"{value} is not found")
        out.append(" ".join(format_value(r) for r in results))
        i += 1
    if stop_at_end:
        raise JSONPathError("range without end")
    return "".join(out), i


def _skip_range(tokens: list[tuple[str, str]], i: int) -> int:
    depth = 1
    while i < len(tokens):
        kind, value = tokens[i]
        if kind == "expr" and value.startswith("range "):
            depth += 1
        elif kind == "expr" and value == "end":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise JSONPathError("range without end")


def lookup(expr: str, data: Any) -> list[Any]:
    """Values of one expression (custom-columns' `.metadata.name`, with or without braces)."""
    expr = expr.strip()
    if expr.startswith("{") and expr.endswith("}"):
        expr = expr[1:-1]
    return _eval(_steps(expr), [data])
