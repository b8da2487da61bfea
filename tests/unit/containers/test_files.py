import io
import os
import stat
import tarfile

import pytest

from skiff.common.errors import NotFound
from skiff.engine.containers import files
from skiff.engine.containers.hostfs import secure_join


@pytest.fixture
def root(tmp_path):
    r = tmp_path / "root"
    (r / "etc").mkdir(parents=True)
    (r / "etc" / "passwd").write_text("root:x:0:0::/:/bin/sh\n")
    (r / "data").mkdir()
    os.symlink("/etc", r / "abs-link")
    os.symlink("../../../../etc", r / "data" / "up-link")
    os.symlink("passwd", r / "etc" / "pw")
    return str(r)


def test_secure_join_stays_inside(root):
    assert secure_join(root, "/abs-link/passwd") == os.path.join(root, "etc/passwd")
    assert secure_join(root, "/data/up-link/passwd") == os.path.join(root, "etc/passwd")
    assert secure_join(root, "/../../etc") == os.path.join(root, "etc")
    assert secure_join(root, "/") == root
    assert secure_join(root, "/missing/x") == os.path.join(root, "missing/x")


def test_stat_does_not_follow_the_last_link(root):
    st = files.stat_path(root, "/etc/pw", "c1")
    assert st["name"] == "pw" and st["mode"] & files.GO_SYMLINK
    assert st["linkTarget"] == "/etc/passwd"
    d = files.stat_path(root, "/etc", "c1")
    assert d["mode"] & files.GO_DIR and d["mode"] & 0o777 == 0o755 or d["mode"] & files.GO_DIR
    with pytest.raises(NotFound, match="Could not find the file /nope in container c1"):
        files.stat_path(root, "/nope", "c1")


def test_go_file_mode_bits():
    assert files.go_file_mode(stat.S_IFDIR | 0o755) == files.GO_DIR | 0o755
    assert files.go_file_mode(stat.S_IFREG | stat.S_ISUID | 0o755) == files.GO_SETUID | 0o755
    assert files.go_file_mode(stat.S_IFCHR | 0o600) == files.GO_DEVICE | files.GO_CHARDEV | 0o600


def test_tar_of_a_directory_uses_its_base_name(root):
    out = io.BytesIO()
    files.write_tar(root, "/etc", out)
    names = tarfile.open(fileobj=io.BytesIO(out.getvalue())).getnames()
    assert "etc" in names and "etc/passwd" in names


def _tar(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for name, kind, data in entries:
            ti = tarfile.TarInfo(name)
            ti.uid, ti.gid = os.getuid(), os.getgid()
            if kind == "file":
                ti.size = len(data)
                ti.mode = 0o640
                t.addfile(ti, io.BytesIO(data))
            elif kind == "dir":
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                t.addfile(ti)
            elif kind == "sym":
                ti.type = tarfile.SYMTYPE
                ti.linkname = data
                t.addfile(ti)
    return buf.getvalue()


def test_extract_is_confined_to_the_container(root, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    tarball = tmp_path / "in.tar"
    tarball.write_bytes(_tar([
        ("new", "dir", None),
        ("new/f.txt", "file", b"hello"),
        ("../../escape.txt", "file", b"x"),
        ("new/evil", "sym", str(outside)),
        ("new/evil/through-link.txt", "file", b"y"),
    ]))
    files.extract(root, "/data", str(tarball), owner=None)
    assert open(os.path.join(root, "data/new/f.txt")).read() == "hello"
    assert stat.S_IMODE(os.stat(os.path.join(root, "data/new/f.txt")).st_mode) == 0o640
    # ".." is clamped to the extraction root; the symlink's target is resolved inside the container
    assert os.path.exists(os.path.join(root, "data/escape.txt"))
    assert not list(outside.iterdir())
    assert os.path.exists(os.path.join(root, outside.relative_to("/"), "through-link.txt"))


@pytest.mark.root
def test_extract_owner_defaults_to_container_root(root, tmp_path):
    tarball = tmp_path / "in.tar"
    tarball.write_bytes(_tar([("f.txt", "file", b"x")]))
    files.extract(root, "/data", str(tarball))
    st = os.stat(os.path.join(root, "data/f.txt"))
    assert (st.st_uid, st.st_gid) == (0, 0)
