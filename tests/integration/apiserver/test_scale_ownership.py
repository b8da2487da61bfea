"""The scale subresource's writes are owned "with subresource scale", and apply conflicts say so."""

from __future__ import annotations

import json

DEPLOY = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
          "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                   "template": {"metadata": {"labels": {"app": "web"}},
                                "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}}
APPLY = {"Content-Type": "application/apply-patch+yaml"}


def test_scale_owns_replicas_with_its_subresource(kube_server, namespace):
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments/web"
    status, body = kube_server.json("PATCH", path + "?fieldManager=alice", json.dumps(DEPLOY).encode(),
                                    headers=APPLY)
    assert status == 201, body
    status, body = kube_server.json("PATCH", path + "/scale?fieldManager=scaler",
                                    json.dumps({"spec": {"replicas": 3}}).encode(),
                                    headers={"Content-Type": "application/merge-patch+json"})
    assert status == 200 and body["kind"] == "Scale" and body["spec"]["replicas"] == 3, body
    status, live = kube_server.json("GET", path)
    entries = {e["manager"]: e for e in live["metadata"]["managedFields"]}
    assert entries["scaler"]["subresource"] == "scale"
    assert entries["scaler"]["operation"] == "Update" and entries["scaler"]["apiVersion"] == "apps/v1"
    assert "f:replicas" in entries["scaler"]["fieldsV1"]["f:spec"]
    assert "f:replicas" not in entries["alice"]["fieldsV1"]["f:spec"]

    changed = {**DEPLOY, "spec": {**DEPLOY["spec"], "replicas": 4}}
    status, body = kube_server.json("PATCH", path + "?fieldManager=alice", json.dumps(changed).encode(),
                                    headers=APPLY)
    assert status == 409, body
    assert body["message"] == ('Apply failed with 1 conflict: conflict with "scaler" with subresource "scale" '
                               "using apps/v1: .spec.replicas")
    status, body = kube_server.json("PATCH", path + "?fieldManager=alice&force=true", json.dumps(changed).encode(),
                                    headers=APPLY)
    assert status == 200 and body["spec"]["replicas"] == 4, body


def test_kubectl_scale_is_recorded_on_the_scale_subresource(kube_server, namespace):
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments/web"
    assert kube_server.json("POST", f"/apis/apps/v1/namespaces/{namespace}/deployments", DEPLOY)[0] == 201
    out = kube_server.kubectl("scale", "deployment", "web", "--replicas=3", "-n", namespace)
    assert out.returncode == 0, out.stderr
    status, live = kube_server.json("GET", path)
    scaled = [e for e in live["metadata"]["managedFields"] if e.get("subresource") == "scale"]
    assert len(scaled) == 1 and "f:replicas" in scaled[0]["fieldsV1"]["f:spec"], live["metadata"]["managedFields"]
    assert scaled[0]["manager"] == "kubectl"  # from its User-Agent: kubectl scale sends no fieldManager
