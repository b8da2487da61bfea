import os
import shutil

from skiff.engine.images.changes import ADDED, DELETED, MODIFIED, merged_tree, tree_changes


def write(path, text="x"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def test_tree_changes(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    write(old / "etc/passwd", "root")
    write(old / "etc/gone", "g")
    write(old / "var/dir/f", "f")
    write(old / "same", "s")
    shutil.copytree(old, new, symlinks=True)
    write(new / "etc/passwd", "root+more")
    os.unlink(new / "etc/gone")
    shutil.rmtree(new / "var/dir")
    write(new / "added/deep/file", "n")
    got = {(c.path, c.kind) for c in tree_changes(str(new), str(old))}
    assert got == {("/etc", MODIFIED), ("/etc/passwd", MODIFIED), ("/etc/gone", DELETED),
                   ("/var", MODIFIED), ("/var/dir", DELETED),
                   ("/added", ADDED), ("/added/deep", ADDED), ("/added/deep/file", ADDED)}


def test_tree_changes_from_nothing(tmp_path):
    write(tmp_path / "a/b", "1")
    assert [(c.path, c.kind) for c in tree_changes(str(tmp_path), None)] == [("/a", ADDED), ("/a/b", ADDED)]


def test_merged_tree_nearest_layer_wins(tmp_path):
    top, bottom = tmp_path / "top", tmp_path / "bottom"
    write(bottom / "etc/a", "old")
    write(bottom / "etc/b", "b")
    write(top / "etc/a", "new")
    write(top / "extra", "e")
    merged = dict(merged_tree([str(top), str(bottom)]))
    assert set(merged) == {"etc", "etc/a", "etc/b", "extra"}
    assert merged["etc/a"] == str(top / "etc/a") and merged["etc/b"] == str(bottom / "etc/b")
