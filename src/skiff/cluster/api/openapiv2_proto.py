"""A swagger 2.0 document (JSON-shaped dict) as gnostic's OpenAPIv2 `Document` protobuf.

kubectl downloads /openapi/v2 only in this form (`Accept: application/com.github.proto-openapi.
spec.v2@v1.0+protobuf`) for its client-side validation. Field numbers follow gnostic-models'
openapiv2/OpenAPIv2.proto. Maps become repeated (name, value) pairs in document order; `x-` keys
become `NamedAny` vendor extensions whose values are YAML text; zero scalars are left out (proto3)
but a present object is written even when empty, since readers tell `properties: {}` from none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

from skiff.cluster.apimachinery.protowire import bytes_field, double_field, varint_field

Obj = dict[str, Any]
Encoder = Callable[[Any], bytes]
# A message's layout: JSON key -> (field number, how to write the value); plus the number of its
# repeated vendor-extension field (0: the message has none).
Layout = tuple[dict[str, tuple[int, Any]], int]

_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def yaml_text(value: Any) -> str:
    """A value as gnostic stores it in `Any.yaml` (no document-end marker after a bare scalar)."""
    text = yaml.dump(value, Dumper=_Dumper, default_flow_style=False, sort_keys=False, allow_unicode=True)
    return text.removesuffix("...\n")


def _string(number: int, value: Any) -> bytes:
    return bytes_field(number, str(value).encode()) if value != "" else b""


def _bool(number: int, value: Any) -> bytes:
    return varint_field(number, 1) if value else b""


def _int(number: int, value: Any) -> bytes:
    return varint_field(number, int(value)) if value else b""


def _double(number: int, value: Any) -> bytes:
    return double_field(number, float(value)) if value else b""


def _strings(number: int, value: Any) -> bytes:
    items = [value] if isinstance(value, str) else value
    return b"".join(bytes_field(number, str(v).encode()) for v in items)


def _any(value: Any) -> bytes:
    return bytes_field(2, yaml_text(value).encode())


def _anys(number: int, value: Any) -> bytes:
    return b"".join(bytes_field(number, _any(v)) for v in value)


def _named(number: int, name: str, value: bytes) -> bytes:
    return bytes_field(number, bytes_field(1, name.encode()) + bytes_field(2, value))


def _vendor(number: int, obj: Obj) -> bytes:
    return b"".join(_named(number, k, _any(v)) for k, v in obj.items() if k.startswith("x-"))


def _message(layout: Layout, obj: Obj) -> bytes:
    fields, vendor_number = layout
    out: list[bytes] = []
    for key, (number, write) in fields.items():
        if key not in obj:
            continue
        value = obj[key]
        if isinstance(write, tuple):  # ("one", encoder) / ("many", encoder): nested messages
            mode, encode = write
            values = value if mode == "many" else [value]
            out.extend(bytes_field(number, encode(v)) for v in values)
        else:
            out.append(write(number, value))
    if vendor_number:
        out.append(_vendor(vendor_number, obj))
    return b"".join(out)


def _one(encode: Encoder) -> tuple[str, Encoder]:
    return ("one", encode)


def _many(encode: Encoder) -> tuple[str, Encoder]:
    return ("many", encode)


def _map(encode: Encoder, vendor_number: int = 0, entry_number: int = 1) -> Encoder:
    """A JSON object whose keys are names (paths, definitions, properties, response codes)."""
    def write(obj: Obj) -> bytes:
        out = [_named(entry_number, k, encode(v)) for k, v in obj.items()
               if not (vendor_number and k.startswith("x-"))]
        if vendor_number:
            out.append(_vendor(vendor_number, obj))
        return b"".join(out)
    return write


def _by_number(fields: dict[str, tuple[int, Any]]) -> dict[str, tuple[int, Any]]:
    # Go writes fields in number order; so do we, so equal documents give equal bytes
    return dict(sorted(fields.items(), key=lambda item: item[1][0]))


def _layout(fields: dict[str, tuple[int, Any]], vendor_number: int) -> Layout:
    return _by_number(fields), vendor_number


_EXTERNAL_DOCS = _layout({"description": (1, _string), "url": (2, _string)}, 3)


def _external_docs(obj: Obj) -> bytes:
    return _message(_EXTERNAL_DOCS, obj)


def _json_reference(obj: Obj) -> bytes:
    return _string(1, obj["$ref"]) + _string(2, obj.get("description", ""))


def _validations(first: int) -> dict[str, tuple[int, Any]]:
    """The run of validation keywords parameters and items share, numbered from `first`."""
    names = [("default", _wrap_any), ("maximum", _double), ("exclusiveMaximum", _bool), ("minimum", _double),
             ("exclusiveMinimum", _bool), ("maxLength", _int), ("minLength", _int), ("pattern", _string),
             ("maxItems", _int), ("minItems", _int), ("uniqueItems", _bool), ("enum", _anys),
             ("multipleOf", _double)]
    return {name: (first + i, write) for i, (name, write) in enumerate(names)}


def _wrap_any(number: int, value: Any) -> bytes:
    return bytes_field(number, _any(value))


def _primitives_items(obj: Obj) -> bytes:
    return _message(_PRIMITIVES_ITEMS, obj)


_PRIMITIVES_ITEMS = _layout({"type": (1, _string), "format": (2, _string), "items": (3, _one(_primitives_items)),
                             "collectionFormat": (4, _string), **_validations(5)}, 18)
# query and formData parameters carry allowEmptyValue at 5, which shifts the rest by one
_QUERY_PARAMETER = _layout({"required": (1, _bool), "in": (2, _string), "description": (3, _string),
                            "name": (4, _string), "allowEmptyValue": (5, _bool), "type": (6, _string),
                            "format": (7, _string), "items": (8, _one(_primitives_items)),
                            "collectionFormat": (9, _string), **_validations(10)}, 23)
_PATH_PARAMETER = _layout({"required": (1, _bool), "in": (2, _string), "description": (3, _string),
                           "name": (4, _string), "type": (5, _string), "format": (6, _string),
                           "items": (7, _one(_primitives_items)), "collectionFormat": (8, _string),
                           **_validations(9)}, 22)
_NON_BODY_KINDS = {"header": (1, _PATH_PARAMETER), "formData": (2, _QUERY_PARAMETER),
                   "query": (3, _QUERY_PARAMETER), "path": (4, _PATH_PARAMETER)}


def schema(obj: Obj) -> bytes:
    """One JSON schema as gnostic's `Schema` message."""
    return _message(_SCHEMA, obj)


def _additional_properties(value: Any) -> bytes:
    if isinstance(value, bool):
        return varint_field(2, int(value))  # a set oneof member is written even when false
    return bytes_field(1, schema(value))


def _type_item(value: Any) -> bytes:
    return _strings(1, value)


def _items_item(value: Any) -> bytes:
    return b"".join(bytes_field(1, schema(v)) for v in (value if isinstance(value, list) else [value]))


_SCHEMA = _layout({
    "$ref": (1, _string), "format": (2, _string), "title": (3, _string), "description": (4, _string),
    "default": (5, _wrap_any), "multipleOf": (6, _double), "maximum": (7, _double),
    "exclusiveMaximum": (8, _bool), "minimum": (9, _double), "exclusiveMinimum": (10, _bool),
    "maxLength": (11, _int), "minLength": (12, _int), "pattern": (13, _string), "maxItems": (14, _int),
    "minItems": (15, _int), "uniqueItems": (16, _bool), "maxProperties": (17, _int),
    "minProperties": (18, _int), "required": (19, _strings), "enum": (20, _anys),
    "additionalProperties": (21, _one(_additional_properties)), "type": (22, _one(_type_item)),
    "items": (23, _one(_items_item)), "allOf": (24, _many(schema)), "properties": (25, _one(_map(schema))),
    "discriminator": (26, _string), "readOnly": (27, _bool), "externalDocs": (29, _one(_external_docs)),
    "example": (30, _wrap_any),
}, 31)

_BODY_PARAMETER = _layout({"description": (1, _string), "name": (2, _string), "in": (3, _string),
                           "required": (4, _bool), "schema": (5, _one(schema))}, 6)


def parameter(obj: Obj) -> bytes:
    """A `Parameter`: the body parameter, or a header/formData/query/path one."""
    if obj.get("in") == "body":
        return bytes_field(1, _message(_BODY_PARAMETER, obj))
    number, layout = _NON_BODY_KINDS.get(obj.get("in", ""), _NON_BODY_KINDS["query"])
    return bytes_field(2, bytes_field(number, _message(layout, obj)))


def _parameters_item(obj: Obj) -> bytes:
    if "$ref" in obj:
        return bytes_field(2, _json_reference(obj))
    return bytes_field(1, parameter(obj))


def _schema_item(obj: Obj) -> bytes:
    # a `type: file` response is gnostic's FileSchema; kube-apiserver never serves one
    return bytes_field(1, schema(obj))


_RESPONSE = _layout({"description": (1, _string), "schema": (2, _one(_schema_item))}, 5)


def response(obj: Obj) -> bytes:
    return _message(_RESPONSE, obj)


def _response_value(obj: Obj) -> bytes:
    if "$ref" in obj:
        return bytes_field(2, _json_reference(obj))
    return bytes_field(1, response(obj))


def _security_requirement(obj: Obj) -> bytes:
    return _map(lambda scopes: _strings(1, scopes))(obj)


_OPERATION = _layout({
    "tags": (1, _strings), "summary": (2, _string), "description": (3, _string),
    "externalDocs": (4, _one(_external_docs)), "operationId": (5, _string), "produces": (6, _strings),
    "consumes": (7, _strings), "parameters": (8, _many(_parameters_item)),
    "responses": (9, _one(_map(_response_value, vendor_number=2))), "schemes": (10, _strings),
    "deprecated": (11, _bool), "security": (12, _many(_security_requirement)),
}, 13)


def operation(obj: Obj) -> bytes:
    return _message(_OPERATION, obj)


_PATH_ITEM = _layout({"$ref": (1, _string), "get": (2, _one(operation)), "put": (3, _one(operation)),
                      "post": (4, _one(operation)), "delete": (5, _one(operation)),
                      "options": (6, _one(operation)), "head": (7, _one(operation)),
                      "patch": (8, _one(operation)), "parameters": (9, _many(_parameters_item))}, 10)


def path_item(obj: Obj) -> bytes:
    return _message(_PATH_ITEM, obj)


_API_KEY = _layout({"type": (1, _string), "name": (2, _string), "in": (3, _string),
                    "description": (4, _string)}, 5)
_BASIC = _layout({"type": (1, _string), "description": (2, _string)}, 3)


def _security_definition(obj: Obj) -> bytes:
    # kube-apiserver only declares BearerToken (apiKey); basic is the other one without OAuth flows
    if obj.get("type") == "basic":
        return bytes_field(1, _message(_BASIC, obj))
    return bytes_field(2, _message(_API_KEY, obj))


_CONTACT = _layout({"name": (1, _string), "url": (2, _string), "email": (3, _string)}, 4)
_LICENSE = _layout({"name": (1, _string), "url": (2, _string)}, 3)
_INFO = _layout({"title": (1, _string), "version": (2, _string), "description": (3, _string),
                 "termsOfService": (4, _string), "contact": (5, _one(lambda o: _message(_CONTACT, o))),
                 "license": (6, _one(lambda o: _message(_LICENSE, o)))}, 7)
_TAG = _layout({"name": (1, _string), "description": (2, _string),
                "externalDocs": (3, _one(_external_docs))}, 4)
_DOCUMENT = _layout({
    "swagger": (1, _string), "info": (2, _one(lambda o: _message(_INFO, o))), "host": (3, _string),
    "basePath": (4, _string), "schemes": (5, _strings), "consumes": (6, _strings), "produces": (7, _strings),
    "paths": (8, _one(_map(path_item, vendor_number=1, entry_number=2))),
    "definitions": (9, _one(_map(schema))), "parameters": (10, _one(_map(parameter))),
    "responses": (11, _one(_map(response))), "security": (12, _many(_security_requirement)),
    "securityDefinitions": (13, _one(_map(_security_definition))),
    "tags": (14, _many(lambda o: _message(_TAG, o))), "externalDocs": (15, _one(_external_docs)),
}, 16)


def document(doc: Obj) -> bytes:
    """The whole swagger document as an `openapi.v2.Document`."""
    return _message(_DOCUMENT, doc)
