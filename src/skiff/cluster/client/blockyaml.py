"""A parser for the small block-YAML subset kubeconfig files are written in. Pure.

Importing PyYAML costs a command-line client more than everything else it does (tens of
milliseconds); kubeconfig files written by kubectl, k3s and `skiff server` use only block
mappings, block sequences, plain and quoted scalars, comments and the empty `{}`/`[]`.
`parse` returns None for anything outside that subset and the caller falls back to PyYAML.
"""

from __future__ import annotations

from typing import Any

_UNSUPPORTED_START = set("&*!|>%@`{[?=")
_YAML11_WORDS = {w for base in ("yes", "no", "on", "off", "y", "n", ".inf", "-.inf", "+.inf", ".nan")
                 for w in (base, base.capitalize(), base.upper(), base.title())} | {".Inf", "-.Inf", "+.Inf", ".NaN"}


class _Unsupported(Exception):
    pass


def _strip_comment(text: str) -> str:
    """Drop a trailing ` # comment` outside quotes."""
    if " #" not in text:
        return text
    if text[0] in "\"'":
        at = text.rfind(text[0])
        tail = text[at + 1:]
        if at > 0 and tail.lstrip().startswith("#"):
            return text[: at + 1]
        return text
    return text[: text.index(" #")].rstrip()


def _scalar(text: str) -> Any:
    text = _strip_comment(text.strip())
    if text == "{}":
        return {}
    if text == "[]":
        return []
    if not text or text in ("~", "null", "Null", "NULL"):
        return None
    if text[0] == '"':
        if len(text) < 2 or not text.endswith('"'):
            raise _Unsupported
        import json

        try:
            return json.loads(text)  # JSON's escapes are a subset of YAML's double-quoted ones
        except ValueError:
            raise _Unsupported from None
    if text[0] == "'":
        if len(text) < 2 or not text.endswith("'"):
            raise _Unsupported
        inner = text[1:-1]
        if "'" in inner.replace("''", ""):
            raise _Unsupported
        return inner.replace("''", "'")
    if text[0] in _UNSUPPORTED_START or " #" in text or ": " in text or text.endswith(":"):
        raise _Unsupported
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    if text in _YAML11_WORDS:
        raise _Unsupported  # yes/no/on/off and .inf/.nan: YAML 1.1's readings, left to PyYAML
    body = text[1:] if text[0] in "+-" else text
    if body.isdigit() and (body == "0" or not body.startswith("0")):
        return int(text)
    if body[:1].isdigit() or (body[:1] == "." and _looks_float(text)):
        raise _Unsupported  # octal, hex, floats, sexagesimals, dates: left to PyYAML
    return text


def _looks_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _lines(text: str) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    for raw in text.split("\n"):
        line = raw.rstrip("\r").rstrip()
        stripped = line.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        if "\t" in line[: len(line) - len(stripped)]:
            raise _Unsupported
        if stripped in ("---", "...") and len(line) == len(stripped):
            if out:
                raise _Unsupported  # several documents
            continue
        out.append((len(line) - len(stripped), stripped))
    return out


def _split_key(text: str) -> tuple[str, str] | None:
    """`key: value` → (key, value); None when the line is not a mapping entry."""
    if text[:1] in "\"'":
        close = text.find(text[0], 1)
        if close < 0 or text[close + 1:].lstrip().startswith(":"):
            raise _Unsupported  # quoted keys are left to PyYAML
        return None  # a quoted scalar
    if text.endswith(":"):
        return text[:-1], ""
    key, sep, value = text.partition(": ")
    if not sep:
        return None
    return key, value


def _block(lines: list[tuple[int, str]], i: int, indent: int) -> tuple[Any, int]:
    """The node whose lines start at lines[i] with this indentation."""
    if lines[i][1].startswith("- ") or lines[i][1] == "-":
        return _sequence(lines, i, indent)
    return _mapping(lines, i, indent)


def _value_after(lines: list[tuple[int, str]], i: int, indent: int, inline: str) -> tuple[Any, int]:
    """The value of an entry: inline, or the more-indented block (or same-indent sequence) after it."""
    if inline.strip():
        return _scalar(inline), i
    if i < len(lines):
        nxt_indent, nxt = lines[i]
        if nxt_indent > indent or (nxt_indent == indent and (nxt.startswith("- ") or nxt == "-")):
            return _block(lines, i, nxt_indent)
    return None, i


def _mapping(lines: list[tuple[int, str]], i: int, indent: int) -> tuple[dict[str, Any], int]:
    out: dict[str, Any] = {}
    while i < len(lines):
        line_indent, text = lines[i]
        if line_indent < indent:
            break
        if line_indent > indent:
            raise _Unsupported
        if text.startswith("- ") or text == "-":
            break
        pair = _split_key(text)
        if pair is None:
            raise _Unsupported
        key, inline = pair
        if key in out or not key or key[0] in _UNSUPPORTED_START or key.startswith("? "):
            raise _Unsupported
        value, i = _value_after(lines, i + 1, indent, inline)
        out[key] = value
    return out, i


def _sequence(lines: list[tuple[int, str]], i: int, indent: int) -> tuple[list[Any], int]:
    out: list[Any] = []
    while i < len(lines):
        line_indent, text = lines[i]
        if line_indent != indent or not (text.startswith("- ") or text == "-"):
            if line_indent > indent:
                raise _Unsupported
            break
        rest = text[2:] if text != "-" else ""
        inner = rest.lstrip(" ")
        if not inner:
            value, i = _value_after(lines, i + 1, indent, "")
            if value is None and i < len(lines) and lines[i][0] > indent:
                raise _Unsupported
            out.append(value)
            continue
        item_indent = indent + len(text) - len(inner)
        if inner.startswith("- ") or _split_key(inner) is None:
            out.append(_scalar(inner))
            i += 1
            continue
        # `- key: value` opens a mapping whose other keys sit at the item's indentation
        lines[i] = (item_indent, inner)
        value, i = _mapping(lines, i, item_indent)
        out.append(value)
    return out, i


def parse(text: str) -> Any:
    """The document, or None when the text is outside the subset (parse it with PyYAML)."""
    try:
        lines = _lines(text)
        if not lines:
            return None
        value, end = _block(lines, 0, lines[0][0])
        if end != len(lines):
            return None
        return value
    except (_Unsupported, ValueError, IndexError):
        return None
