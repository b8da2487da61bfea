"""resource.Quantity: parse, compare and format as Kubernetes does.

`100m`, `1Gi`, `1e3`, `0.5` parse to exact Fractions; `format` gives the canonical
string Kubernetes serialises (`0.5` -> `500m`, `1024Mi` -> `1Gi`, `1000` -> `1k`),
keeping the format family (binary, decimal, exponent) of the input.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from skiff.cluster.apimachinery.errors import ApiError, bad_request

_SYNTAX = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
SYNTAX_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"

_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_DECIMAL_SUFFIX = {v: k for k, v in _DECIMAL.items()}
_BINARY_SUFFIX = {v: k for k, v in _BINARY.items()}

BINARY_SI = "BinarySI"
DECIMAL_SI = "DecimalSI"
DECIMAL_EXPONENT = "DecimalExponent"


class Quantity:
    __slots__ = ("value", "format")

    def __init__(self, value: Fraction, fmt: str = DECIMAL_SI):
        self.value = value
        self.format = fmt

    def __str__(self) -> str:
        return format_quantity(self.value, self.format)

    def __repr__(self) -> str:
        return f"Quantity({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Quantity) and self.value == other.value

    def __lt__(self, other: Quantity) -> bool:
        return self.value < other.value

    def __le__(self, other: Quantity) -> bool:
        return self.value <= other.value

    def __hash__(self) -> int:
        return hash(self.value)

    def milli_value(self) -> int:
        return math.ceil(self.value * 1000)

    def int_value(self) -> int:
        return math.ceil(self.value)


def parse(text: str | int | float) -> Quantity:
    """A Quantity; ApiError 400 with Kubernetes' message when the syntax is wrong."""
    if isinstance(text, bool):
        raise bad_request(SYNTAX_ERROR)
    if isinstance(text, int):
        return Quantity(Fraction(text), DECIMAL_SI)
    if isinstance(text, float):
        return Quantity(Fraction(str(text)), DECIMAL_SI)
    match = _SYNTAX.match(text.strip())
    if not match:
        raise bad_request(SYNTAX_ERROR)
    number, suffix = match.groups()
    try:
        amount = Fraction(number)
    except (ValueError, ZeroDivisionError):
        raise bad_request(SYNTAX_ERROR) from None
    if suffix in _BINARY:
        return Quantity(amount * 1024 ** _BINARY[suffix], BINARY_SI)
    if suffix in _DECIMAL:
        return Quantity(amount * Fraction(10) ** _DECIMAL[suffix], DECIMAL_SI)
    exp = re.fullmatch(r"[eE]([-+]?[0-9]+)", suffix)
    if exp:
        return Quantity(amount * Fraction(10) ** int(exp.group(1)), DECIMAL_EXPONENT)
    raise bad_request("unable to parse quantity's suffix")


def parse_quantity(text: str | int | float) -> Fraction:
    return parse(text).value


def is_valid(text: object) -> bool:
    try:
        parse(text)  # type: ignore[arg-type]
    except ApiError:
        return False
    return True


def format_quantity(value: Fraction, fmt: str = DECIMAL_SI) -> str:
    """The canonical form: the largest suffix that keeps an integer mantissa."""
    negative = value < 0
    magnitude = -value if negative else value
    sign = "-" if negative else ""
    if magnitude == 0:
        return "0"
    if fmt == BINARY_SI and magnitude.denominator == 1 and magnitude >= 1024:
        n = 0
        while n < 6 and magnitude.numerator % (1024 ** (n + 1)) == 0:
            n += 1
        if n:
            return f"{sign}{magnitude.numerator // 1024 ** n}{_BINARY_SUFFIX[n]}"
    if fmt == BINARY_SI and magnitude.denominator == 1:
        return f"{sign}{magnitude.numerator}"
    # decimal: round up to nano units, then the largest power of 1000 that divides
    nanos = math.ceil(magnitude * 10**9)
    exponent = -9
    while exponent < 18 and nanos % 1000 == 0:
        nanos //= 1000
        exponent += 3
    if fmt == DECIMAL_EXPONENT:
        return f"{sign}{nanos}" + (f"e{exponent}" if exponent else "")
    return f"{sign}{nanos}{_DECIMAL_SUFFIX[exponent]}"


def canonical(text: str | int | float) -> str:
    return str(parse(text))
