"""engine/trash.py: trees handed over are deleted in the background; flush waits for them."""

import os
from pathlib import Path

from skiff.engine import trash
from skiff.engine.containers.store import RECORD, ContainerStore


def _tree(root: Path) -> Path:
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "f").write_text("x")
    os.symlink("/etc", root / "a" / "link")  # deleted as a link, never followed
    return root


def test_discarded_trees_are_gone_after_flush(tmp_path):
    trees = [_tree(tmp_path / f"t{i}") for i in range(5)]
    for t in trees:
        trash.discard(str(t))
    assert trash.flush(10)
    assert not any(t.exists() for t in trees)
    assert os.path.isdir("/etc")
    trash.discard(str(tmp_path / "missing"))  # already gone: no error
    assert trash.flush(10)


def test_container_store_load_sweeps_directories_without_a_record(tmp_path):
    kept, orphan = "a" * 64, "b" * 64
    (tmp_path / kept).mkdir()
    (tmp_path / kept / RECORD).write_text("not json")  # unreadable: skipped, but not deleted
    (tmp_path / orphan / "rootfs").mkdir(parents=True)
    (tmp_path / "other").mkdir()  # not a container id: left alone
    assert ContainerStore(tmp_path).load_all() == []
    assert trash.flush(10)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([kept, "other"])
