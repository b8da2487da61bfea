"""The garbage collector against the fake client: background, foreground and orphan deletion."""

from __future__ import annotations

import asyncio

from skiff.cluster.controllers import podutil
from skiff.cluster.controllers.garbagecollector import GarbageCollector
from tests.unit.controllers.harness import Harness

RS = "/apis/apps/v1/namespaces/default/replicasets"
PODS = "/api/v1/namespaces/default/pods"


def rs(name: str = "web", **meta) -> dict:
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name, **meta},
            "spec": {"selector": {"matchLabels": {"app": name}}}}


def pod(name: str, *owners: dict, block: bool = True) -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "ownerReferences": [podutil.owner_ref(o, block) for o in owners]},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]}}


def names(h: Harness, plural: str = "pods") -> list[str]:
    return [o["metadata"]["name"] for o in h.objects(plural)]


def test_background_deletes_dependents_whose_owners_are_all_gone():
    async def main() -> None:
        async with Harness(GarbageCollector) as h:
            a = await h.client.create(RS, rs("a"))
            b = await h.client.create(RS, rs("b"))
            await h.client.create(PODS, pod("only-a", a))
            await h.client.create(PODS, pod("a-and-b", a, b))
            await h.client.create(PODS, pod("unowned"))
            await h.settle()
            assert names(h) == ["a-and-b", "only-a", "unowned"]  # live owners: nothing happens
            await h.client.delete(RS + "/a")
            await h.settle()
            assert names(h) == ["a-and-b", "unowned"]
            kept = h.objects("pods")[0]
            assert [r["name"] for r in kept["metadata"]["ownerReferences"]] == ["b"]
    asyncio.run(main())


def test_a_dependent_created_after_its_owner_vanished_is_collected():
    async def main() -> None:
        async with Harness(GarbageCollector) as h:
            ghost = await h.client.create(RS, rs("ghost"))
            await h.client.delete(RS + "/ghost")
            await h.client.create(PODS, pod("late", ghost))
            await h.settle()
            assert names(h) == []
            # the live lookup happened before deleting: the owner was checked, not guessed
            assert any(v == "delete" and p.endswith("/pods/late") for v, p in h.client.actions)
    asyncio.run(main())


def test_foreground_deletes_dependents_then_drops_the_finalizer():
    async def main() -> None:
        async with Harness(GarbageCollector) as h:
            owner = await h.client.create(RS, rs("fg"))
            await h.client.create(PODS, pod("p1", owner))
            await h.client.create(PODS, pod("p2", owner))
            await h.settle()
            await h.client.merge_patch(RS + "/fg", {"metadata": {"finalizers": ["foregroundDeletion"],
                                                                  "deletionTimestamp": "2026-01-01T00:00:00Z"}})
            await h.settle()
            assert names(h) == []
            assert h.objects("replicasets")[0]["metadata"].get("finalizers") is None
    asyncio.run(main())


def test_foreground_waits_while_a_blocking_dependent_remains():
    async def main() -> None:
        async with Harness(GarbageCollector) as h:
            owner = await h.client.create(RS, rs("fg"))
            await h.client.create(PODS, pod("p1", owner))
            h.client.fail("delete", PODS + "/p1", 500)
            await h.client.merge_patch(RS + "/fg", {"metadata": {"finalizers": ["foregroundDeletion"],
                                                                  "deletionTimestamp": "2026-01-01T00:00:00Z"}})
            await h.ctrl.drain()
            await asyncio.sleep(0.05)
            await h.ctrl.drain()
            assert h.objects("replicasets")[0]["metadata"]["finalizers"] == ["foregroundDeletion"]
    asyncio.run(main())


def test_orphan_removes_the_reference_from_dependents_then_the_finalizer():
    async def main() -> None:
        async with Harness(GarbageCollector) as h:
            owner = await h.client.create(RS, rs("or"))
            other = await h.client.create(RS, rs("other"))
            await h.client.create(PODS, pod("p1", owner))
            await h.client.create(PODS, pod("p2", owner, other))
            await h.settle()
            await h.client.merge_patch(RS + "/or", {"metadata": {"finalizers": ["orphan"],
                                                                  "deletionTimestamp": "2026-01-01T00:00:00Z"}})
            await h.settle()
            pods = {p["metadata"]["name"]: p for p in h.objects("pods")}
            assert sorted(pods) == ["p1", "p2"]
            assert "ownerReferences" not in pods["p1"]["metadata"]
            assert [r["name"] for r in pods["p2"]["metadata"]["ownerReferences"]] == ["other"]
            assert h.objects("replicasets")[0]["metadata"].get("finalizers") is None
    asyncio.run(main())
