"""The controller framework: work queue, informers over the fake client, leader election, registry."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from skiff.cluster.client.fake import FakeClient
from skiff.cluster.client.informers import Informer, SharedInformerFactory, object_key
from skiff.cluster.client.leaderelection import LeaderElector, LeaseConfig, decide, micro_time
from skiff.cluster.client.workqueue import BucketRateLimiter, ExponentialRateLimiter, WorkQueue
from skiff.cluster.controllers import registry
from skiff.common.errors import InvalidArgument

PODS = "/api/v1/namespaces/default/pods"


def pod(name: str, **labels: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels}, "spec": {}}


async def until(cond, timeout: float = 5.0) -> None:
    async def poll() -> None:
        while not cond():
            await asyncio.sleep(0.01)
    await asyncio.wait_for(poll(), timeout)


# --- work queue ---------------------------------------------------------------------------------

def test_queue_dedupes_and_keeps_a_key_off_two_workers():
    async def main() -> None:
        q = WorkQueue()
        q.add("a")
        q.add("a")
        q.add("b")
        assert len(q) == 2
        first = await q.get()
        assert first == "a"
        q.add("a")  # while processing: not handed out again until done
        assert await q.get() == "b"
        assert len(q) == 0
        q.done("a")
        assert await q.get() == "a"
        q.shutdown()
        assert await q.get() is None
    asyncio.run(main())


def test_queue_delayed_add_arrives_later():
    async def main() -> None:
        q = WorkQueue()
        q.add_after("k", 0.05)
        assert len(q) == 0
        assert await asyncio.wait_for(q.get(), 2) == "k"
    asyncio.run(main())


def test_exponential_rate_limiter_doubles_and_forgets():
    rl = ExponentialRateLimiter(base=0.005, cap=1.0)
    assert [rl.when("k") for _ in range(4)] == [0.005, 0.01, 0.02, 0.04]
    assert rl.retries("k") == 4
    assert max(rl.when("k") for _ in range(20)) == 1.0
    rl.forget("k")
    assert rl.when("k") == 0.005


def test_bucket_rate_limiter_delays_after_the_burst():
    now = [0.0]
    rl = BucketRateLimiter(qps=10, burst=2, clock=lambda: now[0])
    assert rl.when("a") == 0 and rl.when("b") == 0
    assert rl.when("c") == pytest.approx(0.1)
    now[0] = 1.0
    assert rl.when("d") == 0


# --- informers --------------------------------------------------------------------------------------

def test_informer_lists_watches_and_relists_after_410():
    async def main() -> None:
        client = FakeClient()
        client.seed(PODS, pod("a", app="web"))
        inf = Informer(client, "/api/v1/pods")
        seen: list[tuple[str, str]] = []
        inf.add_handler(lambda o: seen.append(("add", object_key(o))),
                        lambda old, new: seen.append(("update", object_key(new))),
                        lambda o: seen.append(("delete", object_key(o))))
        task = asyncio.create_task(inf.run())
        await asyncio.wait_for(inf.synced.wait(), 2)
        assert inf.get("default/a") is not None and inf.lists == 1
        await client.create(PODS, pod("b"))
        await client.merge_patch(PODS + "/a", {"metadata": {"labels": {"v": "2"}}})
        await client.delete(PODS + "/b")
        await until(lambda: ("delete", "default/b") in seen)
        assert seen == [("add", "default/a"), ("add", "default/b"), ("update", "default/a"), ("delete", "default/b")]
        assert (inf.get("default/a") or {})["metadata"]["labels"] == {"app": "web", "v": "2"}
        # a dropped stream resumes from the last resourceVersion seen, without listing again
        client.end_watches()
        await client.create(PODS, pod("c"))
        await until(lambda: inf.get("default/c") is not None)
        assert inf.lists == 1
        # offline while the server forgets old versions: 410, relist, and what was missed comes as a diff
        task.cancel()
        await client.create(PODS, pod("d"))
        await client.delete(PODS + "/c")
        client.expire()
        task = asyncio.create_task(inf.run())
        await until(lambda: inf.get("default/d") is not None)
        assert inf.lists == 2
        assert sorted(inf.cache) == ["default/a", "default/d"]
        assert ("add", "default/d") in seen and ("delete", "default/c") in seen
        client.stop()
        task.cancel()
    asyncio.run(main())


def test_informer_resync_replays_updates():
    async def main() -> None:
        client = FakeClient()
        client.seed(PODS, pod("a"))
        inf = Informer(client, "/api/v1/pods", resync=0.05)
        updates: list[str] = []
        inf.add_handler(on_update=lambda old, new: updates.append(object_key(new)))
        task = asyncio.create_task(inf.run())
        await until(lambda: len(updates) >= 2)
        client.stop()
        task.cancel()
    asyncio.run(main())


def test_shared_factory_gives_one_informer_per_resource():
    client = FakeClient()
    f = SharedInformerFactory(client)
    assert f.informer("/api/v1/pods") is f.informer("/api/v1/pods")
    assert f.informer("/api/v1/pods") is not f.informer("/api/v1/services")


# --- leader election ---------------------------------------------------------------------------------

def test_decide_takes_a_free_or_expired_lease_only():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    fresh = {"holderIdentity": "a", "renewTime": micro_time(now - timedelta(seconds=5)), "leaseDurationSeconds": 15}
    assert decide(fresh, "b", now, 15) is None
    renewed = decide(fresh, "a", now, 15)
    assert renewed is not None and renewed["renewTime"] == micro_time(now) and "acquireTime" not in renewed
    stale = dict(fresh, renewTime=micro_time(now - timedelta(seconds=20)))
    taken = decide(stale, "b", now, 15)
    assert taken is not None and taken["holderIdentity"] == "b" and taken["leaseTransitions"] == 1
    assert decide({}, "b", now, 15)["holderIdentity"] == "b"


def test_two_electors_one_leader_then_failover():
    async def main() -> None:
        client = FakeClient()
        clock = [datetime(2026, 1, 1, tzinfo=UTC)]
        a = LeaderElector(client, LeaseConfig(identity="a", retry_period=0.01), now=lambda: clock[0])
        b = LeaderElector(client, LeaseConfig(identity="b", retry_period=0.01), now=lambda: clock[0])
        assert await a.try_acquire_or_renew()
        assert not await b.try_acquire_or_renew()
        assert await a.try_acquire_or_renew()  # renewal
        clock[0] += timedelta(seconds=16)  # a stops renewing
        assert await b.try_acquire_or_renew()
        lease = await client.get("/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager")
        assert lease["spec"]["holderIdentity"] == "b" and lease["spec"]["leaseTransitions"] == 1
        assert not await a.try_acquire_or_renew()
    asyncio.run(main())


def test_elector_runs_work_only_while_leading():
    async def main() -> None:
        client = FakeClient()
        cfg = LeaseConfig(identity="a", retry_period=0.01)
        started = asyncio.Event()

        async def lead() -> None:
            started.set()
            await asyncio.sleep(0.05)

        elector = LeaderElector(client, cfg)
        await asyncio.wait_for(elector.run(lead), 2)
        assert started.is_set() and not elector.is_leader
    asyncio.run(main())


# --- registry -------------------------------------------------------------------------------------------

def test_controllers_flag_star_and_minus():
    everything = registry.select("*")
    assert "replicaset-controller" in everything and "deployment-controller" in everything
    assert "deployment-controller" not in registry.select("*,-deployment")
    assert registry.select("replicaset") == ["replicaset-controller"]
    assert registry.select("") == []
    with pytest.raises(InvalidArgument, match='"nope" is not in the list of known controllers'):
        registry.select("*,nope")


def test_event_recorder_correlates_repeats():
    from skiff.cluster.controllers.events import EventRecorder

    async def main() -> None:
        client = FakeClient()
        rs = client.seed("/apis/apps/v1/namespaces/default/replicasets",
                         {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web"}})
        rec = EventRecorder(client)
        rec.record(rs, "Normal", "SuccessfulCreate", "Created pod: web-1", "replicaset-controller")
        rec.record(rs, "Normal", "SuccessfulCreate", "Created pod: web-1", "replicaset-controller")
        rec.record(rs, "Warning", "FailedCreate", "Error creating: boom", "replicaset-controller")
        await rec.flush()
        events = sorted((o for k, o in client.objects.items() if k[1] == "events"), key=lambda e: e["reason"])
        assert [(e["type"], e["reason"], e["count"]) for e in events] == [("Warning", "FailedCreate", 1),
                                                                          ("Normal", "SuccessfulCreate", 2)]
        ref = events[1]["involvedObject"]
        assert (ref["kind"], ref["name"], ref["uid"]) == ("ReplicaSet", "web", rs["metadata"]["uid"])
        assert events[1]["source"] == {"component": "replicaset-controller"}
    asyncio.run(main())


def test_server_flags_check_controllers_at_parse(capsys):
    from skiff.cluster.serverflags import parse

    opts = parse(["--controllers", "*,-deployment", "--disable-controllers"])
    assert opts.controllers == "*,-deployment" and opts.disable_controllers
    assert parse(["--disable-controller-manager"]).disable_controllers
    with pytest.raises(SystemExit) as exc:
        parse(["--controllers", "*,nope"])
    assert exc.value.code == 2
    assert '--controllers: "nope" is not in the list of known controllers' in capsys.readouterr().err
