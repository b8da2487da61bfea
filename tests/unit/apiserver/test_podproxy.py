"""Pure parts of pods/proxy and services/proxy: the name's scheme and port, the target picked."""

from __future__ import annotations

import pytest

from skiff.cluster.apimachinery.errors import ApiError
from skiff.cluster.apiserver.podproxy import endpoint, pod_port, split_name

POD = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "ports": [
    {"name": "web", "containerPort": 8080}]}]}}
SVC = {"metadata": {"name": "s"}, "spec": {"ports": [{"name": "http", "port": 80}, {"name": "admin", "port": 9000}]}}
EPS = {"subsets": [{"addresses": [{"ip": "10.42.0.5"}], "ports": [{"name": "http", "port": 8080},
                                                                   {"name": "admin", "port": 9001}]}]}


def test_split_name():
    assert split_name("web") == ("http", "web", "")
    assert split_name("web:8080") == ("http", "web", "8080")
    assert split_name("https:web:443") == ("https", "web", "443")
    with pytest.raises(ApiError) as e:
        split_name("ftp:web:21")
    assert e.value.code == 400
    with pytest.raises(ApiError):
        split_name("a:b:c:d")


def test_pod_port():
    assert pod_port(POD, "") == 80
    assert pod_port(POD, "9090") == 9090
    assert pod_port(POD, "web") == 8080
    with pytest.raises(ApiError) as e:
        pod_port(POD, "nope")
    assert e.value.code == 400


def test_service_endpoint_by_port_name_or_number():
    first = lambda choices: choices[0]  # noqa: E731
    assert endpoint(SVC, EPS, "http", first) == ("10.42.0.5", 8080)
    assert endpoint(SVC, EPS, "9000", first) == ("10.42.0.5", 9001)
    with pytest.raises(ApiError) as e:
        endpoint(SVC, EPS, "", first)  # two ports: one must be named
    assert e.value.code == 400
    with pytest.raises(ApiError) as e:
        endpoint(SVC, EPS, "7", first)
    assert e.value.code == 400
    single = {"metadata": {"name": "one"}, "spec": {"ports": [{"port": 80}]}}
    assert endpoint(single, {"subsets": [{"addresses": [{"ip": "10.42.0.9"}], "ports": [{"port": 81}]}]},
                    "", first) == ("10.42.0.9", 81)
    with pytest.raises(ApiError) as e:
        endpoint(single, None, "", first)
    assert e.value.code == 503 and 'no endpoints available for service "one"' in e.value.message
