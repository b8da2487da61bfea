"""The watch cache over etcd rides out an etcd restart: its watchers miss nothing."""

from __future__ import annotations

import asyncio

import pytest

from skiff.cluster.storage import open_store
from skiff.cluster.storage.cache import CachedStore
from tests.integration.storage.watching import take
from tests.support.etcd import Etcd, have_etcd

pytestmark = [pytest.mark.interop, pytest.mark.slow]


def test_cache_watchers_get_every_event_across_an_etcd_restart():
    if not have_etcd():
        pytest.skip("etcd-server is not installed")
    etcd = Etcd().start()
    try:
        async def main() -> None:
            writer = open_store(etcd.endpoint, "")
            cache = CachedStore(open_store(etcd.endpoint, ""))
            await cache.start()
            watch = cache.watch("/registry/cm/", cache.revision)
            before = [await writer.create(f"/registry/cm/a{i}", b"1") for i in range(3)]
            assert [e.kv for e in await take(watch, 3)] == before

            await asyncio.to_thread(etcd.kill)
            await asyncio.sleep(0.3)  # the cache's backend watch fails while etcd is down
            await asyncio.to_thread(etcd.start)
            after = [await writer.create(f"/registry/cm/b{i}", b"2") for i in range(3)]
            assert [e.kv for e in await take(watch, 3, timeout=30)] == after
            assert len((await cache.list("/registry/cm/")).items) == 6
            await watch.aclose()  # type: ignore[attr-defined]
            await cache.close()
            await writer.close()

        asyncio.run(asyncio.wait_for(main(), 60))
    finally:
        etcd.cleanup()
