"""metrics.k8s.io conversions from the kubelet Summary API (pure)."""

from __future__ import annotations

from skiff.cluster.apiserver import metricsapi

NOW = "2026-01-01T00:00:00Z"


def test_node_and_pod_metrics_from_a_summary():
    summary = {"node": {"nodeName": "n1", "cpu": {"time": "2026-01-01T00:00:05Z", "usageNanoCores": 250000000},
                        "memory": {"workingSetBytes": 512 * 1024 * 1024}},
               "pods": [{"podRef": {"namespace": "ns", "name": "p"},
                         "containers": [{"name": "c", "cpu": {"usageNanoCores": 1500},
                                         "memory": {"workingSetBytes": 1000}}]}]}
    node = {"metadata": {"name": "n1", "labels": {"a": "b"}}}
    nm = metricsapi.node_metrics(node, summary, NOW)
    assert nm["kind"] == "NodeMetrics" and nm["usage"] == {"cpu": "250000000n", "memory": "524288Ki"}
    assert nm["timestamp"] == "2026-01-01T00:00:05Z" and nm["metadata"]["labels"] == {"a": "b"}
    pm = metricsapi.pod_metrics(summary["pods"][0], {"metadata": {"labels": {"app": "x"}}}, NOW)
    assert pm["metadata"] == {"name": "p", "namespace": "ns", "creationTimestamp": NOW, "labels": {"app": "x"}}
    assert pm["containers"] == [{"name": "c", "usage": {"cpu": "1500n", "memory": "1000"}}]


def test_kubelet_url_prefers_internal_ip_and_the_advertised_port():
    node = {"status": {"addresses": [{"type": "Hostname", "address": "h"}, {"type": "InternalIP", "address": "::1"}],
                       "daemonEndpoints": {"kubeletEndpoint": {"Port": 11250}}}}
    assert metricsapi.kubelet_url(node) == "https://[::1]:11250/stats/summary"
    assert metricsapi.kubelet_url({"status": {}}) is None


def test_discovery_documents_name_the_group():
    groups = metricsapi.add_to_group_list({"groups": []})["groups"]
    assert groups[0]["name"] == "metrics.k8s.io" and groups[0]["preferredVersion"]["version"] == "v1beta1"
    agg = metricsapi.add_to_aggregated({"items": []})["items"][0]
    assert [r["resource"] for r in agg["versions"][0]["resources"]] == ["nodes", "pods"]
    assert {r["kind"] for r in metricsapi.resource_list()["resources"]} == {"NodeMetrics", "PodMetrics"}
