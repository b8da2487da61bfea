"""metrics.k8s.io through `kubectl top`, and the HPA scaling a Deployment up and down, on usage
injected through a stand-in kubelet's Summary API; pods run on kwok nodes."""

from __future__ import annotations

import json
import os

import pytest

from tests.support.kubeletstats import KubeletStats

pytestmark = [pytest.mark.interop, pytest.mark.slow]


@pytest.fixture(scope="module")
def stats(cluster):
    kubelet = KubeletStats(f"stats-{os.getpid()}").start()
    kubelet.register(cluster.server)
    yield kubelet
    cluster.kubectl("delete", "node", kubelet.node_name, "--wait=false", check=False)
    kubelet.stop()


def deployment(name: str, replicas: int) -> str:
    return json.dumps({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
                       "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                                "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [
                                    {"name": "burn", "image": "busybox",
                                     "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}}}})


def running_names(cluster, ns: str, selector: str) -> list[str]:
    return sorted(p["metadata"]["name"] for p in cluster.pods(ns, selector)
                  if p.get("status", {}).get("phase") == "Running")


def test_kubectl_top_node_and_pod(cluster, ns, stats):
    cluster.kubectl("create", "-n", ns, "-f", "-", input=deployment("top", 1))
    name = cluster.wait(lambda: running_names(cluster, ns, "app=top"))[0]
    stats.set_pod(ns, name, {"burn": (150_000_000, 40 * 1024 * 1024)})
    out = cluster.kubectl("top", "pod", "-n", ns).stdout.decode().split("\n")
    assert out[0].split() == ["NAME", "CPU(cores)", "MEMORY(bytes)"]
    assert out[1].split() == [name, "150m", "40Mi"]
    nodes = cluster.kubectl("top", "node", stats.node_name).stdout.decode().split("\n")
    assert nodes[0].split()[:3] == ["NAME", "CPU(cores)", "CPU(%)"]
    assert nodes[1].split()[:3] == [stats.node_name, "250m", "6%"]
    raw = json.loads(cluster.kubectl("get", "--raw", f"/apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods/{name}")
                     .stdout)
    assert raw["kind"] == "PodMetrics" and raw["containers"][0]["usage"]["cpu"] == "150000000n"
    missing = cluster.kubectl("get", "--raw", f"/apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods/nope",
                              check=False)
    assert missing.returncode == 1 and "NotFound" in missing.stderr.decode()


def test_hpa_scales_a_deployment_up_and_back_down(cluster, ns, stats):
    cluster.kubectl("create", "-n", ns, "-f", "-", input=deployment("burner", 1))
    cluster.wait(lambda: len(running_names(cluster, ns, "app=burner")) == 1)
    hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "burner"},
           "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "burner"},
                    "minReplicas": 1, "maxReplicas": 3,
                    "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                        "type": "Utilization", "averageUtilization": 50}}}],
                    "behavior": {"scaleDown": {"stabilizationWindowSeconds": 0}}}}

    def burn(nano_cores: int) -> list[str]:
        names = running_names(cluster, ns, "app=burner")
        for n in names:
            stats.set_pod(ns, n, {"burn": (nano_cores, 32 * 1024 * 1024)})
        return names

    burn(200_000_000)  # 200% of the 100m request against a 50% target: wants 4, max 3
    cluster.kubectl("create", "-n", ns, "-f", "-", input=json.dumps(hpa))
    cluster.wait(lambda: cluster.get("deployment", "burner", "-n", ns)["spec"]["replicas"] == 3, timeout=120)
    cluster.wait(lambda: len(burn(200_000_000)) == 3)
    got = cluster.wait(lambda: (h := cluster.get("hpa", "burner", "-n", ns))["status"].get("currentReplicas") == 3
                       and h, timeout=120)
    assert got["status"]["currentMetrics"][0]["resource"]["current"]["averageUtilization"] == 200
    # idle: 5% — scale down at the next sync (the window is 0 here)
    cluster.wait(lambda: burn(5_000_000) and cluster.get("deployment", "burner", "-n", ns)["spec"]["replicas"] == 1,
                 timeout=120, interval=1.0)  # a 15 s sync period: several under load
    table = cluster.kubectl("get", "hpa", "burner", "-n", ns).stdout.decode().split("\n")
    assert table[0].split()[:4] == ["NAME", "REFERENCE", "TARGETS", "MINPODS"]
