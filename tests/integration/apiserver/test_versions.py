"""One object, several served versions: HorizontalPodAutoscalers through autoscaling/v1 and v2,
Events through core/v1 and events.k8s.io/v1, converted on every read, write and watch."""

from __future__ import annotations

import json

V2 = "/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers"
V1 = "/apis/autoscaling/v1/namespaces/{ns}/horizontalpodautoscalers"


def _hpa_v2(name: str) -> dict:
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": name},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                     "minReplicas": 1, "maxReplicas": 5,
                     "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                         "type": "Utilization", "averageUtilization": 60}}}]}}


def test_hpa_written_as_v2_reads_as_v1(kube_server, namespace):
    status, body = kube_server.json("POST", V2.format(ns=namespace), _hpa_v2("web"))
    assert status == 201, body
    status, v1 = kube_server.json("GET", V1.format(ns=namespace) + "/web")
    assert status == 200, v1
    assert v1["apiVersion"] == "autoscaling/v1"
    assert v1["spec"]["targetCPUUtilizationPercentage"] == 60
    assert "metrics" not in v1["spec"]
    status, listed = kube_server.json("GET", V1.format(ns=namespace))
    assert listed["apiVersion"] == "autoscaling/v1"
    assert listed["items"][0]["spec"]["targetCPUUtilizationPercentage"] == 60


def test_hpa_patched_through_v1_keeps_its_v2_fields(kube_server, namespace):
    hpa = _hpa_v2("keep")
    hpa["spec"]["metrics"].append({"type": "Resource", "resource": {"name": "memory", "target": {
        "type": "AverageValue", "averageValue": "100Mi"}}})
    assert kube_server.json("POST", V2.format(ns=namespace), hpa)[0] == 201
    # the patch applies to the v1 form of the stored object, then goes back to v2
    status, patched = kube_server.json("PATCH", V1.format(ns=namespace) + "/keep",
                                       json.dumps({"spec": {"targetCPUUtilizationPercentage": 75}}).encode(),
                                       headers={"Content-Type": "application/merge-patch+json"})
    assert status == 200, patched
    assert patched["apiVersion"] == "autoscaling/v1" and patched["spec"]["targetCPUUtilizationPercentage"] == 75
    status, v2 = kube_server.json("GET", V2.format(ns=namespace) + "/keep")
    metrics = {m["resource"]["name"]: m["resource"]["target"] for m in v2["spec"]["metrics"]}
    assert metrics["cpu"]["averageUtilization"] == 75
    assert metrics["memory"]["averageValue"] == "100Mi"
    assert "autoscaling.alpha.kubernetes.io/metrics" not in (v2["metadata"].get("annotations") or {})


def test_hpa_written_as_v1_reads_as_v2(kube_server, namespace):
    body = {"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "old"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                     "maxReplicas": 3, "targetCPUUtilizationPercentage": 50}}
    status, created = kube_server.json("POST", V1.format(ns=namespace), body)
    assert status == 201, created
    assert created["apiVersion"] == "autoscaling/v1" and created["spec"]["targetCPUUtilizationPercentage"] == 50
    status, v2 = kube_server.json("GET", V2.format(ns=namespace) + "/old")
    assert v2["apiVersion"] == "autoscaling/v2"
    assert v2["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 50
    out = kube_server.kubectl("get", "horizontalpodautoscalers.v1.autoscaling", "old", "-n", namespace, "-o", "json")
    assert json.loads(out.stdout)["spec"]["targetCPUUtilizationPercentage"] == 50


def test_events_share_storage_across_groups(kube_server, namespace):
    event = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e1"},
             "involvedObject": {"kind": "Pod", "name": "p", "namespace": namespace},
             "reason": "Started", "message": "started it", "type": "Normal",
             "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:00:00Z", "count": 1}
    status, body = kube_server.json("POST", f"/api/v1/namespaces/{namespace}/events", event)
    assert status == 201, body
    status, new = kube_server.json("GET", f"/apis/events.k8s.io/v1/namespaces/{namespace}/events/e1")
    assert status == 200, new
    assert new["apiVersion"] == "events.k8s.io/v1"
    assert new["regarding"]["name"] == "p" and new["note"] == "started it"
    assert "involvedObject" not in new


def test_watch_through_v1_sends_v1_objects(kube_server, namespace):
    assert kube_server.json("POST", V2.format(ns=namespace), _hpa_v2("watched"))[0] == 201
    status, _, raw = kube_server.request("GET", V1.format(ns=namespace) + "?watch=1&timeoutSeconds=1")
    assert status == 200
    events = [json.loads(line) for line in raw.splitlines() if line.strip()]
    # the HPA controller may write the new object's status meanwhile: a MODIFIED, also in v1
    assert events and events[0]["type"] == "ADDED" and {e["type"] for e in events} <= {"ADDED", "MODIFIED"}
    assert all(e["object"]["apiVersion"] == "autoscaling/v1" for e in events)
    obj = events[0]["object"]
    assert obj["apiVersion"] == "autoscaling/v1" and obj["spec"]["targetCPUUtilizationPercentage"] == 60
