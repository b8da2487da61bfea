"""Volumes (named, anonymous, copy-up, --volumes-from, --mount, local driver options) and docker cp."""

import os

import pytest

from tests.support.procs import ok

pytestmark = [pytest.mark.root, pytest.mark.interop]


def test_named_volume_persists_and_copies_up(engine, names):
    v = names.volume()
    ok(engine.docker("run", "--rm", "-v", f"{v}:/etc", "busybox", "sh", "-c", "echo kept > /etc/new"))
    # the empty volume got the image's /etc first, as Docker copies up
    assert ok(engine.docker("run", "--rm", "-v", f"{v}:/data", "busybox", "sh", "-c", "cat /data/new; ls /data")) \
        .split()[:1] == ["kept"]
    assert "passwd" in ok(engine.docker("run", "--rm", "-v", f"{v}:/data", "busybox", "ls", "/data"))
    info = ok(engine.docker("volume", "inspect", "-f", "{{.Driver}} {{.Scope}} {{.Mountpoint}}", v)).split()
    assert info[:2] == ["local", "local"] and info[2].endswith(f"/volumes/{v}/_data")


def test_volume_in_use_and_ls_filters(engine, names):
    v = names.volume()
    ok(engine.docker("volume", "create", "--label", "k=v", v))
    n = names()
    ok(engine.docker("create", "--name", n, "-v", f"{v}:/x", "busybox", "true"))
    r = engine.docker("volume", "rm", v)
    assert r.returncode == 1 and f"remove {v}: volume is in use".encode() in r.stderr
    assert v in ok(engine.docker("volume", "ls", "-q", "--filter", "label=k=v")).split()
    assert v not in ok(engine.docker("volume", "ls", "-q", "--filter", "dangling=true")).split()
    ok(engine.docker("rm", n))
    assert v in ok(engine.docker("volume", "ls", "-q", "--filter", "dangling=true")).split()


def test_tmpfs_backed_volume(engine, names):
    v = names.volume()
    ok(engine.docker("volume", "create", "--opt", "type=tmpfs", "--opt", "device=tmpfs", "--opt", "o=size=1m", v))
    out = ok(engine.docker("run", "--rm", "-v", f"{v}:/t", "busybox", "sh", "-c", "grep ' /t ' /proc/mounts"))
    assert "tmpfs" in out and "size=1024k" in out


def test_bind_mounts_and_mount_flag(engine, names, tmp_path):
    host = tmp_path / "shared"
    host.mkdir()
    (host / "in.txt").write_text("from host")
    r = engine.docker("run", "--rm", "-v", f"{host}:/h:ro", "busybox", "sh", "-c", "cat /h/in.txt; touch /h/x")
    assert r.stdout == b"from host" and r.returncode == 1 and b"Read-only file system" in r.stderr
    ok(engine.docker("run", "--rm", "--mount", f"type=bind,source={host},target=/h", "busybox", "touch", "/h/made"))
    assert (host / "made").exists()
    r = engine.docker("run", "--rm", "--mount", "type=bind,source=/no/such/dir,target=/h", "busybox", "true")
    assert r.returncode == 125 and b"bind source path does not exist: /no/such/dir" in r.stderr
    created = tmp_path / "auto"
    ok(engine.docker("run", "--rm", "-v", f"{created}:/h", "busybox", "true"))
    assert created.is_dir()  # -v creates a missing host directory


def test_volumes_from(engine, names):
    src = names()
    ok(engine.docker("run", "--name", src, "-v", "/shared", "busybox", "sh", "-c", "echo hi > /shared/f"))
    assert ok(engine.docker("run", "--rm", "--volumes-from", src, "busybox", "cat", "/shared/f")) == "hi\n"
    r = engine.docker("run", "--rm", "--volumes-from", f"{src}:ro", "busybox", "touch", "/shared/g")
    assert r.returncode == 1


def test_cp_both_ways_and_traversal(engine, names, tmp_path):
    n = names()
    ok(engine.docker("run", "-d", "--name", n, "busybox", "sleep", "100"))
    # through exec, which returns when done (a `run -d` script may not have run yet when cp comes)
    ok(engine.docker("exec", n, "sh", "-c", "mkdir -p /d/sub; echo a > /d/sub/f; ln -s /etc /d/link"))
    ok(engine.docker("cp", f"{n}:/d", str(tmp_path / "out")))
    assert (tmp_path / "out" / "sub" / "f").read_text() == "a\n"
    assert os.readlink(tmp_path / "out" / "link") == "/etc"
    src = tmp_path / "up.txt"
    src.write_text("up")
    ok(engine.docker("cp", str(src), f"{n}:/d/link/"))  # through a symlink: lands in the container's /etc
    assert ok(engine.docker("exec", n, "cat", "/etc/up.txt")) == "up"
    assert not os.path.exists("/etc/up.txt") or open("/etc/up.txt").read() != "up"
    r = engine.docker("cp", f"{n}:/nope", str(tmp_path / "x"))
    assert r.returncode == 1 and b"Could not find the file /nope" in r.stderr
    stopped = names()
    ok(engine.docker("run", "--name", stopped, "busybox", "sh", "-c", "echo s > /s"))
    ok(engine.docker("cp", f"{stopped}:/s", str(tmp_path / "s")))
    assert (tmp_path / "s").read_text() == "s\n"


def test_diff_export_commit(engine, names, tmp_path):
    n = names()
    ok(engine.docker("run", "--name", n, "busybox", "sh", "-c", "echo x > /added; rm /etc/group"))
    diff = ok(engine.docker("diff", n)).splitlines()
    assert "A /added" in diff and "D /etc/group" in diff
    assert not any("hostname" in line or "resolv.conf" in line for line in diff)
    tag = names("img").lower()
    ok(engine.docker("commit", "-c", "ENV FROM_COMMIT=1", n, f"{tag}:v1"))
    try:
        out = ok(engine.docker("run", "--rm", f"{tag}:v1", "sh", "-c", "cat /added; echo $FROM_COMMIT"))
        assert out == "x\n1\n"
    finally:
        engine.docker("rmi", f"{tag}:v1")
    ok(engine.docker("export", "-o", str(tmp_path / "fs.tar"), n))
    import tarfile

    names_in = tarfile.open(tmp_path / "fs.tar").getnames()
    assert "added" in names_in and "bin/busybox" in names_in
