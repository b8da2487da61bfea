"""The scheduler loop against the in-memory API client: informers, assume-then-bind, failures."""

import asyncio

from skiff.cluster.client.fake import FakeClient
from skiff.cluster.scheduler.scheduler import Scheduler
from tests.unit.scheduler.fakes import node


class BindingClient(FakeClient):
    """FakeClient plus pods/NAME/binding, which sets spec.nodeName as the API server does."""

    async def create(self, path: str, body: dict) -> dict:
        if path.endswith("/binding"):
            self.actions.append(("create", path))
            self._maybe_fail("create", path)
            return await self.merge_patch(path.rsplit("/", 1)[0], {"spec": {"nodeName": body["target"]["name"]}})
        return await super().create(path, body)


def pod_body(name: str, cpu: str = "100m", **spec) -> dict:
    return {"metadata": {"name": name, "namespace": "default"},
            "spec": {"containers": [{"name": "c", "image": "busybox",
                                     "resources": {"requests": {"cpu": cpu}}}], **spec}}


async def until(cond, timeout: float = 5.0) -> None:
    async def wait():
        while not cond():
            await asyncio.sleep(0.01)
    await asyncio.wait_for(wait(), timeout)


def node_of(client: FakeClient, name: str) -> str:
    return client.objects[("/api/v1", "pods", "default", name)]["spec"].get("nodeName", "")


def status_of(client: FakeClient, name: str) -> dict:
    return client.objects[("/api/v1", "pods", "default", name)].get("status") or {}


def events(client: FakeClient, reason: str) -> list[dict]:
    return [o for (_, plural, _, _), o in client.objects.items() if plural == "events" and o["reason"] == reason]


def run(scenario) -> None:
    async def main():
        client = BindingClient()
        sched = Scheduler(client)
        task = asyncio.create_task(sched.run())
        try:
            await scenario(client, sched)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    asyncio.run(main())


def test_binds_spreads_and_records_events():
    async def scenario(client, sched):
        for n in ("a", "b"):
            client.seed("/api/v1/nodes", node(n, cpu="1"))
        for i in range(4):
            client.seed("/api/v1/namespaces/default/pods", pod_body(f"p{i}", cpu="400m"))
        await until(lambda: all(node_of(client, f"p{i}") for i in range(4)))
        placed = [node_of(client, f"p{i}") for i in range(4)]
        assert sorted(placed) == ["a", "a", "b", "b"]  # 2 x 400m per 1-cpu node
        await until(lambda: len(events(client, "Scheduled")) == 4)
        ev = events(client, "Scheduled")[0]
        assert ev["source"]["component"] == "default-scheduler" and ev["type"] == "Normal"

    run(scenario)


def test_unschedulable_pod_is_reported_once_and_retried_on_a_new_node():
    async def scenario(client, sched):
        client.seed("/api/v1/nodes", node("small", cpu="1"))
        client.seed("/api/v1/namespaces/default/pods", pod_body("big", cpu="2"))
        await until(lambda: any(c.get("type") == "PodScheduled" for c in status_of(client, "big").get("conditions", [])))
        cond = status_of(client, "big")["conditions"][-1]
        assert cond["status"] == "False" and cond["reason"] == "Unschedulable"
        assert cond["message"].startswith("0/1 nodes are available: 1 Insufficient cpu. preemption: ")
        await until(lambda: len(events(client, "FailedScheduling")) == 1)
        client.seed("/api/v1/nodes", node("large", cpu="4"))
        await until(lambda: node_of(client, "big") == "large")
        assert len(events(client, "FailedScheduling")) == 1  # its own status patch did not requeue it

    run(scenario)


def test_failed_binding_is_forgotten_and_retried():
    async def scenario(client, sched):
        client.seed("/api/v1/nodes", node("a"))
        client.fail("create", "/api/v1/namespaces/default/pods/p/binding", 500)
        client.seed("/api/v1/namespaces/default/pods", pod_body("p"))
        await until(lambda: node_of(client, "p") == "a", timeout=10)
        assert len([a for a in client.writes("create") if a[1].endswith("/binding")]) == 2
        assert not sched.cache.is_assumed("default/p")

    run(scenario)


def test_pods_of_other_schedulers_and_bound_pods_are_left_alone():
    async def scenario(client, sched):
        client.seed("/api/v1/nodes", node("a"))
        client.seed("/api/v1/namespaces/default/pods", pod_body("theirs", schedulerName="other"))
        client.seed("/api/v1/namespaces/default/pods", pod_body("bound", nodeName="a"))
        client.seed("/api/v1/namespaces/default/pods", pod_body("mine"))
        await until(lambda: node_of(client, "mine") == "a")
        assert node_of(client, "theirs") == ""
        assert [p for p in client.writes("create") if p[1].endswith("/binding")] == [
            ("create", "/api/v1/namespaces/default/pods/mine/binding")]
        assert sched.cache.nodes["a"].requested["cpu"] == 200

    run(scenario)
