"""Request parsing and response helpers shared by every route module (pure, no I/O policy).

Query values follow dockerd's rules: booleans are true unless empty, 0, no, false or none;
`filters` is JSON in either the current `{"key": {"value": true}}` form or the legacy
`{"key": ["value"]}` form, normalised here to `{"key": ["value", ...]}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web

from skiff.common.errors import InvalidArgument

JSON = "application/json"
_FALSE = {"", "0", "no", "false", "none"}


def query_bool(query: Mapping[str, str], key: str, default: bool = False) -> bool:
    if key not in query:
        return default
    return query[key].strip().lower() not in _FALSE


def query_int(query: Mapping[str, str], key: str, default: int | None = None) -> int | None:
    raw = query.get(key, "")
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidArgument(f"invalid value for {key}: {raw!r}: invalid syntax") from None


def parse_filters(raw: str | None) -> dict[str, list[str]]:
    """Docker's `filters` query value → {key: [values]}."""
    if not raw:
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise InvalidArgument(f"invalid filter: {e}") from None
    if not isinstance(data, dict):
        raise InvalidArgument("invalid filter: expected a JSON object")
    out: dict[str, list[str]] = {}
    for key, values in data.items():
        if isinstance(values, dict):
            out[key] = [str(v) for v, on in values.items() if on]
        elif isinstance(values, list):
            out[key] = [str(v) for v in values]
        elif isinstance(values, str):
            out[key] = [values]
        else:
            raise InvalidArgument(f"invalid filter: bad value for {key!r}")
    return out


def parse_timestamp(raw: str | None) -> float | None:
    """`since`/`until` values: Unix seconds with optional fraction (what clients send) or RFC 3339."""
    if raw is None or raw == "":
        return None
    try:
        return float(raw)
    except ValueError:
        pass
    from skiff.common.timefmt import parse_rfc3339

    try:
        return parse_rfc3339(raw)
    except ValueError:
        raise InvalidArgument(f"invalid timestamp {raw!r}") from None


def decode_json_body(raw: bytes, required: bool = False) -> Any:
    """A request body as JSON; an empty body is {} unless required. Bad JSON is a 400, as dockerd."""
    if not raw.strip():
        if required:
            raise InvalidArgument("invalid JSON: request body is empty")
        return {}
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise InvalidArgument(f"invalid JSON: {e}") from None


async def read_json(request: web.Request, required: bool = False) -> Any:
    return decode_json_body(await request.read(), required)


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type=JSON)


def error_response(message: str, status: int) -> web.Response:
    return json_response({"message": message}, status)


def no_content() -> web.Response:
    return web.Response(status=204)


def json_line(data: Any) -> bytes:
    return orjson.dumps(data) + b"\n"


async def open_stream(request: web.Request, content_type: str = JSON, status: int = 200) -> web.StreamResponse:
    """Start a streamed response and push its headers out now: clients wait for them
    (docker's `wait` before `start`, `events`, `logs -f`) before doing anything else."""
    resp = web.StreamResponse(status=status)
    resp.content_type = content_type
    writer = await resp.prepare(request)
    send = getattr(writer, "send_headers", None)
    if send is not None:
        send()
    return resp
