"""The proxy's renderer: Services + EndpointSlices → kube-proxy-shaped iptables-restore text."""

import pytest

from skiff.cluster.proxy import chains, model, restore, rules
from skiff.common.errors import InvalidArgument

C = chains.ProxyChains("px")
NODE = rules.NodeView("n1", "10.42.0.0/24")


def service(name="web", ports=None, **spec):
    spec.setdefault("clusterIP", "10.43.0.20")
    return {"metadata": {"name": name, "namespace": "default"},
            "spec": {"ports": ports or [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}],
                     **spec}}


def endpoint(ip, node="n1", ready=True, serving=None, terminating=False):
    cond = {"ready": ready, "terminating": terminating}
    if serving is not None:
        cond["serving"] = serving
    return {"addresses": [ip], "conditions": cond, "nodeName": node}


def eslice(endpoints, port=8080, name="web", port_name="http", protocol="TCP"):
    return {"metadata": {"namespace": "default", "labels": {"kubernetes.io/service-name": name}},
            "addressType": "IPv4", "ports": [{"name": port_name, "port": port, "protocol": protocol}],
            "endpoints": endpoints}


def text(services, slices, node=NODE):
    return restore.restore_text(rules.render(C, node, model.build(services, slices)), [])


def lines(services, slices, node=NODE):
    return [line for line in text(services, slices, node).splitlines() if line.startswith("-A ")]


GOLDEN_CLUSTER_IP = """\
*filter
:px-SERVICES - [0:0]
:px-EXTERNAL - [0:0]
COMMIT
*nat
:px-SERVICES - [0:0]
:px-NODEPORTS - [0:0]
:px-MARK-MASQ - [0:0]
:px-POSTROUTING - [0:0]
:px-SVC-TL6HGMALSKADNKEV - [0:0]
:px-SEP-MM6EZNZ7QTBOZW27 - [0:0]
:px-SEP-EWH65ZSMXYE7WTAL - [0:0]
-A px-SERVICES -m comment --comment "default/web:http cluster IP" -d 10.43.0.20/32 -p tcp -m tcp --dport 80 \
-j px-SVC-TL6HGMALSKADNKEV
-A px-SERVICES -m comment --comment "kubernetes service nodeports" -m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 \
-j px-NODEPORTS
-A px-MARK-MASQ -j MARK --or-mark 0x4000
-A px-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A px-POSTROUTING -j MARK --xor-mark 0x4000
-A px-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
-A px-SVC-TL6HGMALSKADNKEV -m comment --comment "default/web:http cluster IP" -d 10.43.0.20/32 -p tcp -m tcp \
--dport 80 ! -s 10.42.0.0/24 -j px-MARK-MASQ
-A px-SVC-TL6HGMALSKADNKEV -m comment --comment "default/web:http -> 10.42.0.5:8080" -m statistic --mode random \
--probability 0.5000000000 -j px-SEP-MM6EZNZ7QTBOZW27
-A px-SVC-TL6HGMALSKADNKEV -m comment --comment "default/web:http -> 10.42.1.5:8080" -j px-SEP-EWH65ZSMXYE7WTAL
-A px-SEP-MM6EZNZ7QTBOZW27 -m comment --comment default/web:http -s 10.42.0.0/24 -j px-MARK-MASQ
-A px-SEP-MM6EZNZ7QTBOZW27 -m comment --comment default/web:http -p tcp -m tcp -j DNAT --to-destination 10.42.0.5:8080
-A px-SEP-EWH65ZSMXYE7WTAL -m comment --comment default/web:http -s 10.42.1.5/32 -j px-MARK-MASQ
-A px-SEP-EWH65ZSMXYE7WTAL -m comment --comment default/web:http -p tcp -m tcp -j DNAT --to-destination 10.42.1.5:8080
COMMIT
""".replace("\\\n", "")


def test_cluster_ip_with_a_local_and_a_remote_endpoint_golden():
    assert text([service()], [eslice([endpoint("10.42.0.5"), endpoint("10.42.1.5", node="n2")])]) == \
        GOLDEN_CLUSTER_IP


@pytest.mark.parametrize("n,expected", [(1, []), (2, ["0.5000000000"]), (3, ["0.3333333333", "0.5000000000"]),
                                        (4, ["0.2500000000", "0.3333333333", "0.5000000000"])])
def test_random_choice_probabilities_give_each_endpoint_one_nth(n, expected):
    eps = [endpoint(f"10.42.0.{10 + i}") for i in range(n)]
    svc_lines = [ln for ln in lines([service()], [eslice(eps)]) if ln.startswith("-A px-SVC-") and "-> " in ln]
    assert len(svc_lines) == n
    probs = [ln.split("--probability ")[1].split()[0] for ln in svc_lines if "--probability" in ln]
    assert probs == expected
    assert "statistic" not in svc_lines[-1]  # the last endpoint takes whatever is left
    share, left = [], 1.0
    for p in [float(x) for x in probs] + [1.0]:  # each endpoint's share of all connections is 1/n
        share.append(left * p)
        left *= 1 - p
    assert share == pytest.approx([1 / n] * n)


def test_a_service_without_endpoints_is_rejected_like_kube_proxy():
    out = lines([service(type="NodePort", ports=[{"port": 53, "protocol": "UDP", "nodePort": 30053}])],
                [eslice([], port_name="")])
    assert '-A px-SERVICES -m comment --comment "default/web has no endpoints" -d 10.43.0.20/32 -p udp -m udp ' \
           '--dport 53 -j REJECT --reject-with icmp-port-unreachable' in out
    assert '-A px-EXTERNAL -m comment --comment "default/web has no endpoints" -m addrtype --dst-type LOCAL ' \
           '! -d 127.0.0.0/8 -p udp -m udp --dport 30053 -j REJECT --reject-with icmp-port-unreachable' in out
    assert not any("SVC-" in ln or "DNAT" in ln for ln in out)


def test_not_ready_endpoints_are_left_out_and_terminating_serving_ones_are_the_fallback():
    eps = [endpoint("10.42.0.5", ready=False, serving=False), endpoint("10.42.0.6")]
    assert [ln for ln in lines([service()], [eslice(eps)]) if "DNAT" in ln][0].endswith("10.42.0.6:8080")
    draining = [endpoint("10.42.0.5", ready=False, serving=True, terminating=True),
                endpoint("10.42.0.7", ready=False, serving=False, terminating=True)]
    dnat = [ln for ln in lines([service()], [eslice(draining)]) if "DNAT" in ln]
    assert len(dnat) == 1 and dnat[0].endswith("10.42.0.5:8080")


def test_node_port_golden_lines():
    out = lines([service(type="NodePort", ports=[{"port": 80, "protocol": "TCP", "nodePort": 30001}])],
                [eslice([endpoint("10.42.0.5")], port=80, port_name="")])
    ext, svc = C.ext("default/web", "TCP"), C.svc("default/web", "TCP")
    assert f"-A px-NODEPORTS -m comment --comment default/web -p tcp -m tcp --dport 30001 -j {ext}" in out
    assert [ln for ln in out if ln.startswith(f"-A {ext} ")] == [
        f'-A {ext} -m comment --comment "masquerade traffic for default/web external destinations" -j px-MARK-MASQ',
        f"-A {ext} -j {svc}"]
    assert out.index(f"-A px-NODEPORTS -m comment --comment default/web -p tcp -m tcp --dport 30001 -j {ext}") > 0
    assert [ln for ln in out if ln.startswith("-A px-SERVICES")][-1].endswith("-j px-NODEPORTS")


def test_external_traffic_policy_local_keeps_external_traffic_on_local_endpoints():
    svc = service(type="NodePort", externalTrafficPolicy="Local",
                  ports=[{"port": 80, "protocol": "TCP", "nodePort": 30002}])
    sl = eslice([endpoint("10.42.0.5"), endpoint("10.42.1.5", node="n2")], port=80, port_name="")
    out = lines([svc], [sl])
    ext, svc_c, svl = (C.ext("default/web", "TCP"), C.svc("default/web", "TCP"), C.svl("default/web", "TCP"))
    assert [ln for ln in out if ln.startswith(f"-A {ext} ")] == [
        f'-A {ext} -m comment --comment "pod traffic for default/web external destinations" -s 10.42.0.0/24 '
        f'-j {svc_c}',
        f'-A {ext} -m comment --comment "masquerade LOCAL traffic for default/web external destinations" '
        f'-m addrtype --src-type LOCAL -j px-MARK-MASQ',
        f'-A {ext} -m comment --comment "route LOCAL traffic for default/web external destinations" '
        f'-m addrtype --src-type LOCAL -j {svc_c}',
        f"-A {ext} -j {svl}"]
    assert [ln.split("-> ")[1].split('"')[0] for ln in out if ln.startswith(f"-A {svl} ")] == ["10.42.0.5:80"]
    assert len([ln for ln in out if ln.startswith(f"-A {svc_c} ") and "-> " in ln]) == 2  # cluster IP: both
    # on a node without a local endpoint, external traffic is dropped (the cluster IP still works)
    other = lines([svc], [sl], rules.NodeView("n3", "10.42.3.0/24"))
    assert '-A px-EXTERNAL -m comment --comment "default/web has no local endpoints" -m addrtype ' \
           '--dst-type LOCAL ! -d 127.0.0.0/8 -p tcp -m tcp --dport 30002 -j DROP' in other
    # ... after its EXT chain, which keeps only the short-circuits for pods and the node itself
    assert any(ln.startswith("-A px-NODEPORTS") and ln.endswith(f"-j {ext}") for ln in other)
    assert [ln.rsplit(" ", 1)[1] for ln in other if ln.startswith(f"-A {ext} ")] == [svc_c, "px-MARK-MASQ", svc_c]
    assert not any(ln.startswith(f"-A {svl} ") for ln in other)
    assert any(ln.startswith("-A px-SERVICES ") and ln.endswith(f"-j {svc_c}") for ln in other)


def test_internal_traffic_policy_local():
    svc = service(internalTrafficPolicy="Local")
    sl = eslice([endpoint("10.42.0.5"), endpoint("10.42.1.5", node="n2")])
    svl = C.svl("default/web:http", "TCP")
    out = lines([svc], [sl])
    assert any(ln.startswith("-A px-SERVICES") and ln.endswith(f"-j {svl}") for ln in out)
    assert [ln.split("-> ")[1].split('"')[0] for ln in out if ln.startswith(f"-A {svl} ") and "-> " in ln] == \
        ["10.42.0.5:8080"]
    elsewhere = lines([svc], [sl], rules.NodeView("n3", "10.42.3.0/24"))
    assert '-A px-SERVICES -m comment --comment "default/web:http has no local endpoints" -d 10.43.0.20/32 ' \
           '-p tcp -m tcp --dport 80 -j DROP' in elsewhere


def test_client_ip_affinity_uses_recent_with_the_timeout():
    svc = service(sessionAffinity="ClientIP", sessionAffinityConfig={"clientIP": {"timeoutSeconds": 60}})
    out = lines([svc], [eslice([endpoint("10.42.0.5"), endpoint("10.42.0.6")])])
    svc_c = C.svc("default/web:http", "TCP")
    checks = [ln for ln in out if ln.startswith(f"-A {svc_c} ") and "--rcheck" in ln]
    seps = [C.sep("default/web:http", "TCP", a) for a in ("10.42.0.5:8080", "10.42.0.6:8080")]
    assert checks == [f'-A {svc_c} -m comment --comment "default/web:http -> {a}" -m recent --name {s} --rcheck '
                      f'--seconds 60 --reap -j {s}' for a, s in zip(("10.42.0.5:8080", "10.42.0.6:8080"), seps,
                                                                  strict=True)]
    first_pick = next(i for i, ln in enumerate(out) if ln.startswith(f"-A {svc_c} ") and "statistic" in ln)
    assert out.index(checks[-1]) < first_pick  # a known client is sent back before any random choice
    assert f"-A {seps[0]} -m comment --comment default/web:http -m recent --name {seps[0]} --set -p tcp -m tcp " \
           f"-j DNAT --to-destination 10.42.0.5:8080" in out
    default = lines([service(sessionAffinity="ClientIP")], [eslice([endpoint("10.42.0.5")])])
    assert any("--seconds 10800" in ln for ln in default)


def test_external_ips_and_load_balancer_ips_lead_to_the_external_chain():
    svc = service(type="LoadBalancer", externalIPs=["192.0.2.7"],
                  ports=[{"port": 80, "protocol": "TCP", "nodePort": 30003}])
    svc["status"] = {"loadBalancer": {"ingress": [{"ip": "198.51.100.1"}]}}
    out = lines([svc], [eslice([endpoint("10.42.0.5")], port=80, port_name="")])
    ext = C.ext("default/web", "TCP")
    assert f'-A px-SERVICES -m comment --comment "default/web external IP" -d 192.0.2.7/32 -p tcp -m tcp ' \
           f'--dport 80 -j {ext}' in out
    assert f'-A px-SERVICES -m comment --comment "default/web loadbalancer IP" -d 198.51.100.1/32 -p tcp -m tcp ' \
           f'--dport 80 -j {ext}' in out
    assert any(ln.startswith("-A px-NODEPORTS") and "--dport 30003" in ln for ln in out)


@pytest.mark.parametrize("protocol", ["UDP", "SCTP"])
def test_udp_and_sctp_match_their_protocol(protocol):
    svc = service(ports=[{"name": "p", "port": 53, "protocol": protocol}])
    out = lines([svc], [eslice([endpoint("10.42.0.5")], port=5353, port_name="p", protocol=protocol)])
    p = protocol.lower()
    assert any(f"-p {p} -m {p} --dport 53 -j px-SVC-" in ln for ln in out)
    assert any(ln.endswith(f"-p {p} -m {p} -j DNAT --to-destination 10.42.0.5:5353") for ln in out)
    # a TCP slice port of the same name is another service port's
    assert "DNAT" not in text([svc], [eslice([endpoint("10.42.0.5")], port_name="p", protocol="TCP")])


def test_named_target_port_resolves_per_endpoint_slice():
    slices = [eslice([endpoint("10.42.0.5")], port=8080), eslice([endpoint("10.42.0.6")], port=9090)]
    dnat = sorted(ln.rsplit(" ", 1)[1] for ln in lines([service()], slices) if "DNAT" in ln)
    assert dnat == ["10.42.0.5:8080", "10.42.0.6:9090"]


def test_headless_and_external_name_services_get_no_rules():
    headless = service(clusterIP="None")
    external = {"metadata": {"name": "ext", "namespace": "default"},
                "spec": {"type": "ExternalName", "externalName": "example.com"}}
    out = lines([headless, external], [eslice([endpoint("10.42.0.5")]), eslice([endpoint("10.42.0.6")], name="ext")])
    assert not any("default/" in ln for ln in out)


def test_with_br_netfilter_only_a_pod_reaching_itself_is_masqueraded():
    node = rules.NodeView("n1", "10.42.0.0/24", bridge_netfilter=True)
    out = lines([service()], [eslice([endpoint("10.42.0.5")])], node)
    sep = C.sep("default/web:http", "TCP", "10.42.0.5:8080")
    assert [ln for ln in out if ln.startswith(f"-A {sep} ") and "MARK-MASQ" in ln] == [
        f"-A {sep} -m comment --comment default/web:http -s 10.42.0.5/32 -j px-MARK-MASQ"]


def test_a_pod_reaching_itself_is_masqueraded():
    out = lines([service()], [eslice([endpoint("10.42.1.5", node="n2")])], rules.NodeView("n1", ""))
    sep = C.sep("default/web:http", "TCP", "10.42.1.5:8080")
    assert f"-A {sep} -m comment --comment default/web:http -s 10.42.1.5/32 -j px-MARK-MASQ" in out


def test_chain_names_are_stable_hashes_that_fit_iptables():
    assert C.svc("default/web:http", "TCP") == "px-SVC-TL6HGMALSKADNKEV"
    assert C.svc("default/web:http", "UDP") != C.svc("default/web:http", "TCP")
    assert C.sep("default/web:http", "TCP", "10.42.0.5:8080") != C.sep("default/web:http", "TCP", "10.42.0.6:8080")
    long = chains.ProxyChains(chains.proxy_prefix("sa12345678"))
    assert len(long.sep("ns/a-very-long-service-name:port", "TCP", "10.42.0.5:80")) <= chains.MAX_CHAIN
    assert long.svc("default/web:http", "TCP").startswith("sa12345678-K-SVC-TL6HGMALS")
    assert all(len(name) <= chains.MAX_CHAIN for _, name in long.all())
    with pytest.raises(InvalidArgument):
        chains.ProxyChains("a-prefix-much-too-long-for")
    with pytest.raises(InvalidArgument):  # the hash would fit, POSTROUTING would not
        chains.ProxyChains("seventeen-chars-K")


def test_owned_chains_are_by_prefix_only():
    assert C.owns("px-SVC-ABC") and not C.owns("pxy-SVC-ABC") and not C.owns("px")
