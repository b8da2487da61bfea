"""Label and field selectors, parsed and matched as k8s.io/apimachinery does.

Label selector text: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`,
`a>1`, `a<1`, comma-separated (all must hold). `!=` and `notin` also match objects
without the key. Field selectors take only `=`, `==` and `!=`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from skiff.cluster.apimachinery import names
from skiff.cluster.apimachinery.errors import ApiError, bad_request

_OPS = ("==", "!=", "=", "in", "notin", "exists", "!", "gt", "lt")


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # one of _OPS ("!" = does not exist)
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op in ("=", "==", "in"):
            return present and value in self.values
        if self.op in ("!=", "notin"):
            return not present or value not in self.values
        if self.op == "exists":
            return present
        if self.op == "!":
            return not present
        if not present:
            return False
        try:
            have, want = int(str(value)), int(self.values[0])
        except ValueError:
            return False
        return have > want if self.op == "gt" else have < want

    def __str__(self) -> str:
        if self.op == "exists":
            return self.key
        if self.op == "!":
            return "!" + self.key
        if self.op in ("in", "notin"):
            return f"{self.key} {self.op} ({','.join(self.values)})"
        if self.op in ("gt", "lt"):
            return f"{self.key}{'>' if self.op == 'gt' else '<'}{self.values[0]}"
        return f"{self.key}{self.op}{self.values[0]}"


class LabelSelector:
    """A conjunction of requirements; `nothing()` matches no object (a nil metav1.LabelSelector)."""

    def __init__(self, requirements: list[Requirement] | tuple[Requirement, ...] = (), nothing: bool = False):
        self.requirements = tuple(sorted(requirements, key=lambda r: r.key))
        self.nothing = nothing

    @property
    def empty(self) -> bool:
        """True when it selects everything."""
        return not self.requirements and not self.nothing

    def matches(self, labels: dict[str, str] | None) -> bool:
        if self.nothing:
            return False
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)

    def __repr__(self) -> str:
        return f"LabelSelector({str(self)!r})"

    @classmethod
    def everything(cls) -> LabelSelector:
        return cls()

    @classmethod
    def parse(cls, text: str) -> LabelSelector:
        """Parse `-l` / `labelSelector=` text; ApiError 400 on bad syntax."""
        return cls(_LabelParser(text).parse())

    @classmethod
    def from_set(cls, labels: dict[str, str]) -> LabelSelector:
        return cls([Requirement(k, "=", (v,)) for k, v in labels.items()])

    @classmethod
    def from_object(cls, selector: dict[str, Any] | None) -> LabelSelector:
        """A metav1.LabelSelector; None selects nothing, {} everything."""
        if selector is None:
            return cls(nothing=True)
        reqs = [Requirement(k, "=", (str(v),)) for k, v in (selector.get("matchLabels") or {}).items()]
        for expr in selector.get("matchExpressions") or []:
            key, op, values = expr.get("key", ""), expr.get("operator", ""), expr.get("values") or []
            if op == "In":
                reqs.append(Requirement(key, "in", tuple(sorted(set(values)))))
            elif op == "NotIn":
                reqs.append(Requirement(key, "notin", tuple(sorted(set(values)))))
            elif op == "Exists":
                reqs.append(Requirement(key, "exists"))
            elif op == "DoesNotExist":
                reqs.append(Requirement(key, "!"))
            else:
                raise bad_request(f'"{op}" is not a valid label selector operator')
        return cls(reqs)


def format_label_selector(selector: dict[str, Any] | None) -> str:
    """metav1.FormatLabelSelector: what `kubectl get -o wide` shows in SELECTOR."""
    if selector is None:
        return "<none>"
    text = str(LabelSelector.from_object(selector))
    return text or "<none>"


class _LabelParser:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    def parse(self) -> list[Requirement]:
        reqs: list[Requirement] = []
        if not self.text.strip():
            return reqs
        while True:
            reqs.append(self._requirement())
            self._skip_space()
            if self.pos >= len(self.text):
                return reqs
            if self.text[self.pos] != ",":
                raise self._error(self._word() or self.text[self.pos], "','")
            self.pos += 1

    def _error(self, found: str, expected: str) -> ApiError:
        return bad_request(f"unable to parse requirement: found '{found}', expected: {expected}")

    def _skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def _word(self) -> str:
        self._skip_space()
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in " \t\n,()=!<>":
            self.pos += 1
        return self.text[start:self.pos]

    def _peek_op(self) -> str:
        self._skip_space()
        rest = self.text[self.pos:]
        for op in ("==", "!=", "=", ">", "<"):
            if rest.startswith(op):
                self.pos += len(op)
                return op
        return ""

    def _requirement(self) -> Requirement:
        self._skip_space()
        negate = self.text.startswith("!", self.pos)
        if negate:
            self.pos += 1
        key = self._word()
        if not key:
            found = self.text[self.pos] if self.pos < len(self.text) else "EOF"
            raise self._error(found, "identifier")
        self._check_key(key)
        self._skip_space()
        if negate:
            return Requirement(key, "!")
        if self.pos >= len(self.text) or self.text[self.pos] == ",":
            return Requirement(key, "exists")
        op = self._peek_op()
        if op in ("=", "==", "!="):
            value = self._word()
            self._check_value(value)
            return Requirement(key, op if op != "==" else "==", (value,))
        if op in (">", "<"):
            value = self._word()
            try:
                int(value)
            except ValueError:
                raise bad_request(f"unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an "
                                  f"integer: {value!r}") from None
            return Requirement(key, "gt" if op == ">" else "lt", (value,))
        word = self._word()
        if word not in ("in", "notin"):
            raise self._error(word or "EOF", "'=', '!=', '==', 'in', notin'")
        return Requirement(key, word, tuple(sorted(set(self._value_set()))))

    def _value_set(self) -> list[str]:
        self._skip_space()
        if not self.text.startswith("(", self.pos):
            raise self._error(self._word() or "EOF", "'('")
        self.pos += 1
        values: list[str] = []
        while True:
            value = self._word()
            self._check_value(value)
            values.append(value)
            self._skip_space()
            if self.text.startswith(")", self.pos):
                self.pos += 1
                return values
            if not self.text.startswith(",", self.pos):
                raise self._error(self.text[self.pos] if self.pos < len(self.text) else "EOF", "',' or ')'")
            self.pos += 1

    @staticmethod
    def _check_key(key: str) -> None:
        errs = names.qualified_name(key)
        if errs:
            raise bad_request(f'unable to parse requirement: key: Invalid value: "{key}": {"; ".join(errs)}')

    @staticmethod
    def _check_value(value: str) -> None:
        errs = names.label_value(value)
        if errs:
            raise bad_request(f'unable to parse requirement: values[0][{value}]: Invalid value: "{value}": '
                              f'{"; ".join(errs)}')


@dataclass(frozen=True)
class FieldRequirement:
    field: str
    op: str  # "=", "==" or "!="
    value: str

    def matches(self, fields: dict[str, str]) -> bool:
        have = fields.get(self.field, "")
        return have == self.value if self.op != "!=" else have != self.value


class FieldSelector:
    def __init__(self, requirements: list[FieldRequirement] | tuple[FieldRequirement, ...] = ()):
        self.requirements = tuple(requirements)

    @property
    def empty(self) -> bool:
        return not self.requirements

    @property
    def fields(self) -> list[str]:
        return [r.field for r in self.requirements]

    def matches(self, fields: dict[str, str]) -> bool:
        return all(r.matches(fields) for r in self.requirements)

    def value_of(self, field: str) -> str | None:
        """The value an `=` requirement pins `field` to (lets a server narrow a list by name)."""
        for r in self.requirements:
            if r.field == field and r.op != "!=":
                return r.value
        return None

    def __str__(self) -> str:
        return ",".join(f"{r.field}{r.op}{_escape(r.value)}" for r in self.requirements)

    @classmethod
    def parse(cls, text: str) -> FieldSelector:
        reqs = []
        for term in _split_unescaped(text, ","):
            if not term:
                continue
            for op in ("!=", "==", "="):
                idx = _find_unescaped(term, op)
                if idx >= 0:
                    field, value = term[:idx], term[idx + len(op):]
                    reqs.append(FieldRequirement(field.strip(), op, _unescape(value)))
                    break
            else:
                raise bad_request(f"invalid selector: '{text}'; can't understand '{term}'")
        return cls(reqs)


def _escape(value: str) -> str:
    out = value.replace("\\", "\\\\")
    for ch in ",=!":
        out = out.replace(ch, "\\" + ch)
    return out


def _unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            out.append(value[i + 1])
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def _split_unescaped(text: str, sep: str) -> list[str]:
    parts, current, i = [], [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            current.append(text[i:i + 2])
            i += 2
            continue
        if text[i] == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(text[i])
        i += 1
    parts.append("".join(current))
    return parts


def _find_unescaped(term: str, op: str) -> int:
    i = 0
    while i < len(term):
        if term[i] == "\\":
            i += 2
            continue
        if term.startswith(op, i):
            return i
        i += 1
    return -1
