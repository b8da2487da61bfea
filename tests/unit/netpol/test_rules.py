"""Rendering pod firewalls to iptables chains (golden rules) and keeping our jump first."""

import pytest

from skiff.cluster.netpol.model import Allow, PodFirewall, Port
from skiff.cluster.netpol.rules import NetpolChains, netpol_prefix, render
from skiff.cluster.netpol.syncer import jump_first
from skiff.common.errors import InvalidArgument

CHAINS = NetpolChains(netpol_prefix("skt"))


def lines(ruleset):
    return {chain: [r.line() for r in rules] for (_, chain), rules in ruleset.items()}


def test_no_firewall_leaves_only_the_dispatch_chain():
    assert lines(render(CHAINS, [])) == {"skt-N-FORWARD": [
        "-A skt-N-FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
        "-A skt-N-FORWARD -j MARK --set-xmark 0x0/0x20000"]}


def test_golden_rules_for_ingress_and_egress():
    fw = PodFirewall("ns/web", "10.0.0.2",
                     ingress=(Allow((("10.0.0.3/32", ()),), Port("TCP", 80)),
                              Allow((("10.1.0.0/16", ("10.1.2.0/24",)),)),
                              Allow((("10.0.0.4/32", ()), ("10.0.0.5/32", ())), Port("UDP", 53))),
                     egress=(Allow(None, Port("UDP", 53)), Allow((("10.0.0.0/8", ()),), Port("TCP", 8000, 8080))))
    got = lines(render(CHAINS, [fw]))
    ing, egr = CHAINS.pod("I", "ns/web"), CHAINS.pod("E", "ns/web")
    exc = CHAINS.pod("X", "-s 10.1.0.0/16 10.1.2.0/24")
    shared = next(c for c in got if "-N-S-" in c)
    assert len({ing, egr, exc, shared}) == 4 and all(len(c) <= 28 for c in (ing, egr, exc, shared))
    assert got["skt-N-FORWARD"] == [
        "-A skt-N-FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
        f"-A skt-N-FORWARD -s 10.0.0.2/32 -j {egr}",
        f"-A skt-N-FORWARD -d 10.0.0.2/32 -j {ing}",
        "-A skt-N-FORWARD -j MARK --set-xmark 0x0/0x20000"]
    assert got[ing] == [
        f'-A {ing} -m comment --comment "ns/web ingress" -j MARK --set-xmark 0x0/0x20000',
        f"-A {ing} -s 10.0.0.3/32 -p tcp -m tcp --dport 80 -j MARK --set-xmark 0x20000/0x20000",
        f"-A {ing} -s 10.1.0.0/16 -j {exc}",
        f"-A {ing} -p udp -m udp --dport 53 -j {shared}",
        f"-A {ing} -m mark --mark 0x20000/0x20000 -j RETURN",
        f"-A {ing} -j REJECT --reject-with icmp-port-unreachable"]
    assert got[exc] == [f"-A {exc} -s 10.1.2.0/24 -j RETURN", f"-A {exc} -j MARK --set-xmark 0x20000/0x20000"]
    assert got[shared] == [f"-A {shared} -s 10.0.0.4/32 -j MARK --set-xmark 0x20000/0x20000",
                           f"-A {shared} -s 10.0.0.5/32 -j MARK --set-xmark 0x20000/0x20000"]
    assert got[egr][1:3] == [f"-A {egr} -p udp -m udp --dport 53 -j MARK --set-xmark 0x20000/0x20000",
                             f"-A {egr} -d 10.0.0.0/8 -p tcp -m tcp --dport 8000:8080 -j MARK --set-xmark "
                             "0x20000/0x20000"]


def test_isolated_with_no_rule_rejects_everything_new():
    got = lines(render(CHAINS, [PodFirewall("ns/a", "10.0.0.5", ingress=(), egress=None)]))
    ing = CHAINS.pod("I", "ns/a")
    assert got[ing][1:] == [f"-A {ing} -m mark --mark 0x20000/0x20000 -j RETURN",
                            f"-A {ing} -j REJECT --reject-with icmp-port-unreachable"]


def test_chains_are_owned_by_prefix_and_a_long_prefix_is_refused():
    assert CHAINS.owns(CHAINS.pod("I", "x")) and not CHAINS.owns("skt-K-SERVICES")
    with pytest.raises(InvalidArgument):
        NetpolChains(netpol_prefix("a-much-too-long-prefix"))


def test_jump_is_moved_first_in_forward():
    first = "*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -j skt-N-FORWARD\n-A FORWARD -j eng-FORWARD\nCOMMIT\n"
    assert jump_first(CHAINS, first) == ""
    later = "*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -j eng-FORWARD\n-A FORWARD -j skt-N-FORWARD\nCOMMIT\n"
    assert jump_first(CHAINS, later) == "*filter\n-D FORWARD -j skt-N-FORWARD\n-I FORWARD -j skt-N-FORWARD\nCOMMIT\n"


def test_pods_selected_by_one_policy_share_its_peer_chain():
    peers = tuple((f"10.0.1.{i}/32", ()) for i in range(50))
    fws = [PodFirewall(f"ns/p{i}", f"10.0.0.{i}", ingress=(Allow(peers, Port("TCP", 80)),), egress=None)
           for i in range(20)]
    got = render(CHAINS, fws)
    assert len([c for _, c in got if "-N-S-" in c]) == 1
    assert sum(len(rules) for rules in got.values()) == 50 + 20 * 4 + 20 + 2
