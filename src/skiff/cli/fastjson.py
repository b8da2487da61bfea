"""`loads`/`dumps` for the CLI's hot path, without importing the `json` package.

`json.encoder` and `json.decoder` import `re` (and through it `enum`, `functools`,
`collections`): about 8 ms of every `skiff` command's start-up. The C accelerators `json`
itself uses (`_json`) do the work without them, so this module calls those directly and
produces what `json.dumps`/`json.loads` produce for the API's documents. Anything fancier
(indent, sorting, streams of documents) imports `json` where it is needed.
"""

from __future__ import annotations

from _json import encode_basestring_ascii, make_encoder, make_scanner

TYPE_CHECKING = False  # not typing's: importing typing costs the CLI ~10 ms of start-up
if TYPE_CHECKING:
    from typing import Any

_WHITESPACE = " \t\n\r"


class _ScanContext:
    """The attributes `_json.make_scanner` reads from a JSONDecoder."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}.__getitem__
    memo: dict = {}


def _not_serializable(obj: Any) -> Any:
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


_scan = make_scanner(_ScanContext())  # type: ignore[arg-type]  # it reads a JSONDecoder's attributes


def loads(data: bytes | str) -> Any:
    """json.loads for one document (UTF-8 bytes or str); ValueError on bad input."""
    text = data.decode("utf-8") if isinstance(data, bytes | bytearray) else data
    start = len(text) - len(text.lstrip(_WHITESPACE))
    try:
        obj, end = _scan(text, start)
    except StopIteration as e:
        raise ValueError(f"Expecting value: char {e.value}") from None
    if text[end:].strip(_WHITESPACE):
        raise ValueError(f"Extra data: char {end}")
    return obj


def dumps(obj: Any, compact: bool = False) -> str:
    """json.dumps(obj), or with separators (",", ":") when compact."""
    key_sep, item_sep = (":", ",") if compact else (": ", ", ")
    encode = make_encoder(None, _not_serializable, encode_basestring_ascii, None, key_sep, item_sep,
                          False, False, True)
    return "".join(encode(obj, 0))
