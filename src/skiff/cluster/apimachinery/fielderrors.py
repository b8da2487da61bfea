"""Validation causes worded as Kubernetes' field.Error bodies.

Each returns the cause dict `errors.invalid()` takes: {"type", "message", "field"},
where `type` is the metav1.CauseType and `message` the error body
(`Required value`, `Invalid value: "X": detail`, `Unsupported value: ...`).
"""

from __future__ import annotations

import json
from typing import Any


def show(value: Any) -> str:
    """A value the way Go's %#v shows it in field errors: strings quoted, numbers bare."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _cause(kind: str, field: str, message: str) -> dict[str, Any]:
    return {"type": kind, "message": message, "field": field}


def required(field: str, detail: str = "") -> dict[str, Any]:
    return _cause("FieldValueRequired", field, "Required value" + (f": {detail}" if detail else ""))


def invalid(field: str, value: Any, detail: str = "") -> dict[str, Any]:
    return _cause("FieldValueInvalid", field, f"Invalid value: {show(value)}" + (f": {detail}" if detail else ""))


def not_supported(field: str, value: Any, valid: list[str]) -> dict[str, Any]:
    message = f"Unsupported value: {show(value)}"
    if valid:
        message += ": supported values: " + ", ".join(show(v) for v in valid)
    return _cause("FieldValueNotSupported", field, message)


def forbidden(field: str, detail: str) -> dict[str, Any]:
    return _cause("FieldValueForbidden", field, f"Forbidden: {detail}")


def duplicate(field: str, value: Any) -> dict[str, Any]:
    return _cause("FieldValueDuplicate", field, f"Duplicate value: {show(value)}")


def not_found(field: str, value: Any) -> dict[str, Any]:
    return _cause("FieldValueNotFound", field, f"Not found: {show(value)}")


def too_long(field: str, max_length: int) -> dict[str, Any]:
    return _cause("FieldValueTooLong", field, f"Too long: may not be more than {max_length} bytes")


def type_invalid(field: str, value: Any, detail: str) -> dict[str, Any]:
    return _cause("FieldValueTypeInvalid", field, f"Invalid value: {show(value)}: {detail}")
