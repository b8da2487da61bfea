"""Media types: what the client sends (JSON, YAML, patch types) and what it wants back (object, Table).

Responses are JSON: a client that offers protobuf and JSON (kubectl, client-go) gets JSON.
Protobuf request bodies (kubectl's typed clients send them) are read by apimachinery.protobuf.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import yaml

from skiff.cluster.apimachinery.errors import ApiError, bad_request, unsupported_media_type

PATCH_TYPES = frozenset({
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
})


@dataclass(frozen=True)
class Wanted:
    """What the Accept header asks for: the object as stored, a Table, or metadata only."""

    as_kind: str = ""  # "" | "Table" | "PartialObjectMetadata" | "PartialObjectMetadataList"


def parse_accept(header: str) -> Wanted:
    for part in header.split(","):
        fields = [f.strip() for f in part.split(";")]
        params = dict(f.split("=", 1) for f in fields[1:] if "=" in f)
        if params.get("g") == "meta.k8s.io" and params.get("as") in (
                "Table", "PartialObjectMetadata", "PartialObjectMetadataList"):
            return Wanted(params["as"])
        if fields[0] in ("application/json", "*/*", "application/*", "application/yaml"):
            return Wanted()
    return Wanted()


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def decode_body(raw: bytes, content_type: str, what: str = "") -> Any:
    """The request body as Python data. `what` names the expected kind for error messages."""
    mt = media_type(content_type)
    if mt in ("application/vnd.kubernetes.protobuf", "application/protobuf"):
        # kubectl's typed clients (create configmap, run, ...); imported on first use
        from skiff.cluster.apimachinery import protobuf

        return protobuf.decode_object(raw)
    if mt in ("application/yaml", "application/apply-patch+yaml", "text/yaml"):
        return _yaml(raw, what)
    if mt and mt not in ("application/json", "*/*") and mt not in PATCH_TYPES:
        raise unsupported_media_type()
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        prefix = f"the object provided is unrecognized (must be of type {what}): " if what else ""
        raise bad_request(f"{prefix}couldn't get version/kind; json parse error: {_json_reason(raw, e)}") from None


def _json_reason(raw: bytes, e: orjson.JSONDecodeError) -> str:
    if not raw.strip():
        return "unexpected end of JSON input"
    msg = str(e)
    return msg[0].lower() + msg[1:] if msg else "invalid JSON"


def _yaml(raw: bytes, what: str) -> Any:
    try:
        return yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise bad_request(f"error converting YAML to JSON: yaml: {line}{problem}") from None


def require_object(data: Any, what: str) -> dict:
    if not isinstance(data, dict):
        raise ApiError(400, "BadRequest",
                       f"the object provided is unrecognized (must be of type {what}): "
                       "couldn't get version/kind; json parse error: json: cannot unmarshal "
                       f"{_json_type(data)} into Go value of type struct {{ APIVersion string "
                       '"json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }')
    return data


def _json_type(data: Any) -> str:
    if isinstance(data, list):
        return "array"
    if isinstance(data, str):
        return "string"
    if isinstance(data, bool):
        return "bool"
    if isinstance(data, int | float):
        return "number"
    return "null"
