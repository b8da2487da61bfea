"""open_store picks the backend from k3s's --datastore-endpoint values."""

from __future__ import annotations

import pytest

from skiff.cluster.storage import open_store
from skiff.cluster.storage.etcd import EtcdStore
from skiff.cluster.storage.keys import prefix_end, prefix_end_bytes
from skiff.cluster.storage.memory import MemoryStore
from skiff.cluster.storage.sqlite import SqliteStore
from skiff.common.errors import InvalidArgument


def test_endpoints(tmp_path):
    default = open_store("", str(tmp_path))
    assert isinstance(default, SqliteStore) and default.path == str(tmp_path / "db" / "state.db")
    assert (tmp_path / "db" / "state.db").exists()
    explicit = open_store(f"sqlite://{tmp_path}/other.db", "")
    assert isinstance(explicit, SqliteStore) and explicit.path == f"{tmp_path}/other.db"
    assert isinstance(open_store("memory://", ""), MemoryStore)
    assert isinstance(open_store("http://127.0.0.1:2379,http://127.0.0.2:2379", ""), EtcdStore)
    with pytest.raises(InvalidArgument, match="unsupported datastore endpoint 'mysql://x'"):
        open_store("mysql://x", "")


def test_prefix_end():
    assert prefix_end("/registry/pods/") == "/registry/pods0"
    assert prefix_end("") == ""
    assert prefix_end_bytes(b"/a") == b"/b"
    assert prefix_end_bytes(b"a\xff") == b"b"
    assert prefix_end_bytes(b"") == b"\0"
