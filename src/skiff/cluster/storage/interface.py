"""The `Store` contract every cluster storage backend meets (memory, SQLite, etcd).

A store is a flat, ordered key space with one global revision, like etcd v3: every write
(create, update, delete) takes the next revision, and an object's `mod_revision` is its
Kubernetes resourceVersion. Values are opaque bytes (the API server's JSON).

Revision rules shared by every backend (the shared suite in tests/integration/storage
checks them):
- `get`/`list` at `revision=0` read the newest state; at `revision=R` the state right
  after revision R was written. `R` below the compaction point raises `Compacted`.
- `watch(prefix, R)` yields every event with revision > R, in revision order, none
  skipped. `R=0` means "from the newest revision this store instance
  knows when watch() is called" (etcd: the newest its responses carried). `R` below the
  compaction point raises `Compacted` (the API server answers 410 Gone).
- DELETED events carry the last value with `mod_revision` = the delete's revision.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from skiff.common.errors import Conflict, NotFound, SkiffError


@dataclass(frozen=True, slots=True)
class KeyValue:
    key: str
    value: bytes
    create_revision: int
    mod_revision: int


@dataclass(frozen=True, slots=True)
class Event:
    type: str  # "ADDED" | "MODIFIED" | "DELETED"
    kv: KeyValue
    prev: KeyValue | None

    @property
    def revision(self) -> int:
        return self.kv.mod_revision


@dataclass(frozen=True, slots=True)
class ListResult:
    items: list[KeyValue]
    revision: int
    more: bool


ADDED, MODIFIED, DELETED = "ADDED", "MODIFIED", "DELETED"


class StorageError(SkiffError):
    status = 500


class KeyExists(StorageError, Conflict):
    status = 409

    def __init__(self, key: str):
        super().__init__(f"key exists: {key}")
        self.key = key


class KeyNotFound(StorageError, NotFound):
    status = 404

    def __init__(self, key: str):
        super().__init__(f"key not found: {key}")
        self.key = key


class RevisionConflict(StorageError, Conflict):
    """A compare-and-swap precondition failed; `actual` is what the key holds now."""

    status = 409

    def __init__(self, key: str, expected: int, actual: KeyValue | None):
        have = actual.mod_revision if actual else "nothing"
        super().__init__(f"revision conflict on {key}: expected {expected}, found {have}")
        self.key = key
        self.expected = expected
        self.actual = actual


class StoreClosed(StorageError):
    """The store was closed: nothing more will come from it."""

    status = 503

    def __init__(self) -> None:
        super().__init__("store closed")


class Compacted(StorageError):
    """The revision asked for is older than the compaction point (the API's 410 Gone)."""

    status = 410

    def __init__(self, revision: int, compact_revision: int):
        super().__init__(
            f"required revision {revision} has been compacted (compacted up to {compact_revision})"
        )
        self.revision = revision
        self.compact_revision = compact_revision


class FutureRevision(StorageError):
    """A read at a revision the store has not reached yet (Kubernetes: "Too large resource version")."""

    status = 504

    def __init__(self, revision: int, current: int):
        super().__init__(f"Too large resource version: {revision}, current: {current}")
        self.revision = revision
        self.current = current


UpdateFn = Callable[[KeyValue | None], Awaitable[bytes | None]]


class Store(Protocol):
    async def get(self, key: str, revision: int = 0) -> KeyValue: ...

    async def list(
        self, prefix: str, *, revision: int = 0, limit: int = 0, start_after: str = ""
    ) -> ListResult: ...

    async def count(self, prefix: str) -> int: ...

    async def create(self, key: str, value: bytes) -> KeyValue: ...

    async def update(self, key: str, value: bytes, expected_mod_revision: int) -> KeyValue: ...

    async def guaranteed_update(
        self, key: str, fn: UpdateFn, *, ignore_not_found: bool = False
    ) -> KeyValue: ...

    async def delete(self, key: str, expected_mod_revision: int = 0) -> KeyValue: ...

    def watch(self, prefix: str, from_revision: int) -> AsyncIterator[Event]: ...

    async def current_revision(self) -> int: ...

    async def compact(self, revision: int) -> None: ...

    async def close(self) -> None: ...
