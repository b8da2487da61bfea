"""One suite every snapshotter passes (no mounts here: the root-only suite mounts overlay)."""

import os

import pytest

from skiff.common.errors import Conflict, InvalidArgument, NotFound
from skiff.engine.snapshots.native import NativeSnapshotter, new_snapshotter
from skiff.engine.snapshots.overlay import OverlaySnapshotter


@pytest.fixture(params=["overlay", "native"])
def snap(request, tmp_path):
    return new_snapshotter(request.param, tmp_path / "snapshots")


def write(snap, key, rel, text):
    path = os.path.join(snap.upper_dir(key), rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def test_prepare_commit_chain(snap):
    snap.prepare("k1", None)
    write(snap, "k1", "a/one", "1")
    snap.commit("L1", "k1")
    assert not snap.exists("k1") and snap.exists("L1")
    assert snap.stat("L1").kind == "committed"
    mounts = snap.prepare("k2", "L1")
    assert mounts and mounts[0].type in ("overlay", "bind")
    write(snap, "k2", "b/two", "22")
    snap.commit("L2", "k2")
    snap.prepare("c", "L2")
    assert snap.stat("c").parent == "L2"
    lowers = snap.lower_dirs("c")
    assert len(lowers) == 2 and lowers[0] == snap.upper_dir("L2")
    assert snap.usage("L2") >= 2


def test_mounts_shapes(snap):
    snap.prepare("k1", None)
    snap.commit("L1", "k1")
    snap.prepare("k2", "L1")
    snap.commit("L2", "k2")
    m = snap.mounts(snap.prepare("c", "L2") and "c")
    if isinstance(snap, OverlaySnapshotter):
        assert m[0].type == "overlay"
        opts = dict(o.split("=", 1) for o in m[0].options)
        assert opts["lowerdir"].split(":") == snap.lower_dirs("c")
        assert opts["upperdir"] == snap.upper_dir("c") and os.path.isdir(opts["workdir"])
        v = snap.view("v", "L2")
        assert v[0].type == "overlay" and not any(o.startswith("upperdir") for o in v[0].options)
    else:
        assert m[0].type == "bind" and "rw" in m[0].options
        assert os.path.isdir(m[0].source)
    assert m[0].to_oci()["destination"] == "/"


def test_remove_refuses_parent_with_children(snap):
    snap.prepare("k1", None)
    snap.commit("L1", "k1")
    snap.prepare("c", "L1")
    with pytest.raises(Conflict):
        snap.remove("L1")
    snap.remove("c")
    snap.remove("L1")
    assert snap.list() == []
    with pytest.raises(NotFound):
        snap.stat("L1")


def test_errors(snap):
    snap.prepare("k1", None)
    with pytest.raises(Conflict):
        snap.prepare("k1", None)
    with pytest.raises(InvalidArgument):
        snap.prepare("k2", "k1")  # parent must be committed
    with pytest.raises(NotFound):
        snap.prepare("k3", "missing")
    snap.commit("L1", "k1")
    with pytest.raises(InvalidArgument):
        snap.commit("L2", "L1")  # only active snapshots commit
    with pytest.raises(NotFound):
        snap.commit("L3", "missing")


def test_metadata_persists(snap, tmp_path):
    snap.prepare("k1", None, labels={"a": "b"})
    write(snap, "k1", "f", "x")
    snap.commit("L1", "k1", labels={"c": "d"})
    snap.prepare("c", "L1")
    again = type(snap)(snap.root)
    assert again.stat("L1").labels == {"a": "b", "c": "d"}
    assert again.stat("c").parent == "L1"
    assert again.lower_dirs("c") == snap.lower_dirs("c")


def test_native_copies_parent(tmp_path):
    snap = NativeSnapshotter(tmp_path / "s")
    snap.prepare("k1", None)
    write(snap, "k1", "etc/x", "base")
    snap.commit("L1", "k1")
    snap.prepare("c", "L1")
    with open(os.path.join(snap.upper_dir("c"), "etc/x")) as f:
        assert f.read() == "base"
    write(snap, "c", "etc/x", "changed")
    with open(os.path.join(snap.upper_dir("L1"), "etc/x")) as f:
        assert f.read() == "base"


def test_overlay_long_chains_still_describe_every_layer(tmp_path):
    snap = OverlaySnapshotter(tmp_path.joinpath(*["d" * 200] * 4))
    parent = None
    for i in range(10):
        snap.prepare(f"k{i}", parent)
        snap.commit(f"L{i}", f"k{i}")
        parent = f"L{i}"
    m = snap.prepare("c", parent)[0]
    assert len(",".join(m.options)) > 4096  # mounting.mount_all handles it with the new mount API
    assert m.options[0] == "lowerdir=" + ":".join(snap.lower_dirs("c"))
