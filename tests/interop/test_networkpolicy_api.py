"""The NetworkPolicy kind through the real clients: kubectl (create, get with its columns,
short name, validation errors) and the `kubernetes` Python client (NetworkingV1Api CRUD)."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.interop

k8s = pytest.importorskip("kubernetes")
from kubernetes import client, config  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402


def policy(name: str, spec: dict) -> str:
    return json.dumps({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": name},
                       "spec": spec})


def test_kubectl_creates_lists_and_defaults(kube_server, namespace):
    r = kube_server.kubectl("apply", "-n", namespace, "-f", "-", input=policy("web", {
        "podSelector": {"matchLabels": {"app": "web"}}, "egress": [{"ports": [{"port": 53, "protocol": "UDP"}]}]}))
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().strip() == "networkpolicy.networking.k8s.io/web created"
    out = kube_server.kubectl("get", "netpol", "-n", namespace).stdout.decode().splitlines()
    assert out[0].split() == ["NAME", "POD-SELECTOR", "AGE"] and out[1].split()[:2] == ["web", "app=web"]
    got = json.loads(kube_server.kubectl("get", "networkpolicy", "web", "-n", namespace, "-o", "json").stdout)
    assert got["spec"]["policyTypes"] == ["Ingress", "Egress"]
    resources = kube_server.kubectl("api-resources", "--api-group=networking.k8s.io").stdout.decode()
    assert "networkpolicies" in resources and "netpol" in resources


def test_kubectl_shows_upstreams_validation_errors(kube_server, namespace):
    r = kube_server.kubectl("apply", "-n", namespace, "-f", "-", input=policy("bad", {
        "podSelector": {}, "ingress": [{"ports": [{"port": 90, "endPort": 80}],
                                        "from": [{"ipBlock": {"cidr": "10.0.0.0/16", "except": ["10.0.0.0/8"]}}]}],
        "policyTypes": ["Sideways"]}))
    err = r.stderr.decode()
    assert r.returncode == 1 and 'The NetworkPolicy "bad" is invalid' in err
    assert "spec.ingress[0].ports[0].endPort: Invalid value: 90: must be greater than or equal to `port`" in err
    assert 'spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "10.0.0.0/8": must be a strict subset of ' \
           "`cidr`" in err
    assert 'spec.policyTypes[0]: Unsupported value: "Sideways": supported values: "Egress", "Ingress"' in err
    assert kube_server.kubectl("get", "netpol", "bad", "-n", namespace).returncode == 1


def test_kubernetes_client_crud(kube_server, namespace):
    api_client = config.new_client_from_config(str(kube_server.kubeconfig))
    try:
        net = client.NetworkingV1Api(api_client)
        body = client.V1NetworkPolicy(metadata=client.V1ObjectMeta(name="db"), spec=client.V1NetworkPolicySpec(
            pod_selector=client.V1LabelSelector(match_labels={"app": "db"}),
            ingress=[client.V1NetworkPolicyIngressRule(
                _from=[client.V1NetworkPolicyPeer(namespace_selector=client.V1LabelSelector(
                    match_labels={"team": "a"}))],
                ports=[client.V1NetworkPolicyPort(port=5432)])]))
        made = net.create_namespaced_network_policy(namespace, body)
        assert made.spec.policy_types == ["Ingress"] and made.spec.ingress[0].ports[0].protocol == "TCP"
        assert [p.metadata.name for p in net.list_namespaced_network_policy(namespace).items] == ["db"]
        net.patch_namespaced_network_policy("db", namespace, {"spec": {"policyTypes": ["Ingress", "Egress"]}})
        assert net.read_namespaced_network_policy("db", namespace).spec.policy_types == ["Ingress", "Egress"]
        net.delete_namespaced_network_policy("db", namespace)
        with pytest.raises(ApiException) as e:
            net.read_namespaced_network_policy("db", namespace)
        assert e.value.status == 404
    finally:
        api_client.close()
