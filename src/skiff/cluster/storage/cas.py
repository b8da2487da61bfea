"""guaranteed_update: read, transform, compare-and-swap, and retry on conflict.

The same loop serves every backend, built from its get/create/update primitives, as
Kubernetes' GuaranteedUpdate is built on etcd's transactions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from skiff.cluster.storage.interface import KeyExists, KeyNotFound, KeyValue, RevisionConflict, UpdateFn

if TYPE_CHECKING:
    from skiff.cluster.storage.interface import Store

MAX_ATTEMPTS = 1000  # a livelock guard; real contention resolves in a handful of tries


async def guaranteed_update(
    store: Store, key: str, fn: UpdateFn, *, ignore_not_found: bool = False
) -> KeyValue:
    """Apply `fn` to the key's current value until the write lands without a conflict.

    `fn` gets the current KeyValue (None when the key is missing and `ignore_not_found`)
    and returns the new value, or None to leave the key as it is (the current KeyValue
    is returned). `fn` may raise to abort; the exception propagates unchanged.
    """
    current: KeyValue | None
    try:
        current = await store.get(key)
    except KeyNotFound:
        if not ignore_not_found:
            raise
        current = None
    for _ in range(MAX_ATTEMPTS):
        new_value = await fn(current)
        if new_value is None:
            if current is None:
                raise KeyNotFound(key)
            return current
        try:
            if current is None:
                return await store.create(key, new_value)
            if new_value == current.value:
                return current  # nothing changed: no write, no new revision (as Kubernetes does)
            return await store.update(key, new_value, current.mod_revision)
        except KeyExists:
            current = await _reread(store, key, ignore_not_found)
        except RevisionConflict as e:
            if e.actual is None and not ignore_not_found:
                raise KeyNotFound(key) from None
            current = e.actual
        except KeyNotFound:
            if not ignore_not_found:
                raise
            current = None
    raise RevisionConflict(key, current.mod_revision if current else 0, current)


async def _reread(store: Store, key: str, ignore_not_found: bool) -> KeyValue | None:
    try:
        return await store.get(key)
    except KeyNotFound:
        if not ignore_not_found:
            raise
        return None
