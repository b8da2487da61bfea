import asyncio

from skiff.cluster.scheduler.plugins.queuesort import PrioritySort
from skiff.cluster.scheduler.queue import MAX_UNSCHEDULABLE, SchedulingQueue
from tests.unit.scheduler.fakes import pod


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def make():
    clock = Clock()
    return SchedulingQueue(PrioritySort().less, clock), clock


def test_priority_then_arrival_order():
    q, clock = make()
    q.add(pod("low1"))
    clock.now += 1
    q.add(pod("high", priority=100))
    clock.now += 1
    q.add(pod("low2"))
    assert [q.pop_nowait().pod.name for _ in range(3)] == ["high", "low1", "low2"]
    assert q.pop_nowait() is None


def test_unschedulable_waits_for_a_cluster_event_then_backs_off():
    q, clock = make()
    q.add(pod("p"))
    info = q.pop_nowait()
    q.add_unschedulable(info, q.scheduling_cycle)
    assert "default/p" in q.unschedulable and q.pop_nowait() is None
    q.move_all()
    assert "default/p" in q.backoff  # its 1 s back-off is not over yet
    clock.now += 1.5
    q.flush()
    assert q.pop_nowait().pod.name == "p"


def test_event_during_the_cycle_sends_the_pod_to_backoff_not_unschedulable():
    q, clock = make()
    q.add(pod("p"))
    info = q.pop_nowait()
    cycle = q.scheduling_cycle
    q.move_all()  # e.g. a node was added while p was being scheduled
    q.add_unschedulable(info, cycle)
    assert "default/p" in q.backoff


def test_backoff_doubles_to_a_cap():
    q, clock = make()
    q.add(pod("p"))
    info = q.pop_nowait()
    delays = []
    for _ in range(6):
        info.timestamp = clock.now
        delays.append(q.backoff_until(info) - clock.now)
        info.attempts += 1
    assert delays == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def test_parked_too_long_is_retried():
    q, clock = make()
    q.add(pod("p"))
    q.add_unschedulable(q.pop_nowait(), q.scheduling_cycle)
    clock.now += MAX_UNSCHEDULABLE + 1
    q.flush()
    assert q.pop_nowait().pod.name == "p"


def test_update_of_a_parked_pod_retries_it_and_delete_removes():
    q, clock = make()
    q.add(pod("p"))
    q.add_unschedulable(q.pop_nowait(), q.scheduling_cycle)
    clock.now += 5
    q.update(pod("p", nodeSelector={"a": "b"}))
    got = q.pop_nowait()
    assert got.pod.spec["nodeSelector"] == {"a": "b"}
    q.add(pod("gone"))
    q.delete("default/gone")
    assert q.pop_nowait() is None and len(q) == 0


def test_pop_waits_for_a_pod():
    async def main():
        q, _ = make()
        waiter = asyncio.create_task(q.pop())
        await asyncio.sleep(0)
        assert not waiter.done()
        q.add(pod("p"))
        return (await asyncio.wait_for(waiter, 5)).pod.name

    assert asyncio.run(main()) == "p"
