"""The namespace and service-account controllers against the fake client."""

from __future__ import annotations

import asyncio

from skiff.cluster.controllers import namespace
from skiff.cluster.controllers.namespace import NamespaceController
from skiff.cluster.controllers.serviceaccount import ServiceAccountController
from tests.unit.controllers.harness import Harness

NS = "/api/v1/namespaces"


def test_collections_from_discovery_are_namespaced_listable_and_deletable():
    core = {"resources": [
        {"name": "pods", "namespaced": True, "verbs": ["list", "delete", "get"]},
        {"name": "pods/status", "namespaced": True, "verbs": ["get", "patch"]},
        {"name": "nodes", "namespaced": False, "verbs": ["list", "delete"]},
        {"name": "bindings", "namespaced": True, "verbs": ["create"]}]}
    apps = ("/apis/apps/v1", {"resources": [{"name": "deployments", "namespaced": True,
                                              "verbs": ["list", "delete", "deletecollection"]}]})
    assert namespace.namespaced_collections(core, [apps]) == [
        "/api/v1/namespaces/{ns}/pods", "/apis/apps/v1/namespaces/{ns}/deployments"]


def test_a_terminating_namespace_is_emptied_then_finalized():
    async def main() -> None:
        async with Harness(NamespaceController) as h:
            finalized: list[tuple[str, dict]] = []

            async def discover() -> list[str]:
                return ["/api/v1/namespaces/{ns}/configmaps", "/apis/apps/v1/namespaces/{ns}/deployments"]

            async def replace(path: str, body: dict) -> dict:
                finalized.append((path, body))
                return body

            h.ctrl.discover = discover
            h.client.replace = replace
            await h.client.create("/api/v1/namespaces/doomed/configmaps", {"metadata": {"name": "a"}})
            await h.client.create("/apis/apps/v1/namespaces/doomed/deployments", {"metadata": {"name": "d"}})
            await h.client.create("/api/v1/namespaces/kept/configmaps", {"metadata": {"name": "b"}})
            await h.client.create(NS, {"metadata": {"name": "doomed", "deletionTimestamp": "2026-01-01T00:00:00Z"},
                                       "spec": {"finalizers": ["kubernetes"]}})
            await h.settle()
            assert h.objects("configmaps", "doomed") == [] and h.objects("deployments", "doomed") == []
            assert len(h.objects("configmaps", "kept")) == 1
            assert finalized and finalized[0][0] == "/api/v1/namespaces/doomed/finalize"
            assert finalized[0][1]["spec"]["finalizers"] == []
    asyncio.run(main())


def test_every_active_namespace_gets_a_default_service_account_again_if_deleted():
    async def main() -> None:
        async with Harness(ServiceAccountController) as h:
            await h.client.create(NS, {"metadata": {"name": "team"}})
            await h.client.create(NS, {"metadata": {"name": "going", "deletionTimestamp": "2026-01-01T00:00:00Z"}})
            await h.settle()
            assert [s["metadata"]["name"] for s in h.objects("serviceaccounts", "team")] == ["default"]
            assert h.objects("serviceaccounts", "going") == []
            await h.client.delete("/api/v1/namespaces/team/serviceaccounts/default")
            await h.settle()
            assert [s["metadata"]["name"] for s in h.objects("serviceaccounts", "team")] == ["default"]
    asyncio.run(main())
