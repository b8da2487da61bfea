"""The pure NetworkPolicy model: which pods of a node are isolated and what each may receive/send."""

from skiff.cluster.netpol.model import Allow, Port, build


def pod(name, ip, labels=None, ns="default", node="n1", ports=()):
    return {"metadata": {"name": name, "namespace": ns, "labels": labels or {}},
            "spec": {"nodeName": node, "containers": [{"name": "c", "ports": [
                {"name": n, "containerPort": p, "protocol": proto} for n, p, proto in ports]}]},
            "status": {"podIP": ip, "phase": "Running"}}


def policy(spec, ns="default", name="p"):
    return {"metadata": {"name": name, "namespace": ns}, "spec": spec}


NAMESPACES = [{"metadata": {"name": "default"}}, {"metadata": {"name": "other", "labels": {"team": "a"}}}]
WEB = pod("web", "10.0.0.2", {"app": "web"}, ports=[("http", 80, "TCP")])
CLIENT = pod("client", "10.0.0.3", {"role": "client"})
STRANGER = pod("stranger", "10.0.1.4", {"role": "client"}, ns="other", node="n2")


def firewalls(policies, pods=(WEB, CLIENT, STRANGER)):
    return {fw.key: fw for fw in build(policies, list(pods), NAMESPACES, "n1")}


def test_no_policy_isolates_nothing():
    assert firewalls([]) == {}


def test_default_deny_ingress_isolates_every_pod_of_the_namespace_on_this_node_only():
    got = firewalls([policy({"podSelector": {}, "policyTypes": ["Ingress"]})])
    assert set(got) == {"default/web", "default/client"}  # the other namespace's pod is not selected
    assert got["default/web"].ingress == () and got["default/web"].egress is None


def test_pod_selector_peers_are_in_the_policys_namespace():
    got = firewalls([policy({"podSelector": {"matchLabels": {"app": "web"}},
                             "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "client"}}}]}]})])
    assert set(got) == {"default/web"}
    assert got["default/web"].ingress == (Allow((("10.0.0.3/32", ()),)),)


def test_namespace_selector_alone_and_combined_with_a_pod_selector():
    ns_only = firewalls([policy({"podSelector": {}, "ingress": [{"from": [
        {"namespaceSelector": {"matchLabels": {"team": "a"}}}]}]})])
    assert ns_only["default/web"].ingress == (Allow((("10.0.1.4/32", ()),)),)
    both = firewalls([policy({"podSelector": {}, "ingress": [{"from": [
        {"namespaceSelector": {"matchLabels": {"team": "a"}}, "podSelector": {"matchLabels": {"role": "nobody"}}}]}]})])
    assert both["default/web"].ingress == ()
    by_name = firewalls([policy({"podSelector": {}, "ingress": [{"from": [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "default"}}}]}]})])
    assert by_name["default/web"].ingress == (Allow((("10.0.0.2/32", ()), ("10.0.0.3/32", ()))),)


def test_ip_block_ports_named_ports_and_end_port():
    got = firewalls([policy({"podSelector": {"matchLabels": {"app": "web"}}, "ingress": [{
        "from": [{"ipBlock": {"cidr": "192.168.0.0/16", "except": ["192.168.1.0/24"]}}],
        "ports": [{"port": "http", "protocol": "TCP"}, {"port": "nope"}, {"port": 8000, "endPort": 8080, "protocol": "UDP"},
                  {"protocol": "SCTP"}]}]})])
    block = (("192.168.0.0/16", ("192.168.1.0/24",)),)
    assert got["default/web"].ingress == (Allow(block, Port("TCP", 80)), Allow(block, Port("UDP", 8000, 8080)),
                                          Allow(block, Port("SCTP")))


def test_empty_rule_allows_everything_and_rules_of_several_policies_add_up():
    got = firewalls([policy({"podSelector": {}, "ingress": [{}]}, name="a"),
                     policy({"podSelector": {}, "policyTypes": ["Ingress"]}, name="b")])
    assert got["default/web"].ingress == (Allow(),)


def test_egress_named_ports_resolve_on_the_peer_and_default_types_add_egress():
    got = firewalls([policy({"podSelector": {"matchLabels": {"role": "client"}}, "egress": [
        {"to": [{"podSelector": {"matchLabels": {"app": "web"}}}], "ports": [{"port": "http"}]},
        {"ports": [{"port": 53, "protocol": "UDP"}]}]})])
    fw = got["default/client"]
    assert fw.ingress == () and fw.egress == (Allow((("10.0.0.2/32", ()),), Port("TCP", 80)), Allow(None, Port("UDP", 53)))


def test_pods_without_an_address_or_finished_or_on_the_host_network_are_neither_targets_nor_peers():
    done = pod("done", "10.0.0.9", {"role": "client"})
    done["status"]["phase"] = "Succeeded"
    host = pod("host", "10.9.9.9", {"role": "client"})
    host["spec"]["hostNetwork"] = True
    pending = pod("pending", "", {"role": "client"})
    got = firewalls([policy({"podSelector": {}, "ingress": [{"from": [{"podSelector": {"matchLabels": {
        "role": "client"}}}]}]})], pods=(WEB, done, host, pending))
    assert set(got) == {"default/web"} and got["default/web"].ingress == ()


def test_egress_named_ports_group_peer_pods_by_their_own_number():
    alt = pod("alt", "10.0.0.7", {"app": "web"}, ports=[("http", 8080, "TCP")])
    got = firewalls([policy({"podSelector": {"matchLabels": {"role": "client"}}, "policyTypes": ["Egress"], "egress": [
        {"to": [{"podSelector": {"matchLabels": {"app": "web"}}}], "ports": [{"port": "http"}]}]})],
        pods=(WEB, CLIENT, alt))
    assert set(got["default/client"].egress) == {Allow((("10.0.0.2/32", ()),), Port("TCP", 80)),
                                                 Allow((("10.0.0.7/32", ()),), Port("TCP", 8080))}
