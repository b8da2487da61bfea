"""NetworkPolicy defaulting, validation messages and its `kubectl get` row."""

from datetime import UTC, datetime

from skiff.cluster.api import defaults, printers, registry, validation


def netpol(spec):
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "np", "namespace": "default", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": spec}


RES = registry.find("networking.k8s.io", "v1", "networkpolicies")


def errors(spec):
    obj = netpol(spec)
    defaults.apply_defaults(RES, obj)
    return {(c["field"], c["message"]) for c in validation.validate(RES, obj)}


def test_registered_namespaced_with_short_name():
    assert RES is not None and RES.namespaced and RES.short_names == ("netpol",)
    assert RES.definition == "io.k8s.api.networking.v1.NetworkPolicy"
    assert "networking.k8s.io" in registry.groups()


def test_policy_types_default_to_ingress_and_egress_only_with_egress_rules():
    only_ingress = netpol({"ingress": [{}]})
    defaults.apply_defaults(RES, only_ingress)
    assert only_ingress["spec"]["policyTypes"] == ["Ingress"]
    assert only_ingress["spec"]["podSelector"] == {}
    both = netpol({"egress": [{"ports": [{"port": 53}]}]})
    defaults.apply_defaults(RES, both)
    assert both["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert both["spec"]["egress"][0]["ports"][0]["protocol"] == "TCP"
    given = netpol({"policyTypes": ["Egress"]})
    defaults.apply_defaults(RES, given)
    assert given["spec"]["policyTypes"] == ["Egress"]


def test_a_valid_policy_has_no_errors():
    assert errors({"podSelector": {"matchLabels": {"app": "web"}}, "ingress": [{
        "from": [{"podSelector": {"matchLabels": {"role": "client"}}, "namespaceSelector": {}},
                 {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}],
        "ports": [{"port": 80}, {"port": "http", "protocol": "UDP"}, {"port": 8000, "endPort": 8100}]}]}) == set()


def test_upstream_messages_for_common_mistakes():
    got = errors({"ingress": [{"ports": [{"port": 0}, {"port": 90, "endPort": 80}, {"port": "web", "endPort": 9},
                                         {"endPort": 5}, {"port": 1, "protocol": "ICMP"}],
                               "from": [{}, {"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}},
                                        {"ipBlock": {"cidr": "10.0.0.0/33"}},
                                        {"ipBlock": {"cidr": "10.0.0.0/16", "except": ["10.0.0.0/8"]}}]}],
                  "policyTypes": ["Ingress", "Sideways"]})
    assert got == {
        ("spec.ingress[0].ports[0].port", "Invalid value: 0: must be between 1 and 65535, inclusive"),
        ("spec.ingress[0].ports[1].endPort", "Invalid value: 90: must be greater than or equal to `port`"),
        ("spec.ingress[0].ports[2].endPort", "Invalid value: 9: may not be specified when `port` is non-numeric"),
        ("spec.ingress[0].ports[3].endPort", "Invalid value: 5: may not be specified when `port` is not specified"),
        ("spec.ingress[0].ports[4].protocol", 'Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"'),
        ("spec.ingress[0].from[0]", "Required value: must specify a peer"),
        ("spec.ingress[0].from[1]", "Forbidden: may not specify both ipBlock and another peer"),
        ("spec.ingress[0].from[2].ipBlock.cidr",
         'Invalid value: "10.0.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'),
        ("spec.ingress[0].from[3].ipBlock.except[0]", 'Invalid value: "10.0.0.0/8": must be a strict subset of `cidr`'),
        ("spec.policyTypes[1]", 'Unsupported value: "Sideways": supported values: "Egress", "Ingress"'),
    }


def test_get_columns_name_pod_selector_age():
    objs = [netpol({"podSelector": {"matchLabels": {"app": "web"}}}), netpol({"podSelector": {}})]
    table = printers.table(RES, objs, wide=False, now=datetime(2026, 1, 1, 0, 5, tzinfo=UTC))
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Pod-Selector", "Age"]
    assert [r["cells"] for r in table["rows"]] == [["np", "app=web", "5m"], ["np", "<none>", "5m"]]
