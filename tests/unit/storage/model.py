"""Random write sequences for the model checks, and applying one write to a store."""

from __future__ import annotations

from hypothesis import strategies as st

from skiff.cluster.storage.interface import StorageError, Store

KEYS = ["/a", "/b", "/b/c", "/d"]
ops = st.lists(
    st.one_of(
        st.tuples(st.just("create"), st.sampled_from(KEYS), st.binary(max_size=4)),
        st.tuples(st.just("update"), st.sampled_from(KEYS), st.binary(max_size=4), st.booleans()),
        st.tuples(st.just("delete"), st.sampled_from(KEYS), st.sampled_from(["any", "right", "stale"])),
        st.tuples(st.just("compact"), st.integers(0, 5)),
    ),
    max_size=30,
)


async def apply(store: Store, op: tuple, current: dict[str, int]) -> object:
    try:
        if op[0] == "create":
            return await store.create(op[1], op[2])
        if op[0] == "update":
            rev = current.get(op[1], 0)
            return await store.update(op[1], op[2], rev if op[3] else rev - 1)
        if op[0] == "delete":
            rev = current.get(op[1], 0)
            return await store.delete(op[1], {"any": 0, "right": rev, "stale": rev - 1 if rev > 1 else 1}[op[2]])
        await store.compact(await store.current_revision() - op[1])
        return None
    except StorageError as e:
        return type(e).__name__
