import io
import os
import tarfile

import pytest

from skiff.common.errors import InvalidArgument
from skiff.engine.images.unpack import apply_layer
from tests.unit.images.tarbuild import make_tar


def unpack(dest, entries, fmt="native"):
    return apply_layer(io.BytesIO(make_tar(entries)), str(dest), fmt)


def tree(root):
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            rel = os.path.relpath(p, root)
            if os.path.islink(p):
                out[rel] = "->" + os.readlink(p)
            elif os.path.isdir(p):
                out[rel] = "/"
            else:
                with open(p) as f:
                    out[rel] = f.read()
    return out


def test_plain_layer(tmp_path):
    size = unpack(tmp_path, [("d", "etc"), ("f", "etc/a", "AA"), ("l", "bin/sh", "/bin/busybox"),
                             ("h", "etc/b", "etc/a"), ("f", "./deep/er/file", "x")])
    assert tree(tmp_path) == {"etc": "/", "etc/a": "AA", "etc/b": "AA", "bin": "/", "bin/sh": "->/bin/busybox",
                              "deep": "/", "deep/er": "/", "deep/er/file": "x"}
    assert os.stat(tmp_path / "etc/a").st_ino == os.stat(tmp_path / "etc/b").st_ino
    assert size == 3
    assert (tmp_path / "etc/a").stat().st_mtime == 1_700_000_000


def test_native_whiteouts_remove_lower_files(tmp_path):
    unpack(tmp_path, [("f", "a/keep", "1"), ("f", "a/gone", "2"), ("d", "b"), ("f", "b/x", "3"), ("f", "o/old", "4")])
    unpack(tmp_path, [("f", "a/.wh.gone", ""), ("f", ".wh.b", ""), ("d", "o"), ("f", "o/.wh..wh..opq", ""),
                      ("f", "o/new", "5")])
    assert tree(tmp_path) == {"a": "/", "a/keep": "1", "o": "/", "o/new": "5"}


def test_whiteout_does_not_hide_same_layer_file(tmp_path):
    unpack(tmp_path, [("f", "f", "same layer"), ("f", ".wh.f", "")])
    assert tree(tmp_path) == {"f": "same layer"}


def test_opaque_keeps_entries_written_earlier_in_same_layer(tmp_path):
    unpack(tmp_path, [("f", "o/old", "1")])
    unpack(tmp_path, [("f", "o/new", "2"), ("f", "o/.wh..wh..opq", "")])
    assert tree(tmp_path) == {"o": "/", "o/new": "2"}


def test_entry_replaces_existing_of_other_type(tmp_path):
    unpack(tmp_path, [("d", "x"), ("f", "x/inner", "1"), ("l", "y", "/etc")])
    unpack(tmp_path, [("f", "x", "now a file"), ("f", "y", "not a link")])
    assert tree(tmp_path) == {"x": "now a file", "y": "not a link"}


@pytest.mark.parametrize("entries,why", [
    ([("f", "../escape", "x")], ".."),
    ([("f", "a/../../escape", "x")], ".."),
    ([("f", "/etc/escape", "x")], "absolute"),
    ([("l", "link", "/"), ("f", "link/escape", "x")], "symlink"),
    ([("l", "link", "../../.."), ("f", "link/escape", "x")], "symlink"),
    ([("d", "a"), ("l", "a/up", ".."), ("f", "a/up/up/escape", "x")], "symlink"),
    ([("h", "hard", "../../etc/passwd")], ".."),
    ([("h", "hard", "/etc/passwd")], "absolute"),
    ([("l", "l", "/etc"), ("h", "hard", "l/passwd")], "symlink"),
    ([("h", "hard", "missing")], "missing"),
])
def test_malicious_tarballs_are_refused(tmp_path, entries, why):
    dest = tmp_path / "layer"
    dest.mkdir()
    outside = tmp_path / "escape"
    with pytest.raises(InvalidArgument) as e:
        unpack(dest, [("f", "ok", "fine"), *entries])
    assert why in e.value.message
    assert e.value.status == 400
    assert not outside.exists()
    assert sorted(os.listdir(tmp_path)) == ["layer"]


def test_symlink_in_lower_layer_is_not_followed(tmp_path):
    dest = tmp_path / "layer"
    dest.mkdir()
    unpack(dest, [("l", "etc", "/etc")])
    with pytest.raises(InvalidArgument, match="symlink"):
        unpack(dest, [("f", "etc/passwd", "owned")])
    # a file entry replaces the symlink itself instead of writing through it
    unpack(dest, [("f", "etc", "plain")])
    assert tree(dest) == {"etc": "plain"}


def test_corrupt_and_truncated_layers(tmp_path):
    data = make_tar([("f", "big", "x" * 5000)])
    with pytest.raises(InvalidArgument, match="invalid layer"):
        apply_layer(io.BytesIO(data[:2000]), str(tmp_path), "native")
    with pytest.raises(InvalidArgument, match="invalid layer"):
        apply_layer(io.BytesIO(b"\x00garbage" * 100), str(tmp_path), "native")


def test_overlay_format_whiteouts_need_root_or_write_devices(tmp_path):
    dest = tmp_path / "upper"
    dest.mkdir()
    if os.geteuid() != 0:
        with pytest.raises(InvalidArgument, match="root"):
            unpack(dest, [("f", ".wh.gone", "")], fmt="overlay")
        return
    unpack(dest, [("f", ".wh.gone", ""), ("d", "o"), ("f", "o/.wh..wh..opq", "")], fmt="overlay")
    st = os.lstat(dest / "gone")
    assert os.major(st.st_rdev) == 0 and os.minor(st.st_rdev) == 0 and (st.st_mode & 0o170000) == 0o020000
    assert os.getxattr(dest / "o", "trusted.overlay.opaque") == b"y"
    assert not os.path.exists(dest / "o/.wh..wh..opq")


def test_device_nodes(tmp_path, monkeypatch):
    from skiff.engine.images import unpack as unpack_mod
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        ti = tarfile.TarInfo("dev/null")
        ti.type, ti.devmajor, ti.devminor, ti.mode = tarfile.CHRTYPE, 1, 3, 0o666
        tar.addfile(ti)
        fifo = tarfile.TarInfo("run/fifo")
        fifo.type, fifo.mode = tarfile.FIFOTYPE, 0o600
        tar.addfile(fifo)
    if os.geteuid() == 0:
        (tmp_path / "a").mkdir()
        apply_layer(io.BytesIO(buf.getvalue()), str(tmp_path / "a"), "native")
        st = os.lstat(tmp_path / "a/dev/null")
        assert (os.major(st.st_rdev), os.minor(st.st_rdev)) == (1, 3) and st.st_mode & 0o777 == 0o666
    monkeypatch.setattr(unpack_mod, "IS_ROOT", False)
    (tmp_path / "b").mkdir()
    apply_layer(io.BytesIO(buf.getvalue()), str(tmp_path / "b"), "native")
    assert not os.path.lexists(tmp_path / "b/dev/null")  # unprivileged: device nodes are skipped
    assert os.path.exists(tmp_path / "b/run/fifo")


@pytest.mark.parametrize("entries,why", [
    ([("d", "a"), ("h", "b", "a")], "directory"),
    ([("l", "a", "")], "empty target"),
])
def test_contradictory_entries_are_refused_cleanly(tmp_path, entries, why):
    with pytest.raises(InvalidArgument, match=why):
        unpack(tmp_path, entries)


def test_hard_link_to_itself_is_a_no_op(tmp_path):
    unpack(tmp_path, [("f", "a", "data"), ("h", "a", "a")])
    assert tree(tmp_path) == {"a": "data"}
