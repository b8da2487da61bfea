"""The build context on the engine's side: unpacking, .dockerignore, resolving COPY sources,
and the copy rules. No root needed: files are owned by the caller."""

import bz2
import gzip
import io
import lzma
import os
import tarfile

import pytest

from skiff.common.errors import InvalidArgument, NotFound
from skiff.engine.build import context, copying


def tar_bytes(entries: dict[str, bytes | None]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in entries.items():
            ti = tarfile.TarInfo(name)
            if data is None:
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                tar.addfile(ti)
            else:
                ti.size = len(data)
                ti.mode = 0o644
                tar.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


@pytest.mark.parametrize("compress", [lambda b: b, gzip.compress, bz2.compress, lzma.compress])
def test_unpack_any_compression(tmp_path, compress):
    body = compress(tar_bytes({"Dockerfile": b"FROM x\n", "d": None, "d/f": b"f"}))
    context.unpack_context(io.BytesIO(body), str(tmp_path / "ctx"))
    assert (tmp_path / "ctx" / "Dockerfile").read_text() == "FROM x\n"
    assert (tmp_path / "ctx" / "d" / "f").read_bytes() == b"f"


def test_unpack_keeps_everything_inside(tmp_path):
    context.unpack_context(io.BytesIO(tar_bytes({"../../escape": b"x", "/abs": b"y"})), str(tmp_path / "ctx"))
    assert sorted(os.listdir(tmp_path / "ctx")) == ["abs", "escape"]
    assert not (tmp_path / "escape").exists()


def test_unpack_rejects_what_is_not_a_tar(tmp_path):
    with pytest.raises(InvalidArgument, match="not a valid tar archive"):
        context.unpack_context(io.BytesIO(b"garbage" * 200), str(tmp_path / "ctx"))
    with pytest.raises(InvalidArgument, match="not a valid tar archive"):
        context.unpack_context(io.BytesIO(gzip.compress(b"garbage" * 200)), str(tmp_path / "ctx2"))


def test_dockerignore_applied_on_the_engine_side(tmp_path):
    files = {"Dockerfile": b"", ".dockerignore": b"*.log\nsecret\n!secret/ok\nDockerfile\n", "a.log": b"",
             "keep": b"", "secret": None, "secret/key": b"", "secret/ok": b""}
    context.unpack_context(io.BytesIO(tar_bytes(files)), str(tmp_path))
    context.apply_dockerignore(str(tmp_path), "Dockerfile")
    found = sorted(os.path.relpath(os.path.join(d, f), tmp_path) for d, _, fs in os.walk(tmp_path) for f in fs)
    assert found == [".dockerignore", "Dockerfile", "keep", "secret/ok"]


def test_read_dockerfile(tmp_path):
    (tmp_path / "dockerfile").write_text("FROM lower\n")
    assert context.read_dockerfile(str(tmp_path), "Dockerfile") == "FROM lower\n"
    with pytest.raises(InvalidArgument, match="Cannot locate specified Dockerfile: other/Dockerfile"):
        context.read_dockerfile(str(tmp_path), "other/Dockerfile")


def test_resolve_sources(tmp_path):
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "b.txt").write_text("b")
    (tmp_path / "dir").mkdir()
    (tmp_path / "inside-link").symlink_to("/etc")
    root = str(tmp_path)
    assert context.resolve_sources(root, "a.txt", "COPY") == [(str(tmp_path / "a.txt"), "a.txt")]
    assert [rel for _, rel in context.resolve_sources(root, "*.txt", "COPY")] == ["a.txt", "b.txt"]
    assert context.resolve_sources(root, ".", "COPY") == [(root, ".")]
    with pytest.raises(InvalidArgument, match="forbidden path outside the build context: ../x"):
        context.resolve_sources(root, "../x", "COPY")
    with pytest.raises(NotFound, match="file not found in build context"):
        context.resolve_sources(root, "nope", "ADD")
    with pytest.raises(NotFound, match="no source files were specified"):
        context.resolve_sources(root, "*.none", "COPY")
    # a symlink is followed inside the context, never out of it
    with pytest.raises(NotFound):
        context.resolve_sources(root, "inside-link/passwd", "COPY")


def test_checksums_follow_content(tmp_path):
    (tmp_path / "f").write_text("one")
    first = copying.source_checksum([str(tmp_path / "f")])
    assert first.startswith("file:") and first == copying.source_checksum([str(tmp_path / "f")])
    (tmp_path / "f").write_text("two")
    assert copying.source_checksum([str(tmp_path / "f")]) != first
    (tmp_path / "d").mkdir()
    assert copying.source_checksum([str(tmp_path / "d")]).startswith("dir:")
    assert copying.source_checksum([str(tmp_path / "f"), str(tmp_path / "d")]).startswith("multi:")


def test_copy_rules(tmp_path):
    src = tmp_path / "src"
    (src / "dir" / "sub").mkdir(parents=True)
    (src / "dir" / "sub" / "x").write_text("x")
    (src / "f").write_text("f")
    os.chmod(src / "f", 0o751)
    root = tmp_path / "root"
    root.mkdir()
    uid, gid = os.getuid(), os.getgid()

    def copy(sources, dest, workdir="/", extract=False):
        copying.copy_into(str(root), [(str(src / s), s) for s in sources], dest, workdir, uid, gid, "COPY", extract)

    copy(["f"], "/file-renamed")
    assert (root / "file-renamed").read_text() == "f" and (root / "file-renamed").stat().st_mode & 0o777 == 0o751
    copy(["f"], "/into/")
    assert (root / "into" / "f").exists()
    copy(["dir"], "/d")  # a directory's contents, not the directory
    assert (root / "d" / "sub" / "x").read_text() == "x"
    copy(["f"], "rel/", workdir="/work")
    assert (root / "work" / "rel" / "f").exists()
    with pytest.raises(InvalidArgument, match="must be a directory and end with a /"):
        copy(["f", "dir"], "/notdir")


def test_add_extracts_local_archives_only(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.tar.gz").write_bytes(gzip.compress(tar_bytes({"in/x": b"x"})))
    (src / "plain.txt").write_text("t")
    assert copying.is_archive(str(src / "a.tar.gz")) and not copying.is_archive(str(src / "plain.txt"))
    root = tmp_path / "root"
    root.mkdir()
    copying.copy_into(str(root), [(str(src / "a.tar.gz"), "a.tar.gz")], "/opt/", "/", os.getuid(), os.getgid(),
                      "ADD", extract=True)
    assert (root / "opt" / "in" / "x").read_bytes() == b"x"
    copying.copy_into(str(root), [(str(src / "a.tar.gz"), "a.tar.gz")], "/raw/", "/", os.getuid(), os.getgid(),
                      "COPY", extract=False)
    assert (root / "raw" / "a.tar.gz").exists()
