"""Model check: after any write sequence the watch cache lists, counts and watches like its store."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from skiff.cluster.storage.cache import CachedStore
from skiff.cluster.storage.memory import MemoryStore
from tests.integration.storage.watching import take
from tests.unit.storage.model import apply, ops

PREFIXES = ["/", "/b", "/b/", "/a"]


@settings(max_examples=60, deadline=None)
@given(ops, st.sampled_from(PREFIXES), st.integers(1, 3))
def test_the_cache_answers_like_its_store(sequence, prefix, page):
    async def main() -> None:
        store = MemoryStore()
        cache = CachedStore(store, root="/")
        await cache.start()
        start = cache.revision
        watch = cache.watch(prefix, start)
        current: dict[str, int] = {}
        for op in sequence:
            if op[0] == "compact":
                continue  # compaction is the store's business; the suite covers it
            res = await apply(cache, op, current)
            if op[0] in ("create", "update") and not isinstance(res, str):
                current[op[1]] = res.mod_revision  # type: ignore[union-attr]
            elif op[0] == "delete" and not isinstance(res, str):
                current.pop(op[1], None)
            assert (await cache.list(prefix)).items == (await store.list(prefix)).items
            assert await cache.count(prefix) == await store.count(prefix)
        first = await cache.list(prefix, limit=page)
        pages, last = list(first.items), first
        while last.more:
            last = await cache.list(prefix, revision=first.revision, limit=page, start_after=last.items[-1].key)
            pages += last.items
        assert pages == (await store.list(prefix)).items
        end = await store.current_revision()
        want = [e for e in await take(store.watch("/", start), end - start) if e.kv.key.startswith(prefix)] \
            if end > start else []
        got = await take(watch, len(want)) if want else []
        assert got == want
        await cache.close()

    asyncio.run(asyncio.wait_for(main(), 30))
