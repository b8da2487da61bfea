"""The `kubernetes` Service's bootstrap objects and the reconciler's pure part (what it corrects),
and how `skiff server` picks its advertise address and node IP."""

from skiff.cluster.apiserver import services
from skiff.cluster.kubelet.node import default_gateway
from skiff.cluster.server import resolve_addresses, serving_names
from skiff.cluster.serverflags import parse


def test_the_endpointslice_is_what_the_proxy_and_kubectl_read():
    s = services.kubernetes_endpointslice("192.0.2.2", 6443)
    assert s["metadata"]["labels"] == {"kubernetes.io/service-name": "kubernetes"}
    assert (s["metadata"]["name"], s["metadata"]["namespace"], s["addressType"]) == ("kubernetes", "default", "IPv4")
    assert s["endpoints"] == [{"addresses": ["192.0.2.2"], "conditions": {"ready": True}}]
    assert s["ports"] == [{"name": "https", "port": 6443, "protocol": "TCP"}]
    assert services.kubernetes_endpointslice("fd00::1", 6443)["addressType"] == "IPv6"


def stored(obj):
    """As storage gives it back: metadata filled in."""
    return {**obj, "metadata": {**obj["metadata"], "uid": "u1", "resourceVersion": "7"}}


def test_an_unchanged_address_and_port_need_no_write():
    for desired in (services.kubernetes_endpoints("192.0.2.2", 6443),
                    services.kubernetes_endpointslice("192.0.2.2", 6443),
                    services.kubernetes_service("10.43.0.0/16", 6443)):
        assert services.corrected(stored(desired), desired) is None


def test_a_new_address_corrects_endpoints_and_slice_keeping_metadata():
    old = stored(services.kubernetes_endpoints("127.0.0.1", 6443))
    old["metadata"]["labels"]["mine"] = "kept"
    new = services.corrected(old, services.kubernetes_endpoints("192.0.2.9", 6443))
    assert new is not None
    assert new["subsets"][0]["addresses"] == [{"ip": "192.0.2.9"}]
    assert new["metadata"]["labels"]["mine"] == "kept" and new["metadata"]["resourceVersion"] == "7"
    old_slice = stored(services.kubernetes_endpointslice("127.0.0.1", 6443))
    new_slice = services.corrected(old_slice, services.kubernetes_endpointslice("192.0.2.9", 7443))
    assert new_slice is not None
    assert new_slice["endpoints"][0]["addresses"] == ["192.0.2.9"]
    assert new_slice["ports"][0]["port"] == 7443 and new_slice["metadata"]["uid"] == "u1"


def test_a_new_port_corrects_the_services_target_port_only():
    old = stored(services.kubernetes_service("10.43.0.0/16", 6443))
    old["spec"]["clusterIPs"] = ["10.43.0.1"]  # defaulted by storage: not the reconciler's
    new = services.corrected(old, services.kubernetes_service("10.43.0.0/16", 7443))
    assert new is not None
    assert new["spec"]["ports"][0]["targetPort"] == 7443 and new["spec"]["clusterIPs"] == ["10.43.0.1"]
    assert services.corrected(old, services.kubernetes_service("10.43.0.0/16", 6443)) is None


def never():
    raise AssertionError("the primary address is not needed here")


def test_a_server_on_every_address_advertises_the_primary_ipv4_as_its_node_ip():
    assert resolve_addresses(parse([]), lambda: "192.0.2.2") == ("192.0.2.2", "192.0.2.2")
    assert resolve_addresses(parse([]), lambda: "127.0.0.1") == ("127.0.0.1", "127.0.0.1")  # no default route


def test_flags_and_a_bind_address_win_over_the_primary_ipv4():
    assert resolve_addresses(parse(["--bind-address", "127.0.0.1"]), never) == ("127.0.0.1", "127.0.0.1")
    assert resolve_addresses(parse(["--node-ip", "192.0.2.7"]), never) == ("192.0.2.7", "192.0.2.7")
    assert resolve_addresses(parse(["--advertise-address", "192.0.2.8"]), lambda: "192.0.2.2") == \
        ("192.0.2.8", "192.0.2.2")
    assert resolve_addresses(parse(["--bind-address", "127.0.0.1", "--node-ip", "192.0.2.7"]), never) == \
        ("127.0.0.1", "192.0.2.7")


def test_bad_addresses_are_refused(capsys):
    import pytest

    for flag in ("--node-ip", "--advertise-address"):
        with pytest.raises(SystemExit) as e:
            parse([flag, "not-an-ip"])
        assert e.value.code == 2
        assert f"{flag}: invalid IP address 'not-an-ip'" in capsys.readouterr().err


def test_the_serving_certificate_covers_what_pods_and_nodes_use():
    opts = parse(["--tls-san", "api.example"])
    opts.advertise_address, opts.node_ip = resolve_addresses(opts, lambda: "192.0.2.2")
    names = serving_names(opts)
    for name in ("127.0.0.1", "192.0.2.2", "10.43.0.1", "kubernetes.default.svc",
                 "kubernetes.default.svc.cluster.local", "api.example"):
        assert name in names


ROUTES = """Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth1\t00000000\t0102A8C0\t0003\t0\t0\t200\t00000000\t0\t0\t0
eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0
eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
"""


def test_the_default_route_with_the_lowest_metric_gives_the_gateway():
    assert default_gateway(ROUTES) == "192.0.2.1"
    assert default_gateway(ROUTES.splitlines()[0] + "\n" + ROUTES.splitlines()[3]) is None
    down = "h\nwg0\t00000000\t00000000\t0000\t0\t0\t0\t00000000\t0\t0\t0\n"
    assert default_gateway(down) is None
    assert default_gateway(down.replace("0000\t0\t0\t0\t0000", "0001\t0\t0\t0\t0000")) == "0.0.0.0"
