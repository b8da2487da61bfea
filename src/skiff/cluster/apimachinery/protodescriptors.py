"""Build the field table `k8s_protobuf.json` from Kubernetes' compiled proto descriptors.

Go programs built from client-go (kubectl among them) embed each `generated.proto` as a
gzipped FileDescriptorProto. This reads them out of such a binary and keeps, per message,
field number -> (JSON name, kind, type): the wire-format facts `protobuf.py` needs to read
the request bodies kubectl sends as `application/vnd.kubernetes.protobuf`.

    python -m skiff.cluster.apimachinery.protodescriptors /usr/bin/kubectl > k8s_protobuf.json
"""

from __future__ import annotations

import json
import re
import sys
import zlib
from typing import Any

from skiff.cluster.apimachinery.protowire import fields

# Packages whose messages skiff serves (and the shared types they use).
PACKAGES = (
    "k8s.io.api.core.v1", "k8s.io.api.apps.v1", "k8s.io.api.batch.v1", "k8s.io.api.autoscaling.v1",
    "k8s.io.api.autoscaling.v2", "k8s.io.api.coordination.v1", "k8s.io.api.discovery.v1",
    "k8s.io.api.events.v1", "k8s.io.api.networking.v1", "k8s.io.api.scheduling.v1", "k8s.io.api.policy.v1",
    "k8s.io.api.authentication.v1", "k8s.io.api.rbac.v1", "k8s.io.api.authorization.v1",
    "k8s.io.apimachinery.pkg.apis.meta.v1",
    "k8s.io.apimachinery.pkg.api.resource", "k8s.io.apimachinery.pkg.util.intstr",
    "k8s.io.apimachinery.pkg.runtime",
)

# FieldDescriptorProto.Type -> how the value is read
_KINDS = {1: "double", 2: "float", 3: "int64", 4: "uint64", 5: "int32", 6: "fixed64", 7: "fixed32", 8: "bool",
          9: "string", 11: "message", 12: "bytes", 13: "uint32", 14: "enum", 15: "sfixed32", 16: "sfixed64",
          17: "sint32", 18: "sint64"}


def _field(raw: bytes) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for number, _, value in fields(raw):
        if number == 1:
            out["name"] = bytes(value).decode()
        elif number == 3:
            out["number"] = value
        elif number == 4:
            out["label"] = value
        elif number == 5:
            out["type"] = _KINDS.get(int(value), "unknown")
        elif number == 6:
            out["type_name"] = bytes(value).decode().lstrip(".")
    return out


def _message(raw: bytes, scope: str, out: dict[str, Any]) -> None:
    name, entries, nested, is_map = "", [], [], False
    for number, _, value in fields(raw):
        if number == 1:
            name = bytes(value).decode()
        elif number == 2:
            entries.append(_field(bytes(value)))
        elif number == 3:
            nested.append(value)
        elif number == 7:
            is_map = any(n == 7 and v for n, _, v in fields(bytes(value)))
    full = f"{scope}.{name}"
    out[full] = {"map": is_map, "fields": entries}
    for child in nested:
        _message(bytes(child), full, out)


def read_file_descriptor(raw: bytes) -> tuple[str, dict[str, Any]]:
    package = ""
    messages: dict[str, Any] = {}
    bodies = []
    for number, _, value in fields(raw):
        if number == 2:
            package = bytes(value).decode()
        elif number == 4:
            bodies.append(value)
    for body in bodies:
        _message(bytes(body), package, messages)
    return package, messages


def descriptors_in(binary: bytes) -> dict[str, Any]:
    """Every message of the wanted packages found in gzipped descriptors inside `binary`."""
    messages: dict[str, Any] = {}
    for match in re.finditer(rb"\x1f\x8b\x08\x00\x00\x00\x00\x00", binary):
        try:
            raw = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(binary[match.start():match.start() + 4_000_000])
        except zlib.error:
            continue
        if b"generated.proto" not in raw[:200]:
            continue
        package, found = read_file_descriptor(raw)
        if package in PACKAGES:
            messages.update(found)
    return messages


def compact(messages: dict[str, Any]) -> dict[str, Any]:
    """message -> {number: [name, kind, type or map [key kind, value kind, value type], repeated]}"""
    table: dict[str, Any] = {}
    for name, msg in sorted(messages.items()):
        if msg["map"]:
            continue
        entry = {}
        for f in msg["fields"]:
            kind, ref, repeated = f["type"], f.get("type_name", ""), f.get("label") == 3
            target = messages.get(ref)
            if kind == "message" and target and target["map"]:
                by_number = {x["number"]: x for x in target["fields"]}
                key, value = by_number[1], by_number[2]
                kind, ref, repeated = "map", [key["type"], value["type"], value.get("type_name", "")], False
            entry[str(f["number"])] = [f["name"], kind, ref, repeated]
        table[name] = entry
    return table


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], "rb") as f:
        table = compact(descriptors_in(f.read()))
    json.dump(table, sys.stdout, separators=(",", ":"), sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
