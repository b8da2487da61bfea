import pytest
from hypothesis import given
from hypothesis import strategies as st

from skiff.common.errors import InvalidArgument
from skiff.engine.network import ports, ports_rules
from skiff.engine.network.iptables import render_chains
from skiff.engine.network.ports import PortBinding, PortChooser, PortRequest


def test_requests_from_bindings_and_publish_all():
    bindings = {"80/tcp": [{"HostIp": "", "HostPort": "8080"}],
                "53/udp": [{"HostIp": "127.0.0.1", "HostPort": ""}],
                "90/tcp": [{"HostIp": "", "HostPort": "9000-9010"}]}
    reqs = ports.requests(["80/tcp", "443/tcp", "53/udp", "90/tcp"], bindings, publish_all=True)
    assert reqs == [
        PortRequest("udp", 53, "127.0.0.1", 0, 0),
        PortRequest("tcp", 80, "", 8080, 8080),
        PortRequest("tcp", 90, "", 9000, 9010),
        PortRequest("tcp", 443),  # -P: exposed and not bound
    ]


def test_requests_without_publish_all_ignore_exposed():
    assert ports.requests(["443/tcp"], {}, publish_all=False) == []


def test_unsplit_range_key_maps_one_to_one():
    reqs = ports.requests([], {"80-81/tcp": [{"HostIp": "", "HostPort": "8000-8001"}]}, False)
    assert [(r.container_port, r.host_lo, r.host_hi) for r in reqs] == [(80, 8000, 8000), (81, 8001, 8001)]


@pytest.mark.parametrize("bindings, message", [
    ({"70000/tcp": []}, 'invalid port specification: "70000"'),
    ({"80/tcp": [{"HostPort": "70000"}]}, 'invalid port specification: "70000"'),
    ({"80/tcp": [{"HostPort": "abc"}]}, 'invalid port specification: "abc"'),
    ({"abc/tcp": []}, 'invalid port specification: "abc"'),
    ({"80/xyz": []}, "invalid proto: xyz"),
    ({"80/tcp": [{"HostIp": "1.2.3", "HostPort": "80"}]}, "invalid IP address: 1.2.3"),
])
def test_validate_bindings_errors(bindings, message):
    with pytest.raises(InvalidArgument) as e:
        ports.validate_bindings(bindings)
    assert e.value.message == message
    assert e.value.status == 400


def test_validate_accepts_docker_forms():
    ports.validate_bindings({"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8000-8010"}], "53/udp": [{}],
                             "81": None})


def test_chooser_round_robin_skips_unusable():
    chooser = PortChooser((40000, 40004))
    busy = {40000, 40002}
    free = lambda ip, proto, port: port not in busy  # noqa: E731
    got = [chooser.choose(PortRequest("tcp", 80), free) for _ in range(4)]
    assert got == [40001, 40003, 40004, 40001]


def test_chooser_fixed_range_first_free_and_exhaustion():
    chooser = PortChooser((40000, 40001))
    req = PortRequest("tcp", 80, "", 9000, 9002)
    assert chooser.choose(req, lambda ip, proto, port: port != 9000) == 9001
    assert chooser.choose(req, lambda ip, proto, port: False) is None
    assert chooser.choose(PortRequest("tcp", 80), lambda ip, proto, port: False) is None


@given(st.sets(st.integers(50000, 50063), max_size=60), st.integers(1, 80))
def test_chooser_never_gives_a_port_twice_or_a_busy_one(busy, n):
    chooser = PortChooser((50000, 50063))
    held: set[int] = set()

    def usable(ip, proto, port):
        return port not in busy and port not in held

    for _ in range(n):
        port = chooser.choose(PortRequest("tcp", 80), usable)
        if port is None:
            assert len(held) + len(busy) == 64
            break
        assert 50000 <= port <= 50063 and port not in busy and port not in held
        held.add(port)


def test_ports_view():
    bound = [PortBinding("tcp", 80, "", 8080), PortBinding("tcp", 80, "127.0.0.1", 8081)]
    view = ports.ports_view(["443/tcp", "80/tcp", "53/udp"], bound)
    assert view == {"53/udp": None,
                    "80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}, {"HostIp": "127.0.0.1", "HostPort": "8081"}],
                    "443/tcp": None}
    assert list(view) == ["53/udp", "80/tcp", "443/tcp"]


def test_binding_record_round_trip():
    b = PortBinding("udp", 53, "127.0.0.1", 5353)
    assert PortBinding.from_record(b.to_record()) == b


def test_messages_are_dockerds():
    b = PortBinding("tcp", 80, "", 8080)
    assert ports.bind_failed_message(b, allocated=True) == "Bind for 0.0.0.0:8080 failed: port is already allocated"
    assert ports.bind_failed_message(b, allocated=False).endswith("bind: address already in use")


def test_ephemeral_range_file(tmp_path):
    f = tmp_path / "range"
    f.write_text("32768\t60999\n")
    assert ports.read_ephemeral_range(str(f)) == (32768, 60999)
    assert ports.read_ephemeral_range(str(tmp_path / "missing")) == ports.DEFAULT_EPHEMERAL


def lines(chains):
    return {chain: [" ".join(r.args) for r in rules] for (_, chain), rules in chains.items()}


def test_rules_render():
    pubs = [ports_rules.Published(PortBinding("tcp", 80, "", 8080), "10.9.0.2", "skt0"),
            ports_rules.Published(PortBinding("udp", 53, "192.0.2.2", 5353), "10.9.0.3", "skt0"),
            ports_rules.Published(PortBinding("tcp", 81, "127.0.0.1", 8081), "10.9.0.3", "skt0"),
            ports_rules.Published(PortBinding("tcp", 82, "::", 8082), "10.9.0.3", "skt0")]
    assert lines(ports_rules.render("skt", pubs)) == {
        "skt-DNAT": ["-i skt0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.9.0.2:80",
                     "-i skt+ -p tcp -m tcp --dport 8080 -j RETURN",
                     "-p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.9.0.2:80",
                     "-i skt0 -d 192.0.2.2/32 -p udp -m udp --dport 5353 -j DNAT --to-destination 10.9.0.3:53",
                     "-i skt+ -d 192.0.2.2/32 -p udp -m udp --dport 5353 -j RETURN",
                     "-d 192.0.2.2/32 -p udp -m udp --dport 5353 -j DNAT --to-destination 10.9.0.3:53"],
        "skt-HAIRPIN": ["-s 10.9.0.2/32 -d 10.9.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE",
                        "-s 10.9.0.3/32 -d 10.9.0.3/32 -p udp -m udp --dport 53 -j MASQUERADE"],
        "skt-PORTS": ["-d 10.9.0.2/32 ! -i skt0 -o skt0 -p tcp -m tcp --dport 80 -j ACCEPT",
                      "-d 10.9.0.3/32 ! -i skt0 -o skt0 -p udp -m udp --dport 53 -j ACCEPT"]}
    assert lines(ports_rules.render("skt", [])) == {"skt-DNAT": [], "skt-HAIRPIN": [], "skt-PORTS": []}


SAVED = """*nat
:PREROUTING ACCEPT [0:0]
:skt-DNAT - [0:0]
:other-DNAT - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j skt-DNAT
-A PREROUTING -m addrtype --dst-type LOCAL -j other-DNAT
COMMIT
*filter
:FORWARD ACCEPT [0:0]
COMMIT
"""


def test_jumps_inserted_only_when_missing_and_loopback_left_to_the_proxy():
    text = ports_rules.render_jumps(SAVED, "skt")
    assert "-I PREROUTING" not in text
    assert "-I OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j skt-DNAT" in text
    assert "-I POSTROUTING -j skt-HAIRPIN" in text and "-I FORWARD -j skt-PORTS" in text


def test_teardown_touches_only_our_prefix():
    text = ports_rules.render_teardown(SAVED, "skt")
    assert "-D PREROUTING -m addrtype --dst-type LOCAL -j skt-DNAT" in text
    assert "-F skt-DNAT" in text and "-X skt-DNAT" in text
    assert "other" not in text and "skt-PORTS" not in text  # never declared: nothing to delete


def test_restore_text_declares_chains_and_keeps_bang_bare():
    pubs = [ports_rules.Published(PortBinding("tcp", 80, "", 8080), "10.9.0.2", "skt0")]
    text = render_chains(ports_rules.render("skt", pubs))
    assert ":skt-DNAT - [0:0]" in text and ":skt-PORTS - [0:0]" in text
    assert "-A skt-PORTS -d 10.9.0.2/32 ! -i skt0 -o skt0" in text


def test_port_errors_reach_the_client_unwrapped():
    from skiff.engine.containers.startfail import translate_start_error

    msg = "driver failed programming external connectivity on endpoint web (abc): " + \
        ports.bind_failed_message(PortBinding("tcp", 80, "", 8080), allocated=True)
    err = translate_start_error(msg)
    assert err.message == msg and err.status == 500


def test_icc_off_sends_same_network_traffic_to_the_proxy():
    pub = ports_rules.Published(PortBinding("tcp", 80, "", 8080), "10.9.0.2", "skt0", icc=False)
    assert lines(ports_rules.render("skt", [pub]))["skt-DNAT"] == [
        "-i skt+ -p tcp -m tcp --dport 8080 -j RETURN",
        "-p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.9.0.2:80"]
