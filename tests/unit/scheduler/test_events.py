"""The scheduler's event sink: buffered, written by workers, counted; full buffer drops, failures logged."""

import asyncio

from skiff.cluster.client.fake import FakeClient
from skiff.cluster.scheduler.events import Writer
from tests.unit.scheduler.fakes import pod


def test_events_are_written_behind_the_caller_and_counted():
    async def main():
        client = FakeClient()
        writer = Writer(client)
        for i in range(20):
            writer.post(pod(f"p{i}"), "Normal", "Scheduled", f"Successfully assigned default/p{i} to n1")
        assert writer.recorded == 0  # nothing written yet: post() only queues
        workers = asyncio.create_task(writer.run_events())
        await asyncio.wait_for(writer.pending.join(), 5)
        workers.cancel()
        listed = await client.get("/api/v1/namespaces/default/events")
        assert writer.recorded == 20 == len(listed["items"])
        assert {e["reason"] for e in listed["items"]} == {"Scheduled"}

    asyncio.run(main())


def test_a_full_buffer_drops_and_a_refused_write_is_not_counted():
    async def main():
        client = FakeClient()
        client.fail("create", "/api/v1/namespaces/default/events", 500)  # the next create only
        writer = Writer(client)
        writer.pending = asyncio.Queue(2)
        for i in range(3):
            writer.post(pod(f"p{i}"), "Normal", "Scheduled", "m")
        assert writer.dropped == 1
        workers = asyncio.create_task(writer.run_events())
        await asyncio.wait_for(writer.pending.join(), 5)
        workers.cancel()
        assert writer.recorded == 1  # two queued, one refused

    asyncio.run(main())


def test_spare_writers_wait_while_the_scheduler_is_busy():
    async def main():
        client = FakeClient()
        writer = Writer(client)
        writer.WORKERS, writer.SPARE_WORKERS = 0, 2  # only spare writers
        busy = [True]
        writer.post(pod("p"), "Normal", "Scheduled", "m")
        workers = asyncio.create_task(writer.run_events(lambda: busy[0]))
        await asyncio.sleep(0.2)
        assert writer.recorded == 0  # bindings first
        busy[0] = False
        await asyncio.wait_for(writer.pending.join(), 5)
        workers.cancel()
        assert writer.recorded == 1

    asyncio.run(main())
