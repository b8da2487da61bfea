"""The one Store suite: every backend (memory, SQLite, etcd) must pass every test here."""

from __future__ import annotations

import asyncio

import pytest

from skiff.cluster.storage import (
    Compacted,
    FutureRevision,
    KeyExists,
    KeyNotFound,
    KeyValue,
    RevisionConflict,
    Store,
)
from tests.integration.storage.conftest import Backend, run_with
from tests.integration.storage.watching import take


def test_create_get_update_delete(backend: Backend):
    k = backend.key("a")

    async def body(s: Store) -> None:
        created = await s.create(k, b"one")
        assert created.key == k and created.value == b"one"
        assert created.create_revision == created.mod_revision
        assert await s.get(k) == created
        with pytest.raises(KeyExists):
            await s.create(k, b"again")

        updated = await s.update(k, b"two", created.mod_revision)
        assert updated.mod_revision > created.mod_revision
        assert updated.create_revision == created.create_revision
        assert (await s.get(k)).value == b"two"

        with pytest.raises(RevisionConflict) as err:
            await s.update(k, b"stale", created.mod_revision)
        assert err.value.actual == updated
        assert err.value.status == 409
        assert (await s.get(k)).value == b"two"

        deleted = await s.delete(k)
        assert deleted.value == b"two" and deleted.mod_revision > updated.mod_revision
        assert deleted.mod_revision == await s.current_revision()
        with pytest.raises(KeyNotFound):
            await s.get(k)
        with pytest.raises(KeyNotFound):
            await s.delete(k)
        with pytest.raises(KeyNotFound):
            await s.update(k, b"x", deleted.mod_revision)

        again = await s.create(k, b"three")
        assert again.create_revision > deleted.mod_revision

    run_with(backend, body)


def test_delete_precondition(backend: Backend):
    k = backend.key("p")

    async def body(s: Store) -> None:
        kv = await s.create(k, b"v1")
        kv2 = await s.update(k, b"v2", kv.mod_revision)
        with pytest.raises(RevisionConflict) as err:
            await s.delete(k, expected_mod_revision=kv.mod_revision)
        assert err.value.actual == kv2
        assert (await s.get(k)).value == b"v2"
        gone = await s.delete(k, expected_mod_revision=kv2.mod_revision)
        assert gone.value == b"v2"

    run_with(backend, body)


def test_revisions_are_global_and_increase_by_one_per_write(backend: Backend):
    async def body(s: Store) -> None:
        start = await s.current_revision()
        a = await s.create(backend.key("a"), b"1")
        b = await s.create(backend.key("b"), b"1")
        a2 = await s.update(backend.key("a"), b"2", a.mod_revision)
        d = await s.delete(backend.key("b"))
        assert [a.mod_revision, b.mod_revision, a2.mod_revision, d.mod_revision] == [
            start + 1, start + 2, start + 3, start + 4]
        assert await s.current_revision() == start + 4

    run_with(backend, body)


def test_list_pages_at_one_revision_and_count(backend: Backend):
    p = backend.key("items/")

    async def body(s: Store) -> None:
        for i in range(25):
            await s.create(f"{p}{i:03d}", f"v{i}".encode())
        await s.create(backend.key("items-not/x"), b"outside")  # shares the text prefix minus "/"
        await s.create(backend.key("item"), b"outside")

        full = await s.list(p)
        assert [kv.key for kv in full.items] == [f"{p}{i:03d}" for i in range(25)]
        assert full.more is False and full.revision == await s.current_revision()
        assert await s.count(p) == 25

        pages: list[KeyValue] = []
        first = await s.list(p, limit=10)
        assert first.more and len(first.items) == 10
        pages += first.items
        # A write between pages must not show in the later pages: they read at first.revision.
        await s.update(f"{p}015", b"changed", (await s.get(f"{p}015")).mod_revision)
        await s.delete(f"{p}020")
        after = first.items[-1].key
        while True:
            page = await s.list(p, revision=first.revision, limit=10, start_after=after)
            pages += page.items
            assert page.revision == first.revision
            if not page.more:
                break
            after = page.items[-1].key
        assert pages == full.items
        assert await s.count(p) == 24

        exact = await s.list(p, limit=25)
        assert len(exact.items) == 24 and exact.more is False

    run_with(backend, body)


def test_get_and_list_at_an_old_revision(backend: Backend):
    a, b, c = backend.key("a"), backend.key("b"), backend.key("c")

    async def body(s: Store) -> None:
        kva = await s.create(a, b"a1")
        await s.create(b, b"b1")
        then = await s.current_revision()
        await s.update(a, b"a2", kva.mod_revision)
        await s.delete(b)
        await s.create(c, b"c1")

        old = await s.list(backend.prefix, revision=then)
        assert [(kv.key, kv.value) for kv in old.items] == [(a, b"a1"), (b, b"b1")]
        assert old.revision == then
        now = await s.list(backend.prefix)
        assert [(kv.key, kv.value) for kv in now.items] == [(a, b"a2"), (c, b"c1")]
        assert (await s.get(b, revision=then)).value == b"b1"
        assert (await s.get(a, revision=then)).value == b"a1"
        with pytest.raises(KeyNotFound):
            await s.get(c, revision=then)
        with pytest.raises(FutureRevision):
            await s.list(backend.prefix, revision=await s.current_revision() + 1000)

    run_with(backend, body)


def test_guaranteed_update_under_concurrent_writers(backend: Backend):
    k = backend.key("counter")
    writers, rounds = 8, 10

    async def body(s: Store) -> None:
        calls = 0

        async def increment(cur: KeyValue | None) -> bytes:
            nonlocal calls
            calls += 1
            await asyncio.sleep(0)  # let the other writers interleave between read and write
            return str(int(cur.value) + 1 if cur else 1).encode()

        async def writer() -> None:
            for _ in range(rounds):
                await s.guaranteed_update(k, increment, ignore_not_found=True)

        await asyncio.gather(*(writer() for _ in range(writers)))
        final = await s.get(k)
        assert int(final.value) == writers * rounds
        assert calls >= writers * rounds

    run_with(backend, body)


def test_guaranteed_update_no_change_abort_and_missing(backend: Backend):
    k = backend.key("g")

    async def body(s: Store) -> None:
        async def keep(cur: KeyValue | None) -> bytes | None:
            return None

        with pytest.raises(KeyNotFound):
            await s.guaranteed_update(k, keep)
        kv = await s.create(k, b"v")
        rev = await s.current_revision()
        assert await s.guaranteed_update(k, keep) == kv

        async def same(cur: KeyValue | None) -> bytes:
            assert cur is not None
            return cur.value

        assert await s.guaranteed_update(k, same) == kv

        async def refuse(cur: KeyValue | None) -> bytes:
            raise ValueError("invalid object")

        with pytest.raises(ValueError):
            await s.guaranteed_update(k, refuse)
        assert await s.current_revision() == rev  # nothing was written

    run_with(backend, body)


def test_watch_from_an_old_revision_replays_every_event_in_order(backend: Backend):
    p = backend.key("w/")

    async def body(s: Store) -> None:
        start = await s.current_revision()
        expected: list[tuple[str, str, bytes]] = []
        for i in range(20):
            kv = await s.create(f"{p}{i}", b"c")
            expected.append(("ADDED", kv.key, b"c"))
            await s.create(backend.key(f"other{i}"), b"not watched")
            if i % 2:
                kv = await s.update(kv.key, b"u", kv.mod_revision)
                expected.append(("MODIFIED", kv.key, b"u"))
            if i % 3 == 0:
                await s.delete(kv.key)
                expected.append(("DELETED", kv.key, kv.value))

        watch = s.watch(p, start)
        events = await take(watch, len(expected))
        assert [(e.type, e.kv.key, e.kv.value) for e in events] == expected
        revs = [e.kv.mod_revision for e in events]
        assert revs == sorted(revs) and len(set(revs)) == len(revs)
        for e in events:
            if e.type == "MODIFIED":
                assert e.prev is not None and e.prev.value == b"c"
            if e.type == "DELETED":
                assert e.prev is not None and e.prev.value == e.kv.value
                assert e.kv.mod_revision > e.prev.mod_revision

        # then it follows live writes
        live = await s.create(f"{p}live", b"l")
        (ev,) = await take(watch, 1)
        assert (ev.type, ev.kv) == ("ADDED", live)
        await watch.aclose()  # type: ignore[attr-defined]

    run_with(backend, body)


def test_watch_sees_every_write_of_concurrent_writers(backend: Backend):
    p = backend.key("cw/")
    writers, each = 5, 20

    async def body(s: Store) -> None:
        start = await s.current_revision()
        watch = s.watch(p, start)
        reader = asyncio.ensure_future(take(watch, writers * each))

        async def writer(w: int) -> list[int]:
            return [(await s.create(f"{p}{w}-{i}", b"x")).mod_revision for i in range(each)]

        acked = sorted(r for revs in await asyncio.gather(*(writer(w) for w in range(writers))) for r in revs)
        events = await reader
        assert [e.kv.mod_revision for e in events] == acked
        assert all(e.type == "ADDED" for e in events)

    run_with(backend, body)


def test_compaction_makes_old_revisions_gone(backend: Backend):
    k = backend.key("c")

    async def body(s: Store) -> None:
        kv = await s.create(k, b"0")
        early = kv.mod_revision
        for i in range(1, 6):
            kv = await s.update(k, str(i).encode(), kv.mod_revision)
        await s.create(backend.key("d"), b"gone soon")
        point = (await s.delete(backend.key("d"))).mod_revision
        await s.create(backend.key("e"), b"after")
        await s.compact(point)

        with pytest.raises(Compacted) as err:
            await s.list(backend.prefix, revision=early)
        assert err.value.status == 410
        with pytest.raises(Compacted):
            await s.get(k, revision=early)
        with pytest.raises(Compacted):
            await take(s.watch(backend.prefix, early), 1)

        assert (await s.get(k, revision=point)).value == b"5"
        assert [kv.key for kv in (await s.list(backend.prefix, revision=point)).items] == [k]
        assert [kv.key for kv in (await s.list(backend.prefix)).items] == [k, backend.key("e")]
        (ev,) = await take(s.watch(backend.prefix, point), 1)
        assert ev.kv.key == backend.key("e")
        await s.compact(point)  # compacting again at the same point is harmless

    run_with(backend, body)


def test_data_survives_reopen(backend: Backend):
    if not backend.durable:
        pytest.skip("memory is not durable")
    k = backend.key("keep")

    async def write(s: Store) -> int:
        await s.create(k, b"kept")
        return await s.current_revision()

    rev = run_with(backend, write)

    async def read(s: Store) -> None:
        assert (await s.get(k)).value == b"kept"
        assert await s.current_revision() == rev
        nxt = await s.create(backend.key("next"), b"n")
        assert nxt.mod_revision == rev + 1

    run_with(backend, read)


def test_watch_from_zero_starts_when_watch_is_called(backend: Backend):
    p = backend.key("z/")

    async def body(s: Store) -> None:
        await s.create(f"{p}before", b"b")
        watch = s.watch(p, 0)
        after = await s.create(f"{p}after", b"a")  # written before the first read of the watch
        (ev,) = await take(watch, 1)
        assert ev.kv == after
        await watch.aclose()  # type: ignore[attr-defined]

    run_with(backend, body)
