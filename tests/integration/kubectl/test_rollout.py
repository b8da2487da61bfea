"""skiff kubectl rollout against a skiff server whose deployment controller keeps the ReplicaSets."""

from __future__ import annotations

import json
import time

import pytest

from tests.integration.kubectl.helpers import assert_same, skiff

pytestmark = pytest.mark.interop


def _deployment(name: str) -> str:
    # no replicas: with no node agent, pods never become available, and a rollout of zero is done
    return json.dumps({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [{"name": "c", "image": "busybox:1"}]}}}})


def _ok(result):
    assert result.returncode == 0, result.stderr.decode()
    return result


def _wait_revision(server, ns, name, revision):
    path = f"/apis/apps/v1/namespaces/{ns}/deployments/{name}"
    for _ in range(300):  # 60 s: the controller under load
        status, dep = server.json("GET", path)
        annotations = dep["metadata"].get("annotations") or {}
        if annotations.get("deployment.kubernetes.io/revision") == str(revision) \
                and dep.get("status", {}).get("observedGeneration") == dep["metadata"]["generation"]:
            return dep
        time.sleep(0.2)
    raise AssertionError(f"{name} never reached revision {revision}: {dep}")


def test_history_undo_status_match_kubectl(kube_server, namespace):
    ns = ("-n", namespace)
    _ok(skiff(kube_server, *ns, "create", "-f", "-", input=_deployment("web")))
    _wait_revision(kube_server, namespace, "web", 1)
    _ok(skiff(kube_server, *ns, "set", "image", "deploy/web", "c=busybox:2"))
    _wait_revision(kube_server, namespace, "web", 2)
    assert_same(kube_server, *ns, "rollout", "history", "deployment/web")
    assert_same(kube_server, *ns, "rollout", "status", "deployment/web")
    assert_same(kube_server, *ns, "rollout", "status", "deployment", "web", "--watch=false")
    ours = _ok(skiff(kube_server, *ns, "rollout", "undo", "deployment/web"))
    assert ours.stdout.decode() == "deployment.apps/web rolled back\n"
    dep = _wait_revision(kube_server, namespace, "web", 3)
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:1"
    assert_same(kube_server, *ns, "rollout", "history", "deployment/web")
    assert_same(kube_server, *ns, "rollout", "undo", "deployment/web", "--to-revision=9")
    assert_same(kube_server, *ns, "rollout", "status", "deployment/missing")


def test_pause_resume_restart(kube_server, namespace):
    ns = ("-n", namespace)
    _ok(skiff(kube_server, *ns, "create", "-f", "-", input=_deployment("app")))
    assert _ok(skiff(kube_server, *ns, "rollout", "pause", "deploy/app")).stdout == b"deployment.apps/app paused\n"
    assert_same(kube_server, *ns, "rollout", "pause", "deploy/app")
    assert_same(kube_server, *ns, "rollout", "restart", "deploy/app")
    assert _ok(skiff(kube_server, *ns, "rollout", "resume", "deploy/app")).stdout == b"deployment.apps/app resumed\n"
    assert_same(kube_server, *ns, "rollout", "resume", "deploy/app")
    ours = _ok(skiff(kube_server, *ns, "rollout", "restart", "deployment", "app"))
    assert ours.stdout == b"deployment.apps/app restarted\n"
    status, dep = kube_server.json("GET", f"/apis/apps/v1/namespaces/{namespace}/deployments/app")
    assert "kubectl.kubernetes.io/restartedAt" in dep["spec"]["template"]["metadata"]["annotations"]
    assert_same(kube_server, *ns, "rollout", "bogus", "deploy/app")


def test_status_of_daemonset_and_statefulset(kube_server, namespace):
    ns = ("-n", namespace)
    template = {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    objects = [
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "ds"},
         "spec": {"selector": {"matchLabels": {"app": "x"}}, "template": template}},
        {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "sts"},
         "spec": {"replicas": 0, "serviceName": "sts", "selector": {"matchLabels": {"app": "x"}},
                  "template": template}},
    ]
    for obj in objects:
        _ok(skiff(kube_server, *ns, "create", "-f", "-", input=json.dumps(obj)))
    for kind in ("daemonset", "statefulset"):
        name = "ds" if kind == "daemonset" else "sts"
        path = f"/apis/apps/v1/namespaces/{namespace}/{kind}s/{name}"
        for _ in range(300):  # until its controller has observed it (60 s)
            status, obj = kube_server.json("GET", path)
            if obj.get("status", {}).get("observedGeneration") == obj["metadata"]["generation"]:
                break
            time.sleep(0.2)
        assert_same(kube_server, *ns, "rollout", "status", f"{kind}/{name}", "--watch=false")
