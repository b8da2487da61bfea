import ipaddress
import random

import pytest

from skiff.cluster.apimachinery.errors import ApiError
from skiff.cluster.apiserver import services

CIDR = "10.43.0.0/16"


def _svc(**spec):
    return {"metadata": {"name": "s"}, "spec": {"type": "ClusterIP", "ports": [{"port": 80}], **spec}}


def test_allocates_a_free_ip_in_range():
    svc = _svc()
    services.allocate(svc, CIDR, {"10.43.0.1"}, set(), random.Random(1))
    ip = svc["spec"]["clusterIP"]
    assert ipaddress.ip_address(ip) in ipaddress.ip_network(CIDR)
    assert ip != "10.43.0.1" and svc["spec"]["clusterIPs"] == [ip]


def test_requested_ip_checked():
    svc = _svc(clusterIP="10.43.0.50")
    services.allocate(svc, CIDR, set(), set())
    assert svc["spec"]["clusterIP"] == "10.43.0.50"
    with pytest.raises(ApiError) as e:
        services.allocate(_svc(clusterIP="10.43.0.50"), CIDR, {"10.43.0.50"}, set())
    assert e.value.code == 422 and "provided IP is already allocated" in e.value.message
    with pytest.raises(ApiError) as e:
        services.allocate(_svc(clusterIP="192.168.0.1"), CIDR, set(), set())
    assert "is not in the valid range" in e.value.message


def test_headless_and_external_name_get_no_ip():
    headless = _svc(clusterIP="None")
    services.allocate(headless, CIDR, set(), set())
    assert headless["spec"]["clusterIPs"] == ["None"]
    ext = {"metadata": {"name": "e"}, "spec": {"type": "ExternalName", "externalName": "example.com"}}
    services.allocate(ext, CIDR, set(), set())
    assert "clusterIP" not in ext["spec"]


def test_node_ports():
    svc = _svc(type="NodePort", ports=[{"port": 80}, {"port": 443, "nodePort": 30443}])
    services.allocate(svc, CIDR, set(), {30001}, random.Random(2))
    first = svc["spec"]["ports"][0]["nodePort"]
    assert 30000 <= first <= 32767 and first not in (30001, 30443)
    with pytest.raises(ApiError) as e:
        services.allocate(_svc(type="NodePort", ports=[{"port": 1, "nodePort": 30443}]), CIDR, set(), {30443})
    assert "provided port is already allocated" in e.value.message


def test_update_keeps_allocations_left_out():
    old = {"spec": {"type": "NodePort", "clusterIP": "10.43.9.9", "clusterIPs": ["10.43.9.9"],
                    "ports": [{"port": 80, "protocol": "TCP", "nodePort": 31000}]}}
    new = {"spec": {"type": "NodePort", "ports": [{"port": 80}]}}
    services.carry_on_update(new, old)
    assert new["spec"]["clusterIP"] == "10.43.9.9" and new["spec"]["ports"][0]["nodePort"] == 31000


def test_taken_reads_existing_services():
    ips, ports = services.taken([{"spec": {"clusterIP": "10.43.0.1", "clusterIPs": ["10.43.0.1"],
                                           "ports": [{"nodePort": 30080}]}}, {"spec": {"clusterIP": "None"}}])
    assert ips == {"10.43.0.1"} and ports == {30080}
