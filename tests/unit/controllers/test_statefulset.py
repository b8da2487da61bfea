"""The StatefulSet controller against the fake client."""

from __future__ import annotations

import asyncio

from skiff.cluster.controllers.statefulset import StatefulSetController
from tests.unit.controllers.harness import Harness

STS = "/apis/apps/v1/namespaces/default/statefulsets"


def sts(replicas: int = 3, **spec) -> dict:
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
            "spec": {"replicas": replicas, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                     "template": {"metadata": {"labels": {"app": "db"}},
                                  "spec": {"containers": [{"name": "c", "image": "busybox:1"}]}},
                     "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                         "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}],
                     **spec}}


def pod_names(h: Harness) -> list[str]:
    return [p["metadata"]["name"] for p in h.objects("pods")]


async def ready_all(h: Harness) -> None:
    for p in h.objects("pods"):
        if p.get("status", {}).get("phase") != "Running":
            await h.mark_ready([p])
    await h.settle()


def test_ordered_start_with_stable_names_and_claims():
    async def main() -> None:
        async with Harness(StatefulSetController) as h:
            await h.client.create(STS, sts())
            await h.settle()
            assert pod_names(h) == ["db-0"]  # db-1 waits for db-0 to be ready
            pod = h.objects("pods")[0]
            assert pod["spec"]["hostname"] == "db-0" and pod["spec"]["subdomain"] == "db"
            assert pod["spec"]["volumes"] == [{"name": "data", "persistentVolumeClaim": {"claimName": "data-db-0"}}]
            assert pod["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] == "db-0"
            for expected in (["db-0", "db-1"], ["db-0", "db-1", "db-2"]):
                await ready_all(h)
                assert pod_names(h) == expected
            await ready_all(h)
            assert [c["metadata"]["name"] for c in h.objects("persistentvolumeclaims")] == [
                "data-db-0", "data-db-1", "data-db-2"]
            status = h.objects("statefulsets")[0]["status"]
            assert status["readyReplicas"] == 3 and status["currentRevision"] == status["updateRevision"]
            assert len(h.objects("controllerrevisions")) == 1
            # a deleted pod comes back under the same name; scaling down removes the highest first
            await h.client.delete("/api/v1/namespaces/default/pods/db-1")
            await h.settle()
            assert pod_names(h) == ["db-0", "db-1", "db-2"]
            await ready_all(h)
            await h.client.merge_patch(STS + "/db", {"spec": {"replicas": 1}})
            await h.settle()
            assert pod_names(h) == ["db-0"]
            deletes = [p.rsplit("/", 1)[1] for v, p in h.client.writes("delete", "pods")]
            assert deletes[-2:] == ["db-2", "db-1"]
            assert len(h.objects("persistentvolumeclaims")) == 3  # claims stay
    asyncio.run(main())


def test_parallel_starts_all_at_once():
    async def main() -> None:
        async with Harness(StatefulSetController) as h:
            await h.client.create(STS, sts(podManagementPolicy="Parallel"))
            await h.settle()
            assert pod_names(h) == ["db-0", "db-1", "db-2"]
    asyncio.run(main())


def test_rolling_update_respects_the_partition():
    async def main() -> None:
        async with Harness(StatefulSetController) as h:
            await h.client.create(STS, sts(podManagementPolicy="Parallel",
                                           updateStrategy={"type": "RollingUpdate",
                                                           "rollingUpdate": {"partition": 1}}))
            await h.settle()
            await ready_all(h)
            await h.client.merge_patch(STS + "/db", {"spec": {"template": {"spec": {"containers": [
                {"name": "c", "image": "busybox:2"}]}}}})
            for _ in range(4):
                await h.settle()
                await ready_all(h)
            images = {p["metadata"]["name"]: p["spec"]["containers"][0]["image"] for p in h.objects("pods")}
            assert images == {"db-0": "busybox:1", "db-1": "busybox:2", "db-2": "busybox:2"}
            status = h.objects("statefulsets")[0]["status"]
            assert status["updatedReplicas"] == 2 and status["currentRevision"] != status["updateRevision"]
            assert len(h.objects("controllerrevisions")) == 2
    asyncio.run(main())
