"""Conversion between served versions (autoscaling v1/v2, core and events.k8s.io events)."""

from skiff.cluster.api import registry
from skiff.cluster.api.conversion import convert

V1 = registry.find("autoscaling", "v1", "horizontalpodautoscalers")
V2 = registry.find("autoscaling", "v2", "horizontalpodautoscalers")


def hpa_v2():
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "web"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                     "minReplicas": 1, "maxReplicas": 5,
                     "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                         "type": "Utilization", "averageUtilization": 50}}},
                                 {"type": "Resource", "resource": {"name": "memory", "target": {
                                     "type": "AverageValue", "averageValue": "100Mi"}}}]},
            "status": {"currentReplicas": 2, "desiredReplicas": 2, "currentMetrics": [
                {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 30}}}]}}


def test_v2_to_v1_keeps_cpu_target_and_the_rest_in_annotations():
    v1 = convert(hpa_v2(), V1)
    assert v1["apiVersion"] == "autoscaling/v1"
    assert v1["spec"]["targetCPUUtilizationPercentage"] == 50
    assert "metrics" not in v1["spec"]
    assert "autoscaling.alpha.kubernetes.io/metrics" in v1["metadata"]["annotations"]
    assert v1["status"]["currentCPUUtilizationPercentage"] == 30


def test_round_trip_is_lossless():
    original = hpa_v2()
    assert convert(convert(original, V1), V2) == original


def test_v1_to_v2():
    v1 = {"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "web"},
          "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 3,
                   "targetCPUUtilizationPercentage": 80}}
    v2 = convert(v1, V2)
    assert v2["spec"]["metrics"] == [{"type": "Resource", "resource": {
        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]
    assert "annotations" not in v2["metadata"]
    assert convert(v2, V2) is v2


def test_events_between_groups():
    core = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e"}, "involvedObject": {"name": "p"},
            "message": "hi", "reason": "Started", "count": 2, "type": "Normal"}
    new = convert(core, registry.find("events.k8s.io", "v1", "events"))
    assert new["regarding"] == {"name": "p"} and new["note"] == "hi" and new["deprecatedCount"] == 2
    assert convert(new, registry.find("", "v1", "events")) == core
