"""Model check: random write sequences give the same answers on etcd as on the memory store.

Each example works under its own prefix on the session's etcd, so etcd's revisions are the
memory store's shifted by where the example started.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from hypothesis import HealthCheck, given, settings

from skiff.cluster.storage import KeyValue, StorageError, open_store
from skiff.cluster.storage.memory import MemoryStore
from tests.unit.storage.model import apply, ops

pytestmark = [pytest.mark.interop, pytest.mark.slow]


def norm(result: object, prefix: str, offset: int) -> object:
    """A memory-store-shaped view of an etcd answer."""
    if isinstance(result, KeyValue):
        return KeyValue(result.key.removeprefix(prefix), result.value, result.create_revision - offset,
                        result.mod_revision - offset)
    return result


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(sequence=ops)
def test_etcd_answers_like_memory(etcd_server, sequence):
    prefix = f"/model-{uuid.uuid4().hex[:8]}"

    async def main() -> None:
        mem, etcd = MemoryStore(), open_store(etcd_server.endpoint, "")
        offset = await etcd.current_revision() - await mem.current_revision()
        cur_mem: dict[str, int] = {}
        for op in sequence:
            a = await apply(mem, op, cur_mem)
            b = norm(await apply(etcd, (op[0], prefix + op[1], *op[2:]) if op[0] != "compact" else op,
                                 {prefix + k: v + offset for k, v in cur_mem.items()}), prefix, offset)
            assert a == b, op
            if op[0] in ("create", "update") and isinstance(a, KeyValue):
                cur_mem[op[1]] = a.mod_revision
            elif op[0] == "delete" and isinstance(a, KeyValue):
                cur_mem.pop(op[1], None)
        end = await mem.current_revision()
        assert await etcd.current_revision() - offset == end
        for rev in range(1, end + 1):
            try:
                want: object = [(kv.key, kv.value, kv.mod_revision) for kv in (await mem.list("/", revision=rev)).items]
            except StorageError as e:
                want = type(e).__name__
            try:
                got: object = [(kv.key.removeprefix(prefix), kv.value, kv.mod_revision - offset)
                               for kv in (await etcd.list(prefix + "/", revision=rev + offset)).items]
            except StorageError as e:
                got = type(e).__name__
            assert got == want, rev
        await etcd.close()

    asyncio.run(asyncio.wait_for(main(), 60))
