"""SyncLoop: a burst of changes is one sync, a failure is retried in full, full syncs recur."""

from __future__ import annotations

import asyncio

from skiff.cluster.client.syncloop import SyncLoop


class Informer:
    def add_handler(self, on_add, on_update, on_delete):
        self.on_add, self.on_update, self.on_delete = on_add, on_update, on_delete


def run(coro):
    return asyncio.run(coro)


def test_a_burst_of_changes_is_one_sync():
    async def main():
        calls: list[bool] = []

        async def sync(full: bool) -> None:
            calls.append(full)

        loop = SyncLoop(sync, "t", debounce=0.05, full_every=3600)
        inf = Informer()
        loop.watch(inf)
        await loop.run_once(full=True)
        loop.start()
        inf.on_add({})
        inf.on_update({}, {})
        inf.on_delete({})
        for _ in range(200):
            if len(calls) == 2:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)  # no further sync follows without a change
        await loop.stop()
        return calls

    assert run(main()) == [True, False]


def test_a_failed_sync_is_retried_in_full():
    async def main():
        calls: list[bool] = []

        async def sync(full: bool) -> None:
            calls.append(full)
            if len(calls) == 1:
                raise OSError("iptables-restore: resource busy")

        loop = SyncLoop(sync, "t", debounce=0.0, full_every=3600, retry=0.0)
        loop.start()
        loop.poke()
        for _ in range(200):
            if len(calls) == 2:
                break
            await asyncio.sleep(0.01)
        await loop.stop()
        return calls, loop.errors

    assert run(main()) == ([False, True], 1)


def test_full_syncs_recur_without_changes():
    async def main():
        calls: list[bool] = []

        async def sync(full: bool) -> None:
            calls.append(full)

        loop = SyncLoop(sync, "t", debounce=0.0, full_every=0.02)
        loop.start()
        for _ in range(200):
            if len(calls) >= 2:
                break
            await asyncio.sleep(0.01)
        await loop.stop()
        return calls

    assert run(main())[:2] == [True, True]
