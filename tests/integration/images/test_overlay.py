"""Overlay snapshots mounted for real: layers, whiteouts, opaque dirs, commit and diff (root)."""

import asyncio
import contextlib
import ctypes
import io
import os
import subprocess
import tarfile

import pytest

from skiff.engine.images.service import ImageService
from skiff.engine.snapshots.mounting import mount_all
from skiff.engine.snapshots.overlay import OverlaySnapshotter
from tests.unit.images.tarbuild import make_tar

pytestmark = pytest.mark.root

libc = ctypes.CDLL(None, use_errno=True)


def mount(mounts, target):
    m = mounts[0]
    if m.type == "bind":
        flags = 4096 | 16384  # MS_BIND | MS_REC
        ok = libc.mount(m.source.encode(), str(target).encode(), None, flags, None)
    else:
        data = ",".join(m.options).encode()
        ok = libc.mount(b"overlay", str(target).encode(), b"overlay", 0, data)
    if ok != 0:
        raise OSError(ctypes.get_errno(), f"mount {m}")


@contextlib.contextmanager
def mounted(mounts, target):
    os.makedirs(target, exist_ok=True)
    mount(mounts, target)
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def svc(tmp_path):
    return ImageService(tmp_path / "root", snapshotter="overlay")


def load_layers(svc, layers, name="layered:latest"):
    """A docker-archive with the given layer tarballs, loaded into svc."""
    import hashlib
    import json
    diff_ids = ["sha256:" + hashlib.sha256(layer).hexdigest() for layer in layers]
    cfg = json.dumps({"os": "linux", "architecture": "amd64", "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    cfg_name = hashlib.sha256(cfg).hexdigest() + ".json"
    entries = [("f", cfg_name, cfg)] + [("f", f"{i}/layer.tar", layer) for i, layer in enumerate(layers)]
    entries.append(("f", "manifest.json", json.dumps([{"Config": cfg_name, "RepoTags": [name],
                                                        "Layers": [f"{i}/layer.tar" for i in range(len(layers))]}])))
    run(svc.load(io.BytesIO(make_tar(entries))))
    return svc.get(name)


def listing(root):
    out = set()
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            out.add(os.path.relpath(os.path.join(dirpath, n), root))
    return out


def test_whiteouts_and_opaque_dirs_through_overlay(svc, tmp_path):
    l1 = make_tar([("f", "a/keep", "1"), ("f", "a/gone", "2"), ("d", "b"), ("f", "b/x", "3"),
                   ("f", "o/old", "4"), ("f", "top", "v1")])
    l2 = make_tar([("f", "a/.wh.gone", ""), ("f", ".wh.b", ""), ("d", "o"), ("f", "o/.wh..wh..opq", ""),
                   ("f", "o/new", "5"), ("f", "top", "v2")])
    load_layers(svc, [l1, l2])
    mounts = svc.prepare_rootfs("c1", "layered")
    assert mounts[0].type == "overlay"
    with mounted(mounts, tmp_path / "mnt") as mnt:
        assert listing(mnt) == {"a", "a/keep", "o", "o/new", "top"}
        with open(mnt / "top") as f:
            assert f.read() == "v2"
        # container writes through overlay
        os.unlink(mnt / "a/keep")
        with open(mnt / "o/added", "w") as f:
            f.write("x")
        changes = run(svc.rootfs_changes("c1"))
        assert {"Path": "/a/keep", "Kind": 2} in changes and {"Path": "/o/added", "Kind": 1} in changes
        assert {"Path": "/a", "Kind": 0} in changes
    iid = run(svc.commit("c1", "layered", "committed", "v1"))
    with svc.content.open(svc.get(iid).diff_ids[-1]) as f, tarfile.open(fileobj=f) as tar:
        names = set(tar.getnames())
    assert "a/.wh.keep" in names and "o/added" in names
    with mounted(svc.prepare_rootfs("c2", "committed:v1"), tmp_path / "mnt2") as mnt2:
        assert listing(mnt2) == {"a", "o", "o/new", "o/added", "top"}
    buf = io.BytesIO()
    run(svc.export_rootfs("c2", buf))
    buf.seek(0)
    with tarfile.open(fileobj=buf) as tar:
        assert set(tar.getnames()) == {"a", "o", "o/new", "o/added", "top"}
    svc.remove_rootfs("c1")
    svc.remove_rootfs("c2")


def test_busybox_runs_from_overlay_rootfs(svc, busybox_archive, tmp_path):
    with open(busybox_archive, "rb") as f:
        run(svc.load(f))
    with mounted(svc.prepare_rootfs("c1", "busybox"), tmp_path / "mnt") as mnt:
        out = subprocess.run(["chroot", str(mnt), "/bin/sh", "-c", "echo hi > /tmp/f; cat /tmp/f; ls /bin | wc -l"],
                             capture_output=True, text=True, check=True).stdout.split()
        assert out[0] == "hi" and int(out[1]) > 50
    assert os.path.exists(os.path.join(svc.rootfs_upper_dir("c1"), "tmp/f"))
    svc.remove_rootfs("c1")
    assert run(svc.prune(all=True))["ImagesDeleted"]
    assert svc.snapshotter.list() == []


@pytest.mark.parametrize("layers,long_root", [(60, False), (150, True)])
def test_many_layers_mount(tmp_path, layers, long_root):
    root = tmp_path.joinpath(*["d" * 100] * 3) if long_root else tmp_path / "s"
    snap = OverlaySnapshotter(root)
    parent = None
    for i in range(layers):
        snap.prepare(f"k{i}", parent)
        with open(os.path.join(snap.upper_dir(f"k{i}"), f"f{i}"), "w") as f:
            f.write(str(i))
        snap.commit(f"L{i}", f"k{i}")
        parent = f"L{i}"
    mounts = snap.prepare("c", parent)
    assert len(",".join(mounts[0].options)) > 4096 or not long_root
    target = tmp_path / "mnt"
    target.mkdir()
    mount_all(mounts, str(target))
    try:
        assert len(os.listdir(target)) == layers
        with open(target / "f0") as f:
            assert f.read() == "0"
        with open(target / "new", "w") as f:
            f.write("upper")
        assert os.path.exists(os.path.join(snap.upper_dir("c"), "new"))
    finally:
        subprocess.run(["umount", str(target)], check=True)
