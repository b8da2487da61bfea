"""SnapshotStore persistence: committed snapshots in metadata.json, active ones in <id>/info.json,
reloading after a crash at any step, and data roots written by engines before the split."""

import os

import orjson

from skiff.engine.snapshots.metadata import SnapshotStore


def meta(root):
    return orjson.loads((root / "metadata.json").read_bytes())


def test_active_snapshots_do_not_rewrite_metadata(tmp_path):
    store = SnapshotStore(tmp_path)
    layer = store.create("L", None, "active", None)
    store.commit("sha256:l", "L", None)
    before = (tmp_path / "metadata.json").read_bytes()
    c = store.create("c1", "sha256:l", "active", {"a": "b"})
    assert (tmp_path / "metadata.json").read_bytes() == before
    assert (tmp_path / c.id / "info.json").exists()
    assert list(meta(tmp_path)["snapshots"]) == ["sha256:l"]
    again = SnapshotStore(tmp_path)
    assert again.get("c1") == c and again.get("sha256:l").id == layer.id
    store.remove("c1")
    assert not (tmp_path / c.id / "info.json").exists()


def test_reload_keeps_ids_unique(tmp_path):
    store = SnapshotStore(tmp_path)
    ids = {store.create(f"k{i}", None, "active", None).id for i in range(3)}
    again = SnapshotStore(tmp_path)
    assert again.create("k9", None, "active", None).id not in ids


def test_commit_interrupted_before_unlink(tmp_path):
    store = SnapshotStore(tmp_path)
    s = store.create("k", None, "active", None)
    info = (tmp_path / s.id / "info.json").read_bytes()
    store.commit("sha256:x", "k", None)
    (tmp_path / s.id / "info.json").write_bytes(info)  # as if the engine died before the unlink
    again = SnapshotStore(tmp_path)
    assert again.exists("sha256:x") and not again.exists("k")
    assert not (tmp_path / s.id / "info.json").exists()


def test_half_created_or_removed_directories_are_dropped(tmp_path):
    store = SnapshotStore(tmp_path)
    keep = store.create("keep", None, "active", None)
    os.makedirs(tmp_path / "77" / "fs")  # a directory whose record was never written (or already unlinked)
    again = SnapshotStore(tmp_path)
    assert not (tmp_path / "77").exists() and (tmp_path / keep.id).exists()
    assert again.create("next", None, "active", None).id == "78"


def test_legacy_metadata_with_active_snapshots(tmp_path):
    os.makedirs(tmp_path / "1" / "fs")
    os.makedirs(tmp_path / "2" / "fs")
    (tmp_path / "metadata.json").write_bytes(orjson.dumps({"next": 3, "snapshots": {
        "sha256:l": {"kind": "committed", "parent": None, "id": "1", "created": 1.0, "labels": {}},
        "c1": {"kind": "active", "parent": "sha256:l", "id": "2", "created": 2.0, "labels": {"x": "y"}}}}))
    store = SnapshotStore(tmp_path)
    assert store.get("c1").parent == "sha256:l" and store.get("c1").labels == {"x": "y"}
    assert list(meta(tmp_path)["snapshots"]) == ["sha256:l"]
    assert (tmp_path / "2" / "info.json").exists()
    again = SnapshotStore(tmp_path)
    assert {s.key for s in again.all()} == {"sha256:l", "c1"}
