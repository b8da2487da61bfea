"""Host-gw route computation from Node objects, and the NAT exemption's rules."""

from skiff.cluster.nodenet.apply import nat_rules
from skiff.cluster.nodenet.routes import PodRoute, desired_routes, route_changes


def node(name, ip=None, cidr=None, cidrs=None):
    n = {"metadata": {"name": name}, "spec": {}, "status": {"addresses": [{"type": "Hostname", "address": name}]}}
    if ip:
        n["status"]["addresses"].insert(0, {"type": "InternalIP", "address": ip})
    if cidr:
        n["spec"]["podCIDR"] = cidr
    if cidrs:
        n["spec"]["podCIDRs"] = cidrs
    return n


def test_routes_to_every_other_node_via_its_internal_ip():
    nodes = [node("a", "10.0.0.2", "10.244.0.0/24"), node("b", "10.0.0.3", "10.244.1.0/24"),
             node("c", "10.0.0.4", "10.244.2.0/24")]
    assert desired_routes(nodes, "a", "10.244.0.0/24", "10.0.0.2") == [
        PodRoute("10.244.1.0/24", "10.0.0.3"), PodRoute("10.244.2.0/24", "10.0.0.4")]


def test_nodes_not_ready_for_routing_are_left_out():
    nodes = [node("a", "10.0.0.2", "10.244.0.0/24"), node("noip", cidr="10.244.5.0/24"), node("nocidr", "10.0.0.9"),
             node("v6", "fd00::2", "10.244.6.0/24"), node("bad", "10.0.0.7", "not-a-cidr")]
    assert desired_routes(nodes, "a", "10.244.0.0/24") == []


def test_same_host_nodes_and_overlapping_cidrs_are_not_routed():
    nodes = [node("a", "10.0.0.2", "10.244.0.0/24"), node("twin", "10.0.0.2", "10.244.1.0/24"),
             node("lo", "127.0.0.1", "10.244.2.0/24"), node("clash", "10.0.0.5", "10.244.0.0/16")]
    assert desired_routes(nodes, "a", "10.244.0.0/24", "10.0.0.2") == []


def test_pod_cidrs_win_over_pod_cidr_and_ipv6_ones_are_skipped():
    nodes = [node("b", "10.0.0.3", "10.244.1.0/24", ["10.244.1.0/24", "fd00:1::/64"]), node("c", "10.0.0.4",
                                                                                          cidr="10.244.2.7/24")]
    assert desired_routes(nodes, "a", "") == [PodRoute("10.244.1.0/24", "10.0.0.3"),
                                             PodRoute("10.244.2.0/24", "10.0.0.4")]


def test_changes_add_moved_routes_and_delete_departed_ones():
    current = [PodRoute("10.244.1.0/24", "10.0.0.3"), PodRoute("10.244.2.0/24", "10.0.0.4"),
               PodRoute("10.244.3.0/24", "10.0.0.5")]
    desired = [PodRoute("10.244.1.0/24", "10.0.0.3"), PodRoute("10.244.2.0/24", "10.0.0.9"),
               PodRoute("10.244.4.0/24", "10.0.0.6")]
    add, delete = route_changes(current, desired)
    assert add == [PodRoute("10.244.2.0/24", "10.0.0.9"), PodRoute("10.244.4.0/24", "10.0.0.6")]
    assert delete == [PodRoute("10.244.3.0/24", "10.0.0.5")]
    assert route_changes(desired, desired) == ([], [])


def test_nat_exemption_accepts_before_masquerade_for_each_destination():
    assert nat_rules("skx-PODS", "10.244.0.0/24", ["10.244.1.0/24", "10.244.2.0/24"]) == [
        ["-t", "nat", "-A", "skx-PODS", "-s", "10.244.0.0/24", "-d", "10.244.1.0/24", "-j", "ACCEPT"],
        ["-t", "nat", "-A", "skx-PODS", "-s", "10.244.0.0/24", "-d", "10.244.2.0/24", "-j", "ACCEPT"]]
