"""skiff kubectl wait, replace, autoscale and top against a real skiff server, beside kubectl."""

from __future__ import annotations

import json

import pytest

from tests.integration.kubectl.helpers import assert_same, skiff

pytestmark = pytest.mark.interop


def _ok(result):
    assert result.returncode == 0, result.stderr.decode()
    return result


def _configmap(value: str) -> str:
    return json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"k": value}})


DEPLOYMENT = json.dumps({
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
    "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "web"}},
             "template": {"metadata": {"labels": {"app": "web"}},
                          "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}})


def test_replace_and_force(kube_server, namespace):
    ns = ("-n", namespace)
    _ok(skiff(kube_server, *ns, "create", "-f", "-", input=_configmap("1")))
    assert _ok(skiff(kube_server, *ns, "replace", "-f", "-", input=_configmap("2"))).stdout == b"configmap/cfg replaced\n"
    status, cm = kube_server.json("GET", f"/api/v1/namespaces/{namespace}/configmaps/cfg")
    assert cm["data"] == {"k": "2"}
    uid = cm["metadata"]["uid"]
    ours = _ok(skiff(kube_server, *ns, "replace", "--force", "-f", "-", input=_configmap("3")))
    assert ours.stdout == b"configmap/cfg deleted\nconfigmap/cfg replaced\n"
    status, cm = kube_server.json("GET", f"/api/v1/namespaces/{namespace}/configmaps/cfg")
    assert cm["data"] == {"k": "3"} and cm["metadata"]["uid"] != uid
    assert_same(kube_server, *ns, "replace", "-f", "-", input=_configmap("3").replace('"cfg"', '"gone"'))
    assert_same(kube_server, *ns, "replace", "-f", "-", input=_configmap("4"))


def test_wait_condition_and_delete(kube_server, namespace):
    ns = ("-n", namespace)
    _ok(skiff(kube_server, *ns, "create", "-f", "-", input=DEPLOYMENT))
    # a deployment of zero replicas is Available once its controller has seen it
    assert _ok(skiff(kube_server, *ns, "wait", "--for=condition=Available", "deployment/web", "--timeout=30s")).stdout \
        == b"deployment.apps/web condition met\n"
    assert_same(kube_server, *ns, "wait", "--for=condition=Available", "deployment/web", "--timeout=10s")
    assert_same(kube_server, *ns, "wait", "--for=jsonpath={.spec.replicas}=0", "deployment/web")
    _ok(skiff(kube_server, *ns, "create", "-f", "-", input=_configmap("1")))
    failed = skiff(kube_server, *ns, "wait", "--for=delete", "configmap/cfg", "--timeout=1s")
    assert failed.returncode == 1
    assert failed.stderr == b"error: timed out waiting for the condition on configmaps/cfg\n"
    _ok(skiff(kube_server, *ns, "delete", "configmap", "cfg"))
    assert_same(kube_server, *ns, "wait", "--for=delete", "configmap/cfg", "--timeout=5s")


def test_autoscale_matches_kubectl(kube_server, namespace):
    ns = ("-n", namespace)
    _ok(skiff(kube_server, *ns, "create", "-f", "-", input=DEPLOYMENT))
    for output in ("yaml", "json"):
        assert_same(kube_server, *ns, "autoscale", "deployment", "web", "--min=2", "--max=5", "--cpu-percent=80",
                    "--dry-run=client", "-o", output, mask=False)
    assert_same(kube_server, *ns, "autoscale", "deployment/web", "--max=3", "--dry-run=client", "-o", "yaml", mask=False)
    assert_same(kube_server, *ns, "autoscale", "deployment/web", "--min=4", "--max=3")
    ours = _ok(skiff(kube_server, *ns, "autoscale", "deployment/web", "--max=4"))
    assert ours.stdout == b"horizontalpodautoscaler.autoscaling/web autoscaled\n"
    status, hpa = kube_server.json("GET", f"/apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers/web")
    assert status == 200 and hpa["spec"]["maxReplicas"] == 4


def test_autoscale_keeps_the_cpu_target(kube_server, namespace):
    """The v1-shaped object goes to autoscaling/v1: no unknown-field warning, the target kept."""
    ns = ("-n", namespace)
    _ok(skiff(kube_server, *ns, "create", "-f", "-", input=DEPLOYMENT))
    ours = _ok(skiff(kube_server, *ns, "autoscale", "deployment/web", "--name=cpu", "--max=4", "--cpu-percent=70"))
    assert ours.stderr == b""
    status, hpa = kube_server.json("GET", f"/apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers/cpu")
    assert status == 200
    assert hpa["spec"]["metrics"][0]["resource"]["target"] == {"type": "Utilization", "averageUtilization": 70}


def test_top_without_metrics_api(kube_server):
    status, groups = kube_server.json("GET", "/apis")
    if any(g["name"] == "metrics.k8s.io" for g in groups["groups"]):
        pytest.skip("this server serves the metrics API")
    assert_same(kube_server, "top", "pod")
    assert_same(kube_server, "top", "node")


def test_top_with_metrics_api(kube_server, namespace):
    status, groups = kube_server.json("GET", "/apis")
    if not any(g["name"] == "metrics.k8s.io" for g in groups["groups"]):
        pytest.skip("this server does not serve the metrics API")
    for args in (("top", "node"), ("top", "pod", "-n", namespace), ("top", "pod", "-A", "--no-headers"),
                 ("top", "bogus")):
        assert_same(kube_server, *args)
