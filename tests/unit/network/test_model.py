"""Network records, host names, Docker's views, filters, flags and the service's pure decisions
(which networks a container asks for, name resolution) — no root, no netlink."""

import pytest

from skiff.common.errors import InvalidArgument, NotFound
from skiff.engine.network import model
from skiff.engine.network.attach import primary_network
from skiff.engine.network.config import NetworkConfig, default_options, parse_bip
from skiff.engine.network.model import Network
from tests.unit.network.records import CID_A, CID_B, make_network, plug, service_with_networks


def test_host_names_fit_the_kernel_limit_and_are_recognised():
    assert model.bridge_name("skiff", "0123456789abcdef") == "skiff-012345678"
    assert len(model.veth_name("sk123456", "f" * 64)) == 15
    assert model.is_engine_link("sk1234", "sk12340")
    assert model.is_engine_link("sk1234", "sk1234-0a1b")
    assert model.is_engine_link("sk1234", "sk1234v0a1b2c")
    assert not model.is_engine_link("sk1234", "sk1234vxyz")  # not ours: not hex
    assert not model.is_engine_link("sk1234", "sk12345-ab")  # another instance
    assert not model.is_engine_link("sk1234", "eth0")


def test_bool_options_follow_go_parsing():
    assert model.parse_bool_option({model.OPT_ICC: "false"}, model.OPT_ICC, True) is False
    assert model.parse_bool_option({}, model.OPT_ICC, True) is True
    with pytest.raises(InvalidArgument, match="invalid syntax"):
        model.parse_bool_option({model.OPT_ICC: "maybe"}, model.OPT_ICC, True)


def test_record_round_trip_keeps_allocations_and_endpoints():
    net = make_network("web", "1" * 64, "10.5.0.0/24", labels={"x": "y"}, internal=True)
    plug(net, CID_A, "alpha", ["api"])
    back = Network.from_dict(net.to_dict())
    assert back.pool is not None and back.pool.allocated == {"10.5.0.2": CID_A}
    assert back.endpoints[CID_A].aliases == ["api"] and back.internal and back.labels == {"x": "y"}
    assert not back.masquerade  # internal networks never NAT


def test_network_view_as_dockerd_shows_it():
    net = make_network("web", "1" * 64, "10.5.0.0/24")
    plug(net, CID_A, "alpha")
    view = model.network_view(net)
    assert view["IPAM"] == {"Driver": "default", "Options": {}, "Config": [{"Subnet": "10.5.0.0/24",
                                                                             "Gateway": "10.5.0.1"}]}
    assert view["Containers"][CID_A] == {"Name": "alpha", "EndpointID": "e" * 64, "MacAddress": "02:42:0a:00:00:02",
                                         "IPv4Address": "10.5.0.2/24", "IPv6Address": ""}
    assert model.network_view(net, with_containers=False)["Containers"] == {}


def test_endpoint_settings_running_and_stopped():
    net = make_network("web", "1" * 64, "10.5.0.0/24")
    ep = plug(net, CID_A, "alpha", ["api"])
    running = model.endpoint_settings(net, ep, {"Aliases": ["api"]})
    assert running["IPAddress"] == "10.5.0.2" and running["Gateway"] == "10.5.0.1" and running["NetworkID"] == net.id
    assert running["DNSNames"] == ["alpha", "api", CID_A[:12]]
    stopped = model.endpoint_settings(net, None, {"Aliases": ["api"]})
    assert stopped["IPAddress"] == "" and stopped["EndpointID"] == "" and stopped["Aliases"] == ["api"]


def test_list_filters():
    net = make_network("web-front", "12ab" + "0" * 60, "10.5.0.0/24", labels={"tier": "front"})
    host = Network(id="h" * 64, name="host", driver="host", created="2026-01-01T00:00:00Z")
    assert model.matches(net, {"name": ["front"], "driver": ["bridge"], "id": ["12a"]})
    assert model.matches(net, {"label": ["tier=front"], "type": ["custom"], "dangling": ["true"]})
    assert not model.matches(net, {"label": ["tier=back"]})
    assert model.matches(host, {"type": ["builtin"]}) and not model.matches(host, {"dangling": ["true"]})
    with pytest.raises(InvalidArgument, match="invalid filter 'colour'"):
        model.matches(net, {"colour": ["red"]})


def test_bip_parsing_and_default_options():
    assert parse_bip("10.9.0.1/24") == ("10.9.0.0/24", "10.9.0.1")
    for bad in ("10.9.0.0/24", "10.9.0.1", "nonsense", "fe80::1/64"):
        with pytest.raises(InvalidArgument, match="invalid --bip"):
            parse_bip(bad)
    opts = default_options(NetworkConfig(prefix="skQ", icc=False, mtu=1400))
    assert opts[model.OPT_BRIDGE_NAME] == "skQ0" and opts[model.OPT_ICC] == "false" and opts[model.OPT_MTU] == "1400"
    assert NetworkConfig(bridge="none").default_bridge_enabled is False


def test_primary_network_of_a_mode():
    assert primary_network("default") == primary_network("bridge") == "bridge"
    assert primary_network("web") == "web"
    assert primary_network("host") is None and primary_network("container:abc") is None


def test_container_network_requests_are_checked():
    svc = service_with_networks()
    assert svc.check_container_networks("bridge", {"default": {}}) == {"bridge": {}}
    got = svc.check_container_networks("web", {"db": {"Aliases": ["x"]}, "web": {"IPAMConfig": {"IPv4Address": "10.5.0.9"}}})
    assert list(got) == ["web", "db"]  # the primary network first: it becomes eth0
    with pytest.raises(InvalidArgument, match="supported on user defined networks only"):
        svc.check_container_networks("bridge", {"bridge": {"IPAMConfig": {"IPv4Address": "172.30.0.9"}}})
    with pytest.raises(InvalidArgument, match="no configured subnet or ip-range contain the IP address 10.9.9.9"):
        svc.check_container_networks("web", {"web": {"IPAMConfig": {"IPv4Address": "10.9.9.9"}}})
    with pytest.raises(InvalidArgument, match="network-scoped alias is supported only"):
        svc.check_container_networks("bridge", {"bridge": {"Aliases": ["a"]}})
    with pytest.raises(InvalidArgument, match="network nope not found"):  # 400, not 404: the CLI would pull
        svc.check_container_networks("nope", None)
    assert svc.check_container_networks("none", None) == {}
    # NetworkMode by id with the endpoint config stored by name (as at a later start): one network
    assert svc.check_container_networks("1" * 64, {"web": {"Aliases": ["a"]}}) == {"web": {"Aliases": ["a"]}}
    with pytest.raises(InvalidArgument, match="cannot be connected to network endpoints"):
        svc.check_container_networks("host", {"web": {}})


def test_lookup_by_name_id_and_prefix():
    svc = service_with_networks()
    assert svc.get("web").id == "1" * 64 and svc.get("111").name == "web"
    with pytest.raises(NotFound, match="ambiguous"):
        svc.get("1")
    with pytest.raises(NotFound, match="network zzz not found"):
        svc.get("zzz")


def test_resolve_only_on_shared_user_networks():
    svc = service_with_networks()
    web, bridge = svc.get("web"), svc.get("bridge")
    plug(web, CID_A, "alpha", ["api"])
    ep_b = plug(web, CID_B, "beta")
    plug(bridge, CID_A, "alpha")
    plug(bridge, "c" * 64, "gamma")
    assert svc.resolve(CID_A, "beta") == [ep_b.ip]
    assert svc.resolve(CID_B, "API.") == [web.endpoints[CID_A].ip]
    assert svc.resolve(CID_B, CID_A[:12]) == [web.endpoints[CID_A].ip]
    assert svc.resolve(CID_A, "gamma") == []  # the default bridge has no name resolution
    assert svc.resolve("c" * 64, "alpha") == []
    infos = svc.endpoints(CID_A)
    assert {i.network_name for i in infos} == {"web", "bridge"}
    assert [i.is_default_bridge for i in infos if i.network_name == "bridge"] == [True]
