"""The proxy's partial syncs, UDP conntrack clean-up, ServiceLB status and hairpin mode (pure or
on a fake /sys)."""

from skiff.cluster.proxy import chains, conntrack, hairpin, model, restore, rules, servicelb
from tests.unit.proxy.test_rules import endpoint, eslice, service

C = chains.ProxyChains("px")
NODE = rules.NodeView("n1", "10.42.0.0/24")


def render(services, slices):
    return rules.render(C, NODE, model.build(services, slices))


def test_a_full_sync_writes_every_chain_and_deletes_stale_ones_found_on_the_host():
    want = render([service()], [eslice([endpoint("10.42.0.5")])])
    stale = ("nat", "px-SVC-OLDOLDOLD")
    write, gone = restore.diff(None, want, {stale, ("nat", "px-SERVICES")})
    assert write == want and gone == [stale]
    text = restore.restore_text(write, gone)
    nat = text[text.index("*nat"):]
    assert nat.index(":px-SVC-OLDOLDOLD - [0:0]") < nat.index("-X px-SVC-OLDOLDOLD") < nat.index("COMMIT")
    kinds = [ln.split()[0][:2] for ln in nat.splitlines()[1:-1]]
    assert kinds == sorted(kinds, key=[":p", "-A", "-X"].index)  # declarations, rules, deletions


def test_existing_chains_are_ours_only():
    saved = "*nat\n:PREROUTING ACCEPT [0:0]\n:px-SERVICES - [0:0]\n:pxy-SERVICES - [0:0]\n:sk-DNAT - [0:0]\nCOMMIT\n" \
            "*filter\n:px-SERVICES - [0:0]\nCOMMIT\n"
    assert restore.existing_chains(C, saved) == {("nat", "px-SERVICES"), ("filter", "px-SERVICES")}


def test_one_more_service_rewrites_only_its_chains_and_the_services_chain():
    base = [service(f"s{i}", clusterIP=f"10.43.0.{10 + i}") for i in range(20)]
    slices = [eslice([endpoint(f"10.42.0.{10 + i}")], name=f"s{i}") for i in range(20)]
    have = render(base, slices)
    more = render([*base, service("new", clusterIP="10.43.0.99")], [*slices, eslice([endpoint("10.42.0.99")],
                                                                                     name="new")])
    write, gone = restore.diff(have, more)
    assert gone == []
    assert set(write) == {("nat", "px-SERVICES"), ("nat", C.svc("default/new:http", "TCP")),
                          ("nat", C.sep("default/new:http", "TCP", "10.42.0.99:8080"))}
    # and back: its chains are deleted, the services chain rewritten
    write, gone = restore.diff(more, have)
    assert set(write) == {("nat", "px-SERVICES")}
    assert sorted(gone) == sorted([("nat", C.svc("default/new:http", "TCP")),
                                   ("nat", C.sep("default/new:http", "TCP", "10.42.0.99:8080"))])
    assert restore.restore_text(*restore.diff(have, have)) == ""


def test_an_endpoint_going_away_touches_its_service_chain_and_drops_its_sep():
    have = render([service()], [eslice([endpoint("10.42.0.5"), endpoint("10.42.0.6")])])
    want = render([service()], [eslice([endpoint("10.42.0.5")])])
    write, gone = restore.diff(have, want)
    assert set(write) == {("nat", C.svc("default/web:http", "TCP"))}
    assert gone == [("nat", C.sep("default/web:http", "TCP", "10.42.0.6:8080"))]


def udp_routed(ips, node_port=0):
    svc = service(type="NodePort" if node_port else "ClusterIP",
                  ports=[{"name": "dns", "port": 53, "protocol": "UDP", **({"nodePort": node_port} if node_port else {})}])
    return conntrack.snapshot(model.build([svc], [eslice([endpoint(ip) for ip in ips], port=53, port_name="dns",
                                                          protocol="UDP")]))


def test_udp_entries_to_a_removed_endpoint_are_cleared():
    assert conntrack.stale_entries(udp_routed(["10.42.0.5", "10.42.0.6"]), udp_routed(["10.42.0.5"])) == [
        ["-D", "-p", "udp", "--orig-dst", "10.43.0.20", "--dst-nat", "10.42.0.6"]]
    assert conntrack.stale_entries(udp_routed(["10.42.0.5", "10.42.0.6"], 30053), udp_routed(["10.42.0.5"], 30053)) \
        == [["-D", "-p", "udp", "--orig-dst", "10.43.0.20", "--dst-nat", "10.42.0.6"],
            ["-D", "-p", "udp", "--dport", "30053", "--dst-nat", "10.42.0.6"]]


def test_udp_entries_made_while_a_service_had_no_endpoint_are_cleared_when_one_comes():
    assert conntrack.stale_entries(udp_routed([]), udp_routed(["10.42.0.5"])) == [
        ["-D", "-p", "udp", "--orig-dst", "10.43.0.20"]]
    assert conntrack.stale_entries({}, udp_routed(["10.42.0.5"])) == [["-D", "-p", "udp", "--orig-dst", "10.43.0.20"]]


def test_tcp_and_unchanged_services_need_no_clean_up():
    tcp = conntrack.snapshot(model.build([service()], [eslice([endpoint("10.42.0.5")])]))
    assert conntrack.stale_entries(tcp, {}) == []
    assert conntrack.stale_entries(udp_routed(["10.42.0.5"]), udp_routed(["10.42.0.5"])) == []
    assert conntrack.stale_entries(udp_routed(["10.42.0.5"]), {}) == [
        ["-D", "-p", "udp", "--orig-dst", "10.43.0.20", "--dst-nat", "10.42.0.5"]]


def node(name, ip, ready=True):
    return {"metadata": {"name": name}, "status": {
        "addresses": [{"type": "InternalIP", "address": ip}],
        "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def test_load_balancer_status_lists_the_ready_nodes_and_one_node_writes_it():
    nodes = [node("b", "10.0.0.2"), node("a", "10.0.0.3", ready=False), node("c", "10.0.0.1")]
    assert servicelb.ingress_for(nodes) == [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}]
    assert servicelb.writer(nodes) == "b"  # the first Ready one by name
    lb = service("lb", type="LoadBalancer")
    done = service("done", type="LoadBalancer")
    done["status"] = {"loadBalancer": {"ingress": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}]}}
    was_lb = service("was", type="ClusterIP")
    was_lb["status"] = {"loadBalancer": {"ingress": [{"ip": "10.0.0.1"}]}}
    assert servicelb.status_patches([lb, done, was_lb, service()], nodes) == [
        ("/api/v1/namespaces/default/services/lb/status",
         {"status": {"loadBalancer": {"ingress": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}]}}}),
        ("/api/v1/namespaces/default/services/was/status", {"status": {"loadBalancer": {"ingress": None}}})]


def test_hairpin_mode_is_turned_on_for_every_port_of_the_bridge(tmp_path):
    brif = tmp_path / "br0" / "brif"
    for port, mode in (("veth1", "0"), ("veth2", "1")):
        (brif / port).mkdir(parents=True)
        (brif / port / "hairpin_mode").write_text(mode + "\n")
    assert hairpin.enable("br0", tmp_path) == 1
    assert (brif / "veth1" / "hairpin_mode").read_text() == "1"
    assert hairpin.enable("br0", tmp_path) == 0
    assert hairpin.enable("missing", tmp_path) == 0


def test_an_endpoint_gone_on_an_address_sharing_its_ip_with_another_is_still_cleared():
    svc = service(ports=[{"name": "dns", "port": 53, "protocol": "UDP"}])
    two = [eslice([endpoint("10.42.0.5")], port=p, port_name="dns", protocol="UDP") for p in (5301, 5302)]
    before = conntrack.snapshot(model.build([svc], two))
    after = conntrack.snapshot(model.build([svc], two[1:]))
    assert conntrack.stale_entries(before, after) == [
        ["-D", "-p", "udp", "--orig-dst", "10.43.0.20", "--dst-nat", "10.42.0.5"]]


def test_the_render_cache_gives_the_same_rules_and_renders_only_what_changed():
    cache = rules.RenderCache()
    services = [service(f"s{i}", clusterIP=f"10.43.0.{10 + i}") for i in range(5)]
    slices = [eslice([endpoint(f"10.42.0.{10 + i}")], name=f"s{i}") for i in range(5)]
    first = rules.render(C, NODE, model.build(services, slices), cache)
    assert first == render(services, slices)
    before = dict(cache.parts)
    slices[2] = eslice([endpoint("10.42.0.12"), endpoint("10.42.1.12", node="n2")], name="s2")
    second = rules.render(C, NODE, model.build(services[:4], slices), cache)
    assert second == render(services[:4], slices)
    reused = [k for k, part in cache.parts.items() if before.get(k) is part]
    assert len(reused) == 3 and len(cache.parts) == 4  # s0, s1, s3 reused; s2 rendered again; s4 gone
