"""Endpoints and EndpointSlices of a Service through real kubectl, pods run by kwok nodes."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.interop, pytest.mark.slow]


def test_expose_lists_ready_pods_in_endpoints_and_slices(cluster, ns):
    cluster.kubectl("create", "deployment", "web", "--image=busybox", "--replicas=3", "--port=8080", "-n", ns)
    cluster.kubectl("expose", "deployment", "web", "--port=80", "--target-port=8080", "-n", ns)
    pods = cluster.wait(lambda: (p := cluster.pods(ns, "app=web")) and len(p) == 3
                        and all(x["status"].get("podIP") for x in p) and p)
    ips = sorted(p["status"]["podIP"] for p in pods)

    def endpoint_ips():
        ep = cluster.get("endpoints", "web", "-n", ns)
        return sorted(a["ip"] for s in ep.get("subsets", []) for a in s.get("addresses", []))
    cluster.wait(lambda: endpoint_ips() == ips)
    table = cluster.kubectl("get", "endpoints", "web", "-n", ns).stdout.decode().split("\n")
    assert table[0].split() == ["NAME", "ENDPOINTS", "AGE"]
    assert table[1].split()[1].count(":8080") == 3

    def slice_ips():
        slices = cluster.get("endpointslices", "-n", ns, "-l", "kubernetes.io/service-name=web")["items"]
        return sorted(a for s in slices for e in s.get("endpoints") or [] for a in e["addresses"]
                      if e["conditions"]["ready"])
    cluster.wait(lambda: slice_ips() == ips)

    cluster.kubectl("scale", "deployment", "web", "--replicas=1", "-n", ns)
    cluster.wait(lambda: len(endpoint_ips()) == 1 and len(slice_ips()) == 1)
    cluster.kubectl("delete", "service", "web", "-n", ns)
    cluster.wait(lambda: cluster.kubectl("get", "endpoints", "web", "-n", ns, check=False).returncode == 1)
