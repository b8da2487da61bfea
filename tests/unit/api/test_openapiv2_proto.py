"""The /openapi/v2 document as gnostic's OpenAPIv2 protobuf, read back with the project's wire reader."""

from __future__ import annotations

import yaml
from hypothesis import given
from hypothesis import strategies as st

from skiff.cluster.api import openapi, openapiv2_proto
from skiff.cluster.apimachinery import protowire
from skiff.cluster.apiserver.nonresource import V2_PROTOBUF, v2_media_type


def _fields(data: bytes) -> dict[int, list]:
    out: dict[int, list] = {}
    for number, _wire, value in protowire.fields(data):
        out.setdefault(number, []).append(value)
    return out


def _text(fields: dict[int, list], number: int) -> str:
    return fields[number][0].decode() if number in fields else ""


def _named(fields: dict[int, list], number: int) -> dict[str, bytes]:
    """A gnostic map (repeated Named* pairs: name 1, value 2) as a dict."""
    out = {}
    for entry in fields.get(number, []):
        pair = _fields(entry)
        out[_text(pair, 1)] = pair[2][0] if 2 in pair else b""
    return out


def _vendor(fields: dict[int, list], number: int) -> dict:
    """Vendor extensions: NamedAny whose Any carries YAML in field 2."""
    return {k: yaml.safe_load(_text(_fields(v), 2)) for k, v in _named(fields, number).items()}


# Schema field numbers (gnostic openapiv2 Schema)
REF, DESCRIPTION, REQUIRED, ADDITIONAL, TYPE, ITEMS, PROPERTIES, SCHEMA_VENDOR = 1, 4, 19, 21, 22, 23, 25, 31


def _schema(data: bytes) -> dict[int, list]:
    return _fields(data)


def _document() -> dict[int, list]:
    return _fields(openapiv2_proto.document(openapi.openapi_v2()))


def test_document_header_and_every_definition():
    doc = _document()
    assert _text(doc, 1) == "2.0"
    info = _fields(doc[2][0])
    assert _text(info, 1) == "Kubernetes" and _text(info, 2).startswith("v1.32")
    definitions = _named(_fields(doc[9][0]), 1)
    assert set(definitions) == set(openapi.openapi_v2()["definitions"])


def test_review_kind_schema_carries_what_kubectl_validates_with():
    definitions = _named(_fields(_document()[9][0]), 1)
    sar = _schema(definitions["io.k8s.api.authorization.v1.SelfSubjectAccessReview"])
    assert [v.decode() for v in sar[REQUIRED]] == ["spec"]
    assert _fields(sar[TYPE][0])[1] == [b"object"]
    assert _vendor(sar, SCHEMA_VENDOR)["x-kubernetes-group-version-kind"] == [
        {"group": "authorization.k8s.io", "kind": "SelfSubjectAccessReview", "version": "v1"}]
    props = _named(_fields(sar[PROPERTIES][0]), 1)
    assert set(props) == {"apiVersion", "kind", "metadata", "spec", "status"}
    spec = _schema(props["spec"])
    assert _text(spec, REF) == "#/definitions/io.k8s.api.authorization.v1.SelfSubjectAccessReviewSpec"
    assert TYPE not in spec  # a reference carries no type of its own (kube-openapi refuses one)
    assert _fields(_schema(props["kind"])[TYPE][0])[1] == [b"string"]


def test_maps_arrays_and_patch_extensions():
    definitions = _named(_fields(_document()[9][0]), 1)
    meta_props = _named(_fields(_schema(definitions["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"])
                                [PROPERTIES][0]), 1)
    labels = _schema(meta_props["labels"])
    assert _fields(labels[TYPE][0])[1] == [b"object"]
    value = _fields(labels[ADDITIONAL][0])  # AdditionalPropertiesItem: schema at 1
    assert _fields(_schema(value[1][0])[TYPE][0])[1] == [b"string"]
    finalizers = _schema(meta_props["finalizers"])
    items = _fields(finalizers[ITEMS][0])[1]  # ItemsItem: exactly one schema
    assert len(items) == 1 and _fields(_schema(items[0])[TYPE][0])[1] == [b"string"]
    pod_props = _named(_fields(_schema(definitions["io.k8s.api.core.v1.PodSpec"])[PROPERTIES][0]), 1)
    ext = _vendor(_schema(pod_props["containers"]), SCHEMA_VENDOR)
    assert ext["x-kubernetes-patch-merge-key"] == "name" and ext["x-kubernetes-patch-strategy"] == "merge"


def test_every_reference_resolves_and_every_array_has_one_item_schema():
    """What kube-openapi's NewOpenAPIData checks before kubectl can validate anything."""
    definitions = _named(_fields(_document()[9][0]), 1)
    names = set(definitions)

    def walk(data: bytes, path: str) -> None:
        node = _schema(data)
        if REF in node:
            assert _text(node, REF).removeprefix("#/definitions/") in names, path
            assert TYPE not in node and PROPERTIES not in node, path
        types = _fields(node[TYPE][0]).get(1, []) if TYPE in node else []
        assert len(types) <= 1, path
        if types == [b"array"]:
            items = _fields(node[ITEMS][0]).get(1, [])
            assert len(items) == 1, path
        for item in _fields(node[ITEMS][0]).get(1, []) if ITEMS in node else []:
            walk(item, path + "[]")
        if ADDITIONAL in node and 1 in _fields(node[ADDITIONAL][0]):
            walk(_fields(node[ADDITIONAL][0])[1][0], path + "{}")
        for name, sub in (_named(_fields(node[PROPERTIES][0]), 1) if PROPERTIES in node else {}).items():
            walk(sub, f"{path}.{name}")

    for name, data in definitions.items():
        walk(data, name)


def test_create_only_kind_has_post_but_no_patch_and_patch_ops_name_field_validation():
    paths = _named(_fields(_document()[8][0]), 2)  # Paths: path entries at 2 (vendor at 1)
    ssar = _fields(paths["/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"])
    assert 4 in ssar and 8 not in ssar  # post, no patch: kubectl validates such kinds itself
    post = _fields(ssar[4][0])
    assert _vendor(post, 13)["x-kubernetes-group-version-kind"] == {
        "group": "authorization.k8s.io", "kind": "SelfSubjectAccessReview", "version": "v1"}
    cm = _fields(paths["/api/v1/namespaces/{namespace}/configmaps/{name}"])
    patch = _fields(cm[8][0])
    query_names = []
    for item in patch[8]:  # ParametersItem -> Parameter -> NonBodyParameter -> QueryParameterSubSchema
        parameter = _fields(_fields(item).get(1, [b""])[0])
        non_body = _fields(parameter[2][0]) if 2 in parameter else {}
        if 3 in non_body:
            query_names.append(_text(_fields(non_body[3][0]), 4))
    assert "fieldValidation" in query_names
    responses = _named(_fields(patch[9][0]), 1)
    ok = _fields(_fields(responses["200"])[1][0])  # ResponseValue.response
    assert _text(ok, 1) == "OK"


def test_security_definitions_and_requirement():
    doc = _document()
    bearer = _fields(_named(_fields(doc[13][0]), 1)["BearerToken"])
    api_key = _fields(bearer[2][0])
    assert (_text(api_key, 1), _text(api_key, 2), _text(api_key, 3)) == ("apiKey", "authorization", "header")
    requirement = _named(_fields(doc[12][0]), 1)
    assert requirement == {"BearerToken": b""}  # an empty StringArray, still present


def test_scalars_follow_proto3():
    data = openapiv2_proto.schema({"type": "integer", "minimum": 0, "maximum": 2.5, "maxLength": 3,
                                   "uniqueItems": False, "readOnly": True, "description": "",
                                   "additionalProperties": False, "properties": {}, "enum": ["a", 1]})
    fields = _fields(data)
    assert 9 not in fields and 16 not in fields and DESCRIPTION not in fields  # zero values left out
    assert protowire.double(fields[7][0]) == 2.5 and fields[11] == [3] and fields[27] == [1]
    assert _fields(fields[ADDITIONAL][0]) == {2: [0]}  # a set oneof bool is written even when false
    assert fields[PROPERTIES] == [b""]  # present but empty: an object, not an arbitrary value
    assert [yaml.safe_load(_text(_fields(v), 2)) for v in fields[20]] == ["a", 1]


def test_vendor_extension_yaml():
    assert openapiv2_proto.yaml_text("name") == "name\n"
    assert yaml.safe_load(openapiv2_proto.yaml_text([{"group": "", "kind": "Pod", "version": "v1"}])) == [
        {"group": "", "kind": "Pod", "version": "v1"}]
    assert yaml.safe_load(openapiv2_proto.yaml_text("true")) == "true"  # quoted where YAML would retype it


@given(st.integers(min_value=0, max_value=(1 << 64) - 1))
def test_varint_round_trips(value):
    encoded = protowire.varint(value)
    assert protowire.read_varint(encoded, 0) == (value, len(encoded))


def test_negative_int64_is_ten_bytes():
    assert len(protowire.varint(-1)) == 10
    assert protowire.signed64(protowire.read_varint(protowire.varint(-5), 0)[0]) == -5


def test_v2_media_type_negotiation():
    kubectl = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
    assert v2_media_type(kubectl) == V2_PROTOBUF
    assert v2_media_type(V2_PROTOBUF) == V2_PROTOBUF
    assert v2_media_type("") == "application/json"
    assert v2_media_type("application/json, */*") == "application/json"
    assert v2_media_type(f"application/json;q=0.5, {kubectl}") == V2_PROTOBUF
    assert v2_media_type("*/*;q=0.1, application/json;q=0.9") == "application/json"
    assert v2_media_type("text/html") is None
