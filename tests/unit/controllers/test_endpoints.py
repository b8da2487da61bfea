"""Endpoints and EndpointSlice controllers against the fake client."""

from __future__ import annotations

import asyncio

from skiff.cluster.controllers import endpoints_util as eu
from skiff.cluster.controllers.endpoints import EndpointsController
from skiff.cluster.controllers.endpointslice import EndpointSliceController
from tests.unit.controllers.harness import Harness

SVC = "/api/v1/namespaces/default/services"
PODS = "/api/v1/namespaces/default/pods"


def service(name: str = "web", target="http") -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "labels": {"tier": "front"}},
            "spec": {"selector": {"app": "web"}, "clusterIP": "10.43.0.10",
                     "ports": [{"name": "http", "port": 80, "targetPort": target, "protocol": "TCP"}]}}


def pod(name: str, ip: str, ready: bool, port: int = 8080, app: str = "web") -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": app}},
            "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "i",
                                                       "ports": [{"name": "http", "containerPort": port}]}]},
            "status": {"phase": "Running", "podIP": ip,
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def test_subsets_split_ready_from_not_ready_and_group_by_resolved_port():
    pods = [pod("a", "10.0.0.2", True), pod("b", "10.0.0.1", False), pod("c", "10.0.0.3", True, port=9090),
            pod("other", "10.0.0.9", True, app="db")]
    subsets = eu.endpoints_subsets(service(), pods)
    assert subsets == [
        {"addresses": [{"ip": "10.0.0.2", "nodeName": "n1",
                        "targetRef": {"kind": "Pod", "namespace": "", "name": "a", "uid": ""}}],
         "notReadyAddresses": [{"ip": "10.0.0.1", "nodeName": "n1",
                                "targetRef": {"kind": "Pod", "namespace": "", "name": "b", "uid": ""}}],
         "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]},
        {"addresses": [{"ip": "10.0.0.3", "nodeName": "n1",
                        "targetRef": {"kind": "Pod", "namespace": "", "name": "c", "uid": ""}}],
         "ports": [{"name": "http", "port": 9090, "protocol": "TCP"}]}]
    assert eu.endpoints_subsets({"spec": {"ports": []}}, pods) == []  # no selector: not ours


def test_endpoints_follow_pods_and_go_with_the_service():
    async def main() -> None:
        async with Harness(EndpointsController) as h:
            await h.client.create(SVC, service())
            await h.client.create(PODS, pod("a", "10.0.0.2", True))
            await h.settle()
            [ep] = h.objects("endpoints")
            assert ep["metadata"]["name"] == "web" and ep["metadata"]["labels"] == {"tier": "front"}
            assert [a["ip"] for a in ep["subsets"][0]["addresses"]] == ["10.0.0.2"]
            await h.client.merge_patch(f"{PODS}/a", {"metadata": {"labels": {"app": "gone"}}})
            await h.settle()
            assert "subsets" not in h.objects("endpoints")[0]
            await h.client.delete(f"{SVC}/web")
            await h.settle()
            assert h.objects("endpoints") == []
    asyncio.run(main())


def test_endpointslices_carry_conditions_and_chunk_at_100():
    async def main() -> None:
        async with Harness(EndpointSliceController) as h:
            await h.client.create(SVC, service(target=8080))
            for i in range(150):
                h.client.seed(PODS, pod(f"p{i:03d}", f"10.1.{i // 200}.{i % 200 + 1}", ready=i % 2 == 0))
            await h.settle()
            slices = h.objects("endpointslices")
            assert sorted(len(s["endpoints"]) for s in slices) == [50, 100]
            s = slices[0]
            assert s["metadata"]["name"].startswith("web-")
            assert s["metadata"]["labels"][eu.SERVICE_NAME_LABEL] == "web"
            assert s["metadata"]["ownerReferences"][0]["kind"] == "Service"
            assert s["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
            ready = sum(e["conditions"]["ready"] for sl in slices for e in sl["endpoints"])
            assert ready == 75
            for i in range(150):
                await h.client.delete(f"{PODS}/p{i:03d}")
            await h.settle()
            [empty] = h.objects("endpointslices")
            assert empty["endpoints"] == []
    asyncio.run(main())
