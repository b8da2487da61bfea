"""Read `application/vnd.kubernetes.protobuf` request bodies into the JSON-shaped objects
the rest of skiff handles.

kubectl's typed clients (`kubectl create configmap|secret|deployment|job|...`, `kubectl
run`) send protobuf. A body is the 4-byte magic `k8s\\0` and a runtime.Unknown holding the
apiVersion, kind and the object's message; field numbers come from `k8s_protobuf.json`
(see protodescriptors.py). Go's encoder writes every non-pointer field, zero or not, so
zeros that Go's JSON would leave out (`omitempty`) are dropped again here.
"""

from __future__ import annotations

import base64
import functools
import importlib.resources
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from skiff.cluster.apimachinery import protowire
from skiff.cluster.apimachinery.errors import ApiError, bad_request

MAGIC = b"k8s\x00"
_META = "k8s.io.apimachinery.pkg.apis.meta.v1"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Non-pointer ints and bools whose JSON tag has omitempty: a zero on the wire means "not set".
_OMIT_ZERO = frozenset({
    "generation", "observedGeneration", "hostPort", "nodePort", "healthCheckNodePort", "stdin", "stdinOnce", "tty",
    "hostNetwork", "hostPID", "hostIPC", "initialDelaySeconds", "timeoutSeconds", "periodSeconds",
    "successThreshold", "failureThreshold", "readOnly", "minReadySeconds", "paused", "globalDefault", "count",
    "publishNotReadyAddresses", "active", "succeeded", "failed", "ready", "updatedReplicas", "availableReplicas",
    "unavailableReplicas", "readyReplicas", "fullyLabeledReplicas", "currentReplicas", "desiredReplicas",
})


@functools.cache
def table() -> dict[str, dict[str, list[Any]]]:
    text = (importlib.resources.files("skiff.cluster.apimachinery") / "k8s_protobuf.json").read_text()
    return json.loads(text)


def message_name(api_version: str, kind: str) -> str:
    group, _, version = api_version.rpartition("/")
    package = "core" if not group else group.split(".")[0]
    name = f"k8s.io.api.{package}.{version}.{kind}"
    if name not in table() and f"{_META}.{kind}" in table():
        return f"{_META}.{kind}"  # DeleteOptions and the other meta.k8s.io kinds
    return name


def is_protobuf(body: bytes) -> bool:
    return body.startswith(MAGIC)


def decode_object(body: bytes) -> dict[str, Any]:
    """The object a protobuf request body carries, with apiVersion and kind set."""
    if not is_protobuf(body):
        raise bad_request("provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]")
    envelope = _message(body[len(MAGIC):], "k8s.io.apimachinery.pkg.runtime.Unknown", raw_unknown=True)
    type_meta = envelope.get("typeMeta") or {}
    api_version, kind = type_meta.get("apiVersion", ""), type_meta.get("kind", "")
    name = message_name(api_version, kind)
    if name not in table():
        raise bad_request(f'no kind "{kind}" is registered for version "{api_version}"')
    raw = envelope.get("raw") or b""
    try:
        obj = _message(raw, name)
    except ApiError:
        raise
    except (ValueError, IndexError, UnicodeDecodeError) as e:
        raise bad_request(f"protobuf: cannot decode {kind}: {e}") from None
    out: dict[str, Any] = {"apiVersion": api_version, "kind": kind}
    out.update(obj)
    return out


def _time(fields: dict[str, Any], micro: bool) -> str | None:
    seconds, nanos = int(fields.get("seconds", 0)), int(fields.get("nanos", 0))
    if not fields:
        return None
    when = _EPOCH + timedelta(seconds=seconds, microseconds=nanos // 1000)
    if micro:
        return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _duration(nanoseconds: int) -> str:
    """Go's time.Duration.String for whole units: 1h0m0s, 1m30s, 1.5s."""
    if nanoseconds == 0:
        return "0s"
    sign = "-" if nanoseconds < 0 else ""
    total = abs(nanoseconds)
    hours, rest = divmod(total, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    seconds = rest / 1e9
    text = f"{seconds:.9f}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{text}"
    if minutes:
        return f"{sign}{minutes}m{text}"
    return sign + text


def _special(name: str, raw: bytes) -> tuple[bool, Any]:
    """Kubernetes types whose JSON form is not their message shape."""
    if name in (f"{_META}.Time", f"{_META}.MicroTime"):
        return True, _time(_plain(raw, name), micro=name.endswith("MicroTime"))
    if name == f"{_META}.Duration":
        return True, _duration(int(_plain(raw, name).get("duration", 0)))
    if name == "k8s.io.apimachinery.pkg.api.resource.Quantity":
        return True, _plain(raw, name).get("string", "")
    if name == "k8s.io.apimachinery.pkg.util.intstr.IntOrString":
        f = _plain(raw, name)
        return True, f.get("strVal", "") if int(f.get("type", 0)) == 1 else int(f.get("intVal", 0))
    if name in ("k8s.io.apimachinery.pkg.runtime.RawExtension", f"{_META}.FieldsV1"):
        data = _plain(raw, name, keep_bytes=True).get("raw" if "RawExtension" in name else "Raw", b"")
        return True, json.loads(data) if data else None
    return False, None


def _plain(raw: bytes, name: str, keep_bytes: bool = False) -> dict[str, Any]:
    return _message(raw, name, raw_unknown=keep_bytes, drop_zeros=False)


def _scalar(kind: str, wire: int, value: int | bytes, keep_bytes: bool) -> Any:
    if kind == "string":
        return bytes(value).decode("utf-8")
    if kind == "bytes":
        return bytes(value) if keep_bytes else base64.b64encode(bytes(value)).decode()
    number = int(value)
    if kind == "bool":
        return bool(number)
    if kind in ("int32", "enum"):
        return protowire.signed32(number)
    if kind in ("int64", "sfixed64"):
        return protowire.signed64(number)
    if kind == "sfixed32":
        return protowire.signed32(number)
    if kind in ("sint32", "sint64"):
        return protowire.zigzag(number)
    if kind == "double":
        return protowire.double(number)
    if kind == "float":
        return protowire.float32(number)
    return number


def _value(kind: str, ref: Any, wire: int, value: int | bytes, keep_bytes: bool) -> Any:
    if kind == "message":
        special, converted = _special(ref, bytes(value))
        return converted if special else _message(bytes(value), ref)
    return _scalar(kind, wire, value, keep_bytes)


def _packed(kind: str, data: bytes) -> list[Any]:
    out, pos = [], 0
    while pos < len(data):
        number, pos = protowire.read_varint(data, pos)
        out.append(_scalar(kind, protowire.VARINT, number, False))
    return out


def _map_entry(entry: bytes, key_kind: str, value_kind: str, value_ref: str) -> tuple[Any, Any]:
    key: Any = "" if key_kind == "string" else 0
    value: Any = None
    for number, wire, raw in protowire.fields(entry):
        if number == 1:
            key = _scalar(key_kind, wire, raw, False)
        elif number == 2:
            value = _value(value_kind, value_ref, wire, raw, False)
    if value is None:
        value = {} if value_kind == "message" else ("" if value_kind in ("string", "bytes") else 0)
    return key, value


def _message(data: bytes, name: str, raw_unknown: bool = False, drop_zeros: bool = True) -> dict[str, Any]:
    spec = table().get(name)
    if spec is None:
        raise bad_request(f"protobuf: no schema for {name}")
    out: dict[str, Any] = {}
    for number, wire, value in protowire.fields(data):
        field = spec.get(str(number))
        if field is None:
            continue  # unknown to 1.32: dropped, as the Go decoder does
        json_name, kind, ref, repeated = field
        if kind == "map":
            key, item = _map_entry(bytes(value), ref[0], ref[1], ref[2])
            out.setdefault(json_name, {})[key] = item
        elif repeated:
            items = out.setdefault(json_name, [])
            if wire == protowire.LENGTH and kind not in ("string", "bytes", "message"):
                items.extend(_packed(kind, bytes(value)))
            else:
                items.append(_value(kind, ref, wire, value, raw_unknown))
        else:
            out[json_name] = _value(kind, ref, wire, value, raw_unknown)
    if drop_zeros:
        for key in [k for k, v in out.items() if (v == "" and isinstance(v, str))
                    or (k in _OMIT_ZERO and v in (0, False) and not isinstance(v, str))]:
            del out[key]
    return out
