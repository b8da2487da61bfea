"""etcd endpoints: a dead first endpoint is skipped; none reachable is a clear error."""

from __future__ import annotations

import asyncio

import pytest

from skiff.cluster.storage import StorageError, open_store
from tests.support.etcd import free_port

pytestmark = pytest.mark.interop


def test_a_dead_endpoint_is_skipped_for_a_live_one(etcd_server):
    dead = f"http://127.0.0.1:{free_port()}"

    async def main() -> None:
        s = open_store(f"{dead},{etcd_server.endpoint}", "")
        kv = await s.create("/endpoints/a", b"v")
        assert (await s.get("/endpoints/a")) == kv
        await s.delete(kv.key)
        await s.close()

    asyncio.run(asyncio.wait_for(main(), 30))


def test_no_reachable_endpoint_is_a_storage_error_naming_them():
    dead = f"http://127.0.0.1:{free_port()}"

    async def main() -> None:
        s = open_store(dead, "")
        with pytest.raises(StorageError) as err:
            await s.get("/x")
        assert "etcd unreachable" in str(err.value) and dead in str(err.value)
        await s.close()

    asyncio.run(asyncio.wait_for(main(), 30))
