"""Objects in storage: keys, (de)serialisation, and timed calls to the Store and its watch cache.

An object is stored as JSON without metadata.resourceVersion; on the way out resourceVersion
is set from the key's mod_revision, as kube-apiserver's etcd3 storage does.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import orjson

from skiff.cluster.apiserver.metrics import Metrics
from skiff.cluster.storage.interface import Event, FutureRevision, KeyValue, ListResult, Store, UpdateFn

if TYPE_CHECKING:
    from skiff.cluster.storage.cache import CachedStore

ROOT = "/registry/"


def resource_prefix(group: str, resource: str) -> str:
    """Storage prefix of a resource; versions of one group share it (autoscaling v1 and v2)."""
    return f"{ROOT}{resource}/" if not group else f"{ROOT}{group}/{resource}/"


def list_prefix(group: str, resource: str, namespace: str) -> str:
    base = resource_prefix(group, resource)
    return f"{base}{namespace}/" if namespace else base


def object_key(group: str, resource: str, namespace: str, name: str) -> str:
    return f"{list_prefix(group, resource, namespace)}{name}"


def decode(kv: KeyValue) -> dict[str, Any]:
    obj = orjson.loads(kv.value)
    obj.setdefault("metadata", {})["resourceVersion"] = str(kv.mod_revision)
    return obj


def encode(obj: dict[str, Any]) -> bytes:
    meta = obj.get("metadata") or {}
    if "resourceVersion" in meta:
        meta = {k: v for k, v in meta.items() if k != "resourceVersion"}
        obj = {**obj, "metadata": meta}
    return orjson.dumps(obj)


class ObjectStore:
    """The Store (writes, quorum reads) and a reader in front of it (the watch cache, or the store)."""

    def __init__(self, store: Store, metrics: Metrics, reader: CachedStore | None = None):
        self.store = store
        # The watch cache serves "not older than" reads and sends watch progress (bookmarks) itself.
        self.cache = reader
        self.metrics = metrics

    @property
    def cached(self) -> bool:
        return self.cache is not None

    def _timed(self, op: str, key: str, started: float) -> None:
        parts = key[len(ROOT):].split("/")
        self.metrics.storage_call(op, parts[0] if parts else "", time.monotonic() - started)

    async def get(self, key: str, revision: int = 0) -> KeyValue:
        t = time.monotonic()
        try:
            return await self.store.get(key, revision)
        finally:
            self._timed("get", key, t)

    async def list(self, prefix: str, *, revision: int = 0, limit: int = 0, start_after: str = "",
                   min_revision: int | None = None) -> ListResult:
        """A list through the watch cache: consistent (revision 0), exact (revision R), or not older
        than `min_revision` (FutureRevision when the store has not reached it)."""
        t = time.monotonic()
        try:
            if self.cache is not None:
                return await self.cache.list(prefix, revision=revision, limit=limit, start_after=start_after,
                                              min_revision=min_revision)
            if min_revision:
                current = await self.store.current_revision()
                if min_revision > current:
                    raise FutureRevision(min_revision, current)
            return await self.store.list(prefix, revision=revision, limit=limit, start_after=start_after)
        finally:
            self._timed("list", prefix, t)

    async def get_cached(self, key: str, min_revision: int = 0) -> KeyValue:
        """A read from the watch cache at `min_revision` or later (0: whatever it has), as admission
        reads its informers; FutureRevision if the store has not reached it."""
        if self.cache is None:
            if min_revision > await self.store.current_revision():
                raise FutureRevision(min_revision, await self.store.current_revision())
            return await self.store.get(key)
        return await self.cache.get(key, min_revision=min_revision)

    async def count(self, prefix: str) -> int:
        return await self.store.count(prefix)

    async def create(self, key: str, value: bytes) -> KeyValue:
        t = time.monotonic()
        try:
            return await self.store.create(key, value)
        finally:
            self._timed("create", key, t)

    async def guaranteed_update(self, key: str, fn: UpdateFn, *, ignore_not_found: bool = False) -> KeyValue:
        t = time.monotonic()
        try:
            return await self.store.guaranteed_update(key, fn, ignore_not_found=ignore_not_found)
        finally:
            self._timed("update", key, t)

    async def delete(self, key: str, expected_mod_revision: int = 0) -> KeyValue:
        t = time.monotonic()
        try:
            return await self.store.delete(key, expected_mod_revision)
        finally:
            self._timed("delete", key, t)

    def watch(self, prefix: str, from_revision: int, progress_interval: float = 0.0) -> AsyncIterator[Event]:
        """Events after from_revision; with the cache, BOOKMARK events every progress_interval when idle."""
        if self.cache is not None:
            return self.cache.watch(prefix, from_revision, progress_interval=progress_interval)
        return self.store.watch(prefix, from_revision)

    def watch_batches(self, prefix: str, from_revision: int,
                      progress_interval: float = 0.0) -> AsyncIterator[builtins.list[Event]]:
        """`watch` in lists: from the cache, what arrived together; from the store, one event each."""
        if self.cache is not None:
            return self.cache.watch_batches(prefix, from_revision, progress_interval=progress_interval)
        return _singletons(self.store.watch(prefix, from_revision))

    async def current_revision(self) -> int:
        return await self.store.current_revision()


async def _singletons(events: AsyncIterator[Event]) -> AsyncIterator[list[Event]]:
    try:
        async for ev in events:
            yield [ev]
    finally:
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()
