import pytest

from skiff.cluster.apimachinery.errors import ApiError
from skiff.cluster.apiserver import discovery
from skiff.cluster.apiserver.negotiation import decode_body, parse_accept, require_object

KUBECTL_GET = ("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;"
               "g=meta.k8s.io,application/json")


def test_table_is_recognised_from_kubectls_accept():
    assert parse_accept(KUBECTL_GET).as_kind == "Table"
    assert parse_accept("application/json").as_kind == ""
    assert parse_accept("application/vnd.kubernetes.protobuf,application/json").as_kind == ""


def test_aggregated_discovery_accept():
    assert discovery.wants_aggregated("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
                                      "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
                                      "application/json")
    assert not discovery.wants_aggregated("application/json, */*")


def test_bodies():
    assert decode_body(b'{"a": 1}', "application/json") == {"a": 1}
    assert decode_body(b"a: 1\n", "application/yaml") == {"a": 1}
    with pytest.raises(ApiError) as e:
        decode_body(b'{"a": ', "application/json", "Pod")
    assert e.value.code == 400 and "must be of type Pod" in e.value.message
    with pytest.raises(ApiError) as e:
        decode_body(b"a: [1", "application/yaml")
    assert e.value.code == 400 and "yaml" in e.value.message
    with pytest.raises(ApiError) as e:
        decode_body(b"\x0a\x02", "application/vnd.kubernetes.protobuf")
    assert e.value.code == 400 and "protobuf" in e.value.message
    with pytest.raises(ApiError) as e:
        decode_body(b"<x/>", "application/xml")
    assert e.value.code == 415
    with pytest.raises(ApiError) as e:
        require_object([1], "Pod")
    assert e.value.code == 400 and "cannot unmarshal array" in e.value.message


def test_aggregated_discovery_lists_every_group_once():
    apis = discovery.aggregated(core=False)
    names = [item["metadata"]["name"] for item in apis["items"]]
    assert "apps" in names and len(names) == len(set(names))
    core = discovery.aggregated(core=True)
    pods = [r for r in core["items"][0]["versions"][0]["resources"] if r["resource"] == "pods"][0]
    assert pods["scope"] == "Namespaced" and "po" in pods["shortNames"]
    assert {s["subresource"] for s in pods["subresources"]} >= {"status", "binding", "log"}
    autoscaling = [i for i in apis["items"] if i["metadata"]["name"] == "autoscaling"][0]
    assert [v["version"] for v in autoscaling["versions"]] == ["v2", "v1"]
