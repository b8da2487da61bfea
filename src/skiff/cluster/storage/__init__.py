"""Cluster storage: one revisioned key space behind the `Store` protocol.

Backends: SQLite (the embedded default), etcd v3, memory. `open_store` picks one from
k3s's `--datastore-endpoint` value. `cache.CachedStore` is the API server's watch cache.
"""

from __future__ import annotations

from skiff.cluster.storage.interface import (
    ADDED,
    DELETED,
    MODIFIED,
    Compacted,
    Event,
    FutureRevision,
    KeyExists,
    KeyNotFound,
    KeyValue,
    ListResult,
    RevisionConflict,
    StorageError,
    Store,
    StoreClosed,
)

__all__ = [
    "ADDED", "DELETED", "MODIFIED", "Compacted", "Event", "FutureRevision", "KeyExists",
    "KeyNotFound", "KeyValue", "ListResult", "RevisionConflict", "StorageError", "Store", "StoreClosed",
    "open_store",
]


def open_store(endpoint: str, data_dir: str) -> Store:
    """"" -> SQLite at DATA_DIR/db/state.db; "memory://" -> memory;
    "http://h:2379[,http://h2:2379]" -> etcd; "sqlite:///path/to.db" -> SQLite at that path."""
    from skiff.common.errors import InvalidArgument

    if endpoint in ("", "sqlite://"):
        import os

        from skiff.cluster.storage.sqlite import SqliteStore

        return SqliteStore(os.path.join(data_dir, "db", "state.db"))
    if endpoint.startswith("sqlite://"):
        from skiff.cluster.storage.sqlite import SqliteStore

        return SqliteStore(endpoint.removeprefix("sqlite://"))
    if endpoint == "memory://":
        from skiff.cluster.storage.memory import MemoryStore

        return MemoryStore()
    if endpoint.startswith(("http://", "https://")):
        from skiff.cluster.storage.etcd import EtcdStore

        return EtcdStore(endpoint.split(","))
    raise InvalidArgument(f"unsupported datastore endpoint {endpoint!r}: want '', sqlite://PATH, memory:// or http://HOST:2379")
