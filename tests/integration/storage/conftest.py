"""The storage suite's backends: every test here runs against memory, SQLite and etcd,
and against the watch cache in front of memory and SQLite.

etcd is Debian's etcd-server, started once per session on loopback (tests/support/etcd.py);
each test works under its own key prefix, so tests never see each other's keys.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from skiff.cluster.storage import Store, open_store
from skiff.cluster.storage.cache import CachedStore
from tests.support.etcd import Etcd, have_etcd


@dataclass
class Backend:
    name: str
    endpoint: str
    data_dir: Path
    prefix: str  # this test's key space
    durable: bool
    server: Etcd | None = None  # the etcd server, for tests that crash it
    _memory: Store | None = None

    def open(self) -> Store:
        if self.name.startswith("cached-"):
            # the watch cache in front of the backend must keep the same contract
            return CachedStore(self._open_backend(), root="/")
        return self._open_backend()

    def _open_backend(self) -> Store:
        if self.name.endswith("memory"):
            if self._memory is None:
                self._memory = open_store("memory://", "")
            return self._memory
        return open_store(self.endpoint, str(self.data_dir))

    def key(self, name: str) -> str:
        return self.prefix + name


@pytest.fixture(scope="session")
def etcd_server():
    if not have_etcd():
        pytest.skip("etcd-server is not installed")
    server = Etcd().start()
    yield server
    server.cleanup()


@pytest.fixture(params=["memory", "sqlite", pytest.param("etcd", marks=pytest.mark.interop),
                        "cached-memory", "cached-sqlite", pytest.param("cached-etcd", marks=pytest.mark.interop)])
def backend(request, tmp_path) -> Backend:
    prefix = f"/t{uuid.uuid4().hex[:8]}/"
    if request.param.endswith("memory"):
        return Backend(request.param, "memory://", tmp_path, prefix, durable=False)
    if request.param.endswith("sqlite"):
        return Backend(request.param, "", tmp_path, prefix, durable=True)
    etcd = request.getfixturevalue("etcd_server")
    return Backend(request.param, etcd.endpoint, tmp_path, prefix, durable=True, server=etcd)


def run_with(backend: Backend, body: Callable[[Store], Awaitable[Any]], timeout: float = 60) -> Any:
    """Open the backend's store in a fresh event loop, run `body(store)`, close it."""

    async def main() -> Any:
        store = backend.open()
        if isinstance(store, CachedStore):
            await store.start()  # as the API server does before serving
        try:
            return await asyncio.wait_for(body(store), timeout)
        finally:
            await store.close()

    return asyncio.run(main())
