"""Image commands through the real docker CLI against a skiff engine (root)."""

import io
import json
import secrets
import tarfile

import pytest

from tests.support.procs import ok
from tests.unit.images.tarbuild import make_tar

pytestmark = pytest.mark.root


def fails(proc, code: int = 1) -> str:
    assert proc.returncode == code, f"{proc.args} -> {proc.returncode}\n{proc.stdout!r}"
    return proc.stderr.decode()


@pytest.fixture
def name():
    return "imgtest-" + secrets.token_hex(4)


def test_tag_images_inspect_history_rmi(engine, name):
    busybox_id = ok(engine.docker("image", "inspect", "-f", "{{.Id}}", "busybox")).strip()
    ok(engine.docker("tag", "busybox", f"{name}:v1"))
    rows = ok(engine.docker("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}", name)).split("\n")
    assert rows[0] == f"{name}:v1 {busybox_id[7:19]}"
    assert ok(engine.docker("images", "-q", "--filter", f"reference={name}")).strip() == busybox_id[7:19]
    ins = json.loads(ok(engine.docker("image", "inspect", f"{name}:v1")))[0]
    assert ins["Id"] == busybox_id and f"{name}:v1" in ins["RepoTags"] and ins["Config"]["Cmd"] == ["sh"]
    hist = ok(engine.docker("history", "--no-trunc", "--format", "{{.ID}}|{{.CreatedBy}}", name + ":v1")).splitlines()
    assert hist[0].startswith(busybox_id) and 'CMD ["sh"]' in hist[0] and hist[1].startswith("<missing>")
    assert ok(engine.docker("rmi", f"{name}:v1")).strip() == f"Untagged: {name}:v1"
    assert "No such image" in fails(engine.docker("rmi", f"{name}:v1"))
    assert "invalid reference format" in fails(engine.docker("tag", "busybox", "Bad/Name"))


def test_import_save_load_roundtrip(engine, name, tmp_path):
    token = secrets.token_hex(6)
    rootfs = tmp_path / "rootfs.tar"
    rootfs.write_bytes(make_tar([("d", "data"), ("f", "data/token", token)]))
    image_id = ok(engine.docker("import", "-c", "ENV TOKEN=" + token, "-m", "imported here",
                                str(rootfs), f"{name}:imp")).strip()
    assert image_id.startswith("sha256:")
    ins = json.loads(ok(engine.docker("image", "inspect", f"{name}:imp")))[0]
    assert f"TOKEN={token}" in ins["Config"]["Env"]
    archive = tmp_path / "saved.tar"
    ok(engine.docker("save", "-o", str(archive), f"{name}:imp"))
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        manifest = json.load(tar.extractfile("manifest.json"))
    assert {"index.json", "oci-layout", "manifest.json", "repositories"} <= names
    assert manifest[0]["RepoTags"] == [f"{name}:imp"]
    out = ok(engine.docker("rmi", f"{name}:imp"))
    assert f"Deleted: {image_id}" in out
    assert ok(engine.docker("load", "-i", str(archive))).strip() == f"Loaded image: {name}:imp"
    assert ok(engine.docker("image", "inspect", "-f", "{{.Id}}", f"{name}:imp")).strip() == image_id
    ok(engine.docker("rmi", f"{name}:imp"))


def test_bad_archives_are_refused_and_engine_keeps_serving(engine, busybox_archive, tmp_path):
    data = busybox_archive.read_bytes()
    truncated = tmp_path / "t.tar"
    truncated.write_bytes(data[: len(data) // 2])
    err = fails(engine.docker("load", "-i", str(truncated)))
    assert "truncated or corrupt" in err or "unexpected end of data" in err
    evil = tmp_path / "evil.tar"
    layer = make_tar([("l", "x", "/"), ("f", "x/tmp/pwned", "x")])
    import hashlib
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    cfg = json.dumps({"os": "linux", "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode()
    cfg_name = hashlib.sha256(cfg).hexdigest() + ".json"
    evil.write_bytes(make_tar([("f", cfg_name, cfg), ("f", "l/layer.tar", layer),
                               ("f", "manifest.json", json.dumps([{"Config": cfg_name, "RepoTags": ["evil:1"],
                                                                   "Layers": ["l/layer.tar"]}]))]))
    assert "symlink" in fails(engine.docker("load", "-i", str(evil)))
    assert "No such image" in fails(engine.docker("image", "inspect", "evil:1"))
    ok(engine.docker("images"))


def test_rmi_refuses_image_used_by_container(engine, name):
    ok(engine.docker("tag", "busybox", f"{name}:used"))
    image_id = ok(engine.docker("image", "inspect", "-f", "{{.Id}}", f"{name}:used")).strip()
    ok(engine.docker("import", "-", f"{name}:solo", input=make_tar([("f", "bin/x", "y")])))
    solo_id = ok(engine.docker("image", "inspect", "-f", "{{.Id}}", f"{name}:solo")).strip()
    cid = ok(engine.docker("create", "--network", "none", f"{name}:solo", "/bin/x")).strip()
    try:
        err = fails(engine.docker("rmi", f"{name}:solo"))
        assert (f'conflict: unable to remove repository reference "{name}:solo" (must force) - '
                f"container {cid[:12]} is using its referenced image {solo_id[7:19]}") in err
        # another tag of busybox can go: the image keeps its other names
        assert ok(engine.docker("rmi", f"{name}:used")).strip() == f"Untagged: {name}:used"
        assert image_id
    finally:
        ok(engine.docker("rm", "-f", cid))
    ok(engine.docker("rmi", f"{name}:solo"))


def test_commit_and_diff(engine, name):
    cid = ok(engine.docker("create", "--network", "none", "busybox", "true")).strip()
    try:
        ok(engine.docker("commit", "-c", "ENV COMMITTED=1", "-m", "a message", cid, f"{name}:c"))
        ins = json.loads(ok(engine.docker("image", "inspect", f"{name}:c")))[0]
        assert "COMMITTED=1" in ins["Config"]["Env"] and ins["Comment"] == "a message"
        assert ins["Parent"].startswith("sha256:")
    finally:
        ok(engine.docker("rm", "-f", cid))
    ok(engine.docker("rmi", f"{name}:c"))


def test_image_prune_removes_dangling(engine, name):
    image_id = ok(engine.docker("import", "-", input=make_tar([("f", "only", "x")]))).strip()
    assert ok(engine.docker("images", "-q", "--filter", "dangling=true", "--no-trunc")).split().count(image_id) == 1
    out = ok(engine.docker("image", "prune", "-f"))
    assert f"deleted: {image_id}" in out
    assert "busybox" in ok(engine.docker("images"))


def test_diff_commit_export_of_a_run_container(engine, name):
    token = secrets.token_hex(6)
    cname = name + "-run"
    ok(engine.docker("run", "--name", cname, "--network", "none", "busybox", "sh", "-c",
                     f"echo {token} > /etc/token && rm /bin/ls && mkdir -p /opt/new"))
    try:
        diff = set(ok(engine.docker("diff", cname)).splitlines())
        assert {"A /etc/token", "D /bin/ls", "C /etc", "C /bin", "A /opt"} <= diff
        ok(engine.docker("commit", cname, f"{name}:run"))
        out = ok(engine.docker("run", "--rm", "--network", "none", f"{name}:run", "sh", "-c",
                               "cat /etc/token; test -e /bin/ls && echo still-there || echo gone"))
        assert out.split() == [token, "gone"]
        exported = engine.docker("export", cname).stdout
        with tarfile.open(fileobj=io.BytesIO(exported)) as tar:
            names = set(tar.getnames())
        assert "etc/token" in names and "bin/ls" not in names and "bin/busybox" in names
    finally:
        engine.docker("rm", "-f", cname)
        engine.docker("rmi", f"{name}:run")


def test_rmi_force_refused_while_a_container_runs(engine, name):
    image_id = ok(engine.docker("image", "inspect", "-f", "{{.Id}}", "busybox")).strip()
    cid = ok(engine.docker("run", "-d", "--network", "none", "busybox", "sleep", "300")).strip()
    try:
        err = fails(engine.docker("rmi", "-f", image_id[7:19]))
        assert (f"conflict: unable to delete {image_id[7:19]} (cannot be forced) - "
                f"image is being used by running container {cid[:12]}") in err
        assert ok(engine.docker("image", "inspect", "-f", "{{.Id}}", "busybox")).strip() == image_id
    finally:
        ok(engine.docker("rm", "-f", cid))
