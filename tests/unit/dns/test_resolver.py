"""The cluster resolver's answers (no sockets): each record kind of the Kubernetes DNS spec,
negative answers with the zone's SOA, case, truncation and the forwarding decision."""

from __future__ import annotations

import pytest

from skiff.cluster.dns.index import ClusterIndex
from skiff.cluster.dns.resolver import Resolver
from skiff.engine.network import dns_codec as codec

A, AAAA, SRV, PTR, CNAME, SOA, TXT, NS = (codec.TYPE_A, codec.TYPE_AAAA, codec.TYPE_SRV, codec.TYPE_PTR,
                                          codec.TYPE_CNAME, codec.TYPE_SOA, codec.TYPE_TXT, codec.TYPE_NS)
NOERROR, NXDOMAIN = codec.RCODE_OK, codec.RCODE_NXDOMAIN


def service(name, ns="default", cluster_ip="10.43.0.20", ports=None, **spec):
    body = {"clusterIP": cluster_ip, "ports": ports if ports is not None else
            [{"name": "http", "port": 80, "protocol": "TCP"}]}
    if cluster_ip and cluster_ip != "None":
        body["clusterIPs"] = [cluster_ip]
    body.update(spec)
    return {"metadata": {"name": name, "namespace": ns}, "spec": body}


def endpoint_slice(name, service_name, endpoints, ns="default", ports=None):
    return {"metadata": {"name": name, "namespace": ns, "labels": {"kubernetes.io/service-name": service_name}},
            "addressType": "IPv4", "endpoints": endpoints,
            "ports": ports if ports is not None else [{"name": "http", "port": 8080, "protocol": "TCP"}]}


def ep(ip, ready=True, hostname=""):
    out = {"addresses": [ip], "conditions": {"ready": ready}}
    if hostname:
        out["hostname"] = hostname
    return out


@pytest.fixture
def resolver():
    ix = ClusterIndex("cluster.local")
    ix.set_service(service("redis-master", cluster_ip="10.43.0.20",
                           ports=[{"name": "redis", "port": 6379, "protocol": "TCP"}, {"port": 9121}]))
    ix.set_service(service("db", ns="prod", cluster_ip="None"))
    ix.set_slice(endpoint_slice("db-abc", "db", [ep("10.42.0.5", hostname="db-0"), ep("10.42.1.7"),
                                                 ep("10.42.2.9", ready=False)], ns="prod",
                                ports=[{"name": "pg", "port": 5432, "protocol": "TCP"}]))
    ix.set_service(service("empty", cluster_ip="None"))
    ix.set_service({"metadata": {"name": "search", "namespace": "default"},
                    "spec": {"type": "ExternalName", "externalName": "search.example.com."}})
    return Resolver(ix, dns_ip="10.43.0.10")


def ask(resolver, name, qtype=A, tcp=False):
    data = resolver.reply(codec.build_query(name, qtype), tcp=tcp)
    if data is None:
        return None
    flags, (answers, authority, additional) = codec.parse_reply(data)
    return flags, answers, authority, additional


def values(answers):
    return sorted(str(v) for _, _, _, v in answers)


def test_cluster_ip_service_a_record(resolver):
    flags, answers, authority, _ = ask(resolver, "redis-master.default.svc.cluster.local")
    assert flags & 0xF == NOERROR and flags & 0x0400  # authoritative
    assert answers == [("redis-master.default.svc.cluster.local", A, 5, "10.43.0.20")]
    assert authority == []


def test_names_are_case_insensitive_and_echo_the_question(resolver):
    _, answers, _, _ = ask(resolver, "Redis-Master.DEFAULT.svc.Cluster.Local")
    assert values(answers) == ["10.43.0.20"]


def test_unknown_service_is_nxdomain_with_soa(resolver):
    flags, answers, authority, _ = ask(resolver, "nope.default.svc.cluster.local")
    assert flags & 0xF == NXDOMAIN and answers == []
    assert [(n, t) for n, t, _, _ in authority] == [("cluster.local", SOA)]
    mname, rname, _serial, *_, minimum = authority[0][3]
    assert (mname, rname, minimum) == ("ns.dns.cluster.local", "hostmaster.cluster.local", 5)


def test_existing_name_without_the_type_is_nodata(resolver):
    flags, answers, authority, _ = ask(resolver, "redis-master.default.svc.cluster.local", AAAA)
    assert flags & 0xF == NOERROR and answers == [] and authority[0][1] == SOA
    flags, answers, _, _ = ask(resolver, "default.svc.cluster.local")  # a namespace: an empty non-terminal
    assert flags & 0xF == NOERROR and answers == []
    flags, _, _, _ = ask(resolver, "nons.svc.cluster.local")
    assert flags & 0xF == NXDOMAIN


def test_srv_for_named_ports_only(resolver):
    _, answers, _, additional = ask(resolver, "_redis._tcp.redis-master.default.svc.cluster.local", SRV)
    assert answers == [("_redis._tcp.redis-master.default.svc.cluster.local", SRV, 5,
                        (0, 100, 6379, "redis-master.default.svc.cluster.local"))]
    assert additional == [("redis-master.default.svc.cluster.local", A, 5, "10.43.0.20")]
    flags, _, _, _ = ask(resolver, "_redis._udp.redis-master.default.svc.cluster.local", SRV)
    assert flags & 0xF == NXDOMAIN
    _, answers, _, _ = ask(resolver, "redis-master.default.svc.cluster.local", SRV)  # every named port
    assert [v[2] for _, _, _, v in answers] == [6379]


def test_headless_service_lists_ready_endpoints(resolver):
    _, answers, _, _ = ask(resolver, "db.prod.svc.cluster.local")
    assert values(answers) == ["10.42.0.5", "10.42.1.7"]  # the not-ready one is left out
    flags, answers, authority, _ = ask(resolver, "empty.default.svc.cluster.local")
    assert flags & 0xF == NXDOMAIN and authority  # no ready endpoints: NXDOMAIN, as the spec says


def test_headless_endpoint_names(resolver):
    _, answers, _, _ = ask(resolver, "db-0.db.prod.svc.cluster.local")
    assert values(answers) == ["10.42.0.5"]
    _, answers, _, _ = ask(resolver, "10-42-1-7.db.prod.svc.cluster.local")  # no hostname: the dashed address
    assert values(answers) == ["10.42.1.7"]
    flags, _, _, _ = ask(resolver, "10-42-2-9.db.prod.svc.cluster.local")  # not ready
    assert flags & 0xF == NXDOMAIN
    flags, _, _, _ = ask(resolver, "db-0.redis-master.default.svc.cluster.local")  # not headless
    assert flags & 0xF == NXDOMAIN


def test_headless_srv_one_per_endpoint(resolver):
    _, answers, _, additional = ask(resolver, "_pg._tcp.db.prod.svc.cluster.local", SRV)
    targets = sorted((v[2], v[3]) for _, _, _, v in answers)
    assert targets == [(5432, "10-42-1-7.db.prod.svc.cluster.local"), (5432, "db-0.db.prod.svc.cluster.local")]
    assert values(additional) == ["10.42.0.5", "10.42.1.7"]


def test_ptr_for_cluster_ips_and_headless_endpoints(resolver):
    _, answers, _, _ = ask(resolver, "20.0.43.10.in-addr.arpa", PTR)
    assert answers == [("20.0.43.10.in-addr.arpa", PTR, 5, "redis-master.default.svc.cluster.local")]
    _, answers, _, _ = ask(resolver, "5.0.42.10.in-addr.arpa", PTR)
    assert values(answers) == ["db-0.db.prod.svc.cluster.local"]
    assert ask(resolver, "1.1.168.192.in-addr.arpa", PTR) is None  # not ours: forwarded


def test_external_name_is_a_cname(resolver):
    flags, answers, _, _ = ask(resolver, "search.default.svc.cluster.local", CNAME)
    assert flags & 0xF == NOERROR
    assert answers == [("search.default.svc.cluster.local", CNAME, 5, "search.example.com")]
    # an address query needs the target resolved upstream too: the server chases it
    assert ask(resolver, "search.default.svc.cluster.local", A) is None
    q, cname, target = resolver.external_chase(codec.build_query("search.default.svc.cluster.local"))
    assert (q.qtype, cname.data, target) == (A, "search.example.com", "search.example.com")
    assert resolver.external_chase(codec.build_query("redis-master.default.svc.cluster.local")) is None


def test_external_name_inside_the_zone_is_followed(resolver):
    resolver.index.set_service({"metadata": {"name": "alias", "namespace": "default"},
                                "spec": {"type": "ExternalName",
                                         "externalName": "redis-master.default.svc.cluster.local"}})
    _, answers, _, _ = ask(resolver, "alias.default.svc.cluster.local")
    assert [(t, v) for _, t, _, v in answers] == [(CNAME, "redis-master.default.svc.cluster.local"),
                                                  (A, "10.43.0.20")]


def test_pod_records(resolver):
    _, answers, _, _ = ask(resolver, "10-42-0-5.prod.pod.cluster.local")
    assert values(answers) == ["10.42.0.5"]
    flags, _, _, _ = ask(resolver, "10-42-0-999.prod.pod.cluster.local")
    assert flags & 0xF == NXDOMAIN


def test_zone_apex_version_and_nameserver(resolver):
    _, answers, _, _ = ask(resolver, "cluster.local", SOA)
    assert answers[0][1] == SOA
    _, answers, _, additional = ask(resolver, "cluster.local", NS)
    assert answers[0][3] == "ns.dns.cluster.local" and values(additional) == ["10.43.0.10"]
    _, answers, _, _ = ask(resolver, "dns-version.cluster.local", TXT)
    assert values(answers) == ["1.1.0"]


def test_names_outside_the_domain_are_forwarded(resolver):
    assert ask(resolver, "www.example.com") is None
    assert ask(resolver, "redis-master.default") is None  # a search-less short name is not ours either
    assert ask(resolver, "cluster.local.example.com") is None
    assert resolver.reply(codec.build_query("x.cluster.local")[:-4]) is not None  # unreadable: FORMERR


def test_changes_follow_informer_events(resolver):
    ix = resolver.index
    serial = ix.generation
    ix.delete_service({"metadata": {"name": "redis-master", "namespace": "default"}})
    assert ask(resolver, "redis-master.default.svc.cluster.local")[0] & 0xF == NXDOMAIN
    assert ask(resolver, "20.0.43.10.in-addr.arpa", PTR) is None
    ix.delete_slice({"metadata": {"name": "db-abc", "namespace": "prod"}})
    assert ask(resolver, "db.prod.svc.cluster.local")[0] & 0xF == NXDOMAIN
    assert ix.generation > serial


def test_udp_replies_over_512_bytes_are_truncated(resolver):
    ix = resolver.index
    ix.set_service(service("big", cluster_ip="None"))
    ix.set_slice(endpoint_slice("big-1", "big", [ep(f"10.42.3.{i}") for i in range(1, 61)]))
    udp = resolver.reply(codec.build_query("big.default.svc.cluster.local"), tcp=False)
    assert len(udp) <= 512
    flags, (answers, _, _) = codec.parse_reply(udp)
    assert flags & 0x0200 and 0 < len(answers) < 60
    flags, (answers, _, _) = codec.parse_reply(resolver.reply(codec.build_query("big.default.svc.cluster.local"),
                                                              tcp=True))
    assert not flags & 0x0200 and len(answers) == 60


def test_cached_replies_keep_their_id_and_follow_changes(resolver):
    name = "redis-master.default.svc.cluster.local"
    first = resolver.reply(codec.build_query(name, qid=1))
    second = resolver.reply(codec.build_query(name, qid=2))
    assert first[:2] == b"\x00\x01" and second[:2] == b"\x00\x02" and first[2:] == second[2:]
    resolver.index.set_service(service("redis-master", cluster_ip="10.43.0.99"))
    _, (answers, _, _) = codec.parse_reply(resolver.reply(codec.build_query(name, qid=3)))
    assert [v for *_, v in answers] == ["10.43.0.99"]


def test_edns0_raises_the_udp_limit_and_is_answered_with_opt(resolver):
    ix = resolver.index
    ix.set_service(service("big", cluster_ip="None"))
    ix.set_slice(endpoint_slice("big-1", "big", [ep(f"10.42.3.{i}") for i in range(1, 61)]))
    data = resolver.reply(codec.build_query("big.default.svc.cluster.local", edns_size=4096))
    assert 512 < len(data) <= codec.EDNS_SIZE
    flags, (answers, _, additional) = codec.parse_reply(data)
    assert not flags & 0x0200 and len(answers) == 60
    assert [(name, rtype) for name, rtype, _, _ in additional] == [("", codec.TYPE_OPT)]
    q = codec.parse_query(codec.build_query("x.cluster.local", edns_size=100))
    assert q.edns_size == 512  # a smaller offer means 512
