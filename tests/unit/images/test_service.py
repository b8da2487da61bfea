import io
import os
import tarfile

import pytest

from skiff.common.errors import Conflict, InvalidArgument, NotFound
from tests.unit.images.conftest import run
from tests.unit.images.tarbuild import make_tar


def test_get_by_ref_id_and_prefixes(loaded):
    img = loaded.get("busybox")
    for name in ("busybox:latest", "docker.io/library/busybox", img.id, img.id[7:], img.id[7:19],
                 img.id[:19], img.id[7:10]):
        assert loaded.get(name).id == img.id
    with pytest.raises(NotFound) as e:
        loaded.get("nosuch")
    assert e.value.message == "No such image: nosuch:latest"
    assert e.value.status == 404
    with pytest.raises(NotFound, match="No such image: 0000"):
        loaded.get("0000")
    with pytest.raises(InvalidArgument, match="invalid reference format"):
        loaded.get("Bad:Name:x")


def test_inspect_shape(loaded):
    ins = loaded.inspect("busybox")
    img = loaded.get("busybox")
    assert ins["Id"] == img.id and ins["RepoTags"] == ["busybox:latest"] and ins["RepoDigests"] == []
    assert ins["Config"]["Cmd"] == ["sh"] and ins["Config"]["Entrypoint"] is None
    assert ins["Architecture"] == "amd64" and ins["Os"] == "linux"
    assert ins["RootFS"] == {"Type": "layers", "Layers": img.diff_ids}
    assert ins["Created"] == "2023-11-14T22:13:20Z" and ins["Size"] == img.size
    assert set(ins) >= {"Parent", "Comment", "DockerVersion", "Author", "GraphDriver", "Metadata"}


def test_list_and_filters(loaded):
    loaded.tag("busybox", "mine/app", "v1")
    iid = run(loaded.import_rootfs(io.BytesIO(make_tar([("f", "x", "y")])), changes=["LABEL team=a"]))
    rows = loaded.list()
    assert [r["Id"] for r in rows] == [iid, loaded.get("busybox").id]  # newest first
    assert rows[1]["RepoTags"] == ["busybox:latest", "mine/app:v1"] or rows[1]["RepoTags"] == ["mine/app:v1", "busybox:latest"]
    assert [r["Id"] for r in loaded.list(filters={"dangling": ["true"]})] == [iid]
    assert [r["Id"] for r in loaded.list(filters={"dangling": ["false"]})] == [loaded.get("busybox").id]
    assert [r["Id"] for r in loaded.list(filters={"label": ["team=a"]})] == [iid]
    assert loaded.list(filters={"label": ["team=b"]}) == []
    assert len(loaded.list(filters={"reference": ["mine/*"]})) == 1
    assert len(loaded.list(filters={"reference": ["busybox:latest"]})) == 1
    assert loaded.list(filters={"reference": ["busybox:1"]}) == []
    assert [r["Id"] for r in loaded.list(filters={"since": ["busybox"]})] == [iid]
    assert [r["Id"] for r in loaded.list(filters={"before": [iid]})] == [loaded.get("busybox").id]
    with pytest.raises(InvalidArgument):
        loaded.list(filters={"bogus": ["1"]})


def test_history(loaded):
    h = loaded.history("busybox")
    assert h[0]["Id"] == loaded.get("busybox").id and h[0]["Tags"] == ["busybox:latest"]
    assert h[0]["CreatedBy"].endswith('CMD ["sh"]') and h[0]["Size"] == 0
    assert h[1]["Id"] == "<missing>" and h[1]["Size"] > 1_000_000


def test_tag_validation_and_events(loaded):
    loaded.tag("busybox", "localhost:5000/x/y", "1.0")
    assert loaded.get("localhost:5000/x/y:1.0").id == loaded.get("busybox").id
    with pytest.raises(InvalidArgument):
        loaded.tag("busybox", "Upper", "x")
    with pytest.raises(InvalidArgument):
        loaded.tag("busybox", "ok", "-bad")
    with pytest.raises(NotFound):
        loaded.tag("missing", "x", "y")
    assert any(e.action == "tag" and e.attributes["name"] == "localhost:5000/x/y:1.0" for e in loaded.events.since(0))


def test_rmi_untag_then_delete(loaded):
    img = loaded.get("busybox")
    loaded.tag("busybox", "other")
    assert loaded.remove("other") == [{"Untagged": "other:latest"}]
    out = loaded.remove("busybox")
    assert out[0] == {"Untagged": "busybox:latest"} and out[1] == {"Deleted": img.id}
    assert {"Deleted": img.chain_id} in out
    assert loaded.list() == [] and list(loaded.content.walk()) == [] and loaded.snapshotter.list() == []
    actions = [e.action for e in loaded.events.since(0)]
    assert "untag" in actions and "delete" in actions


def test_rmi_refuses_image_used_by_container(loaded):
    img = loaded.get("busybox")
    loaded.in_use = lambda image_id: "0123abcd" * 8 if image_id == img.id else None
    with pytest.raises(Conflict) as e:
        loaded.remove("busybox")
    assert e.value.message == ('conflict: unable to remove repository reference "busybox" (must force) - '
                               f"container 0123abcd0123 is using its referenced image {img.id[7:19]}")
    assert e.value.status == 409
    with pytest.raises(Conflict, match="must be forced.*stopped container 0123abcd0123"):
        loaded.remove(img.id[7:19])
    # forced: untagged and deleted, but the layers stay while the container needs them
    loaded.prepare_rootfs("c1", "busybox")
    out = loaded.remove("busybox", force=True)
    assert {"Deleted": img.id} in out
    assert loaded.snapshotter.exists(img.chain_id)
    loaded.remove_rootfs("c1")


def test_rmi_running_container_cannot_be_forced(loaded):
    img = loaded.get("busybox")
    loaded.in_use = lambda image_id: ("feedbeef" * 8, True)
    with pytest.raises(Conflict, match=r"\(cannot be forced\) - image is being used by running container feedbeeffeed"):
        loaded.remove(img.id, force=True)
    # untagging by name with force keeps the image (dangling), as dockerd does
    assert loaded.remove("busybox", force=True) == [{"Untagged": "busybox:latest"}]
    assert loaded.get(img.id).repo_tags == []


def test_rmi_by_id_with_several_references(loaded):
    img = loaded.get("busybox")
    loaded.tag("busybox", "second")
    with pytest.raises(Conflict) as e:
        loaded.remove(img.id[7:19])
    assert e.value.message == (f"conflict: unable to delete {img.id[7:19]} (must be forced) - "
                               "image is referenced in multiple repositories")
    out = loaded.remove(img.id[7:19], force=True)
    assert {"Untagged": "second:latest"} in out and {"Untagged": "busybox:latest"} in out
    assert {"Deleted": img.id} in out


def test_import_with_changes(svc):
    data = make_tar([("d", "bin"), ("f", "bin/tool", "#!/bin/sh\n")])
    iid = run(svc.import_rootfs(io.BytesIO(data), "imported", "v1",
                                changes=['CMD ["sh"]', "ENV A=b C=d", "WORKDIR /w", "EXPOSE 80", "USER nobody"],
                                message="from test"))
    ins = svc.inspect("imported:v1")
    assert ins["Id"] == iid
    c = ins["Config"]
    assert c["Cmd"] == ["sh"] and c["Env"] == ["A=b", "C=d"] and c["WorkingDir"] == "/w"
    assert c["ExposedPorts"] == {"80/tcp": {}} and c["User"] == "nobody"
    assert svc.history(iid)[0]["Comment"] == "from test"
    assert any(e.action == "import" for e in svc.events.since(0))
    with pytest.raises(InvalidArgument, match="not a valid change"):
        run(svc.import_rootfs(io.BytesIO(data), changes=["RUN rm -rf /"]))


def test_import_refuses_unsafe_and_garbage(svc):
    with pytest.raises(InvalidArgument):
        run(svc.import_rootfs(io.BytesIO(make_tar([("f", "../x", "y")]))))
    with pytest.raises(InvalidArgument):
        run(svc.import_rootfs(io.BytesIO(b"junk" * 1000)))
    assert list(svc.content.walk()) == [] and svc.snapshotter.list() == [] and svc.list() == []


def test_container_changes_commit_and_export(loaded):
    base = loaded.get("busybox")
    loaded.prepare_rootfs("c1", "busybox")
    root = loaded.rootfs_upper_dir("c1")
    with open(os.path.join(root, "etc/new"), "w") as f:
        f.write("new")
    with open(os.path.join(root, "etc/passwd"), "a") as f:
        f.write("extra:x:5:5::/:/bin/sh\n")
    os.unlink(os.path.join(root, "bin/ls"))
    changes = run(loaded.rootfs_changes("c1"))
    assert {"Path": "/etc/new", "Kind": 1} in changes
    assert {"Path": "/etc/passwd", "Kind": 0} in changes
    assert {"Path": "/bin/ls", "Kind": 2} in changes
    assert {"Path": "/etc", "Kind": 0} in changes
    assert run(loaded.rootfs_size("c1")) > 0

    iid = run(loaded.commit("c1", "busybox", "snap", "v1", author="me", comment="msg", changes=["ENV X=1"]))
    img = loaded.get("snap:v1")
    assert img.id == iid and img.parent == base.id and len(img.diff_ids) == 2
    assert img.container_config["Env"][-1] == "X=1" and img.config["author"] == "me"
    with loaded.content.open(img.diff_ids[-1]) as f, tarfile.open(fileobj=f) as tar:
        names = set(tar.getnames())
    assert {"etc/new", "etc/passwd", "bin/.wh.ls"} <= names
    h = loaded.history("snap:v1")
    assert h[0]["Comment"] == "msg" and h[0]["Size"] > 0

    loaded.prepare_rootfs("c2", "snap:v1")
    root2 = loaded.rootfs_upper_dir("c2")
    assert not os.path.lexists(os.path.join(root2, "bin/ls"))
    with open(os.path.join(root2, "etc/new")) as f:
        assert f.read() == "new"

    buf = io.BytesIO()
    run(loaded.export_rootfs("c2", buf))
    buf.seek(0)
    with tarfile.open(fileobj=buf) as tar:
        names = set(tar.getnames())
    assert {"etc/new", "bin/busybox", "bin/sh"} <= names and "bin/ls" not in names

    with pytest.raises(Conflict, match="dependent child images"):
        loaded.remove(base.id, force=True)
    loaded.remove_rootfs("c1")
    loaded.remove_rootfs("c2")


def test_commit_without_changes_adds_an_empty_layer_entry(loaded):
    loaded.prepare_rootfs("c1", "busybox")
    iid = run(loaded.commit("c1", "busybox", changes=['CMD ["echo", "hi"]']))
    img = loaded.get(iid)
    assert img.diff_ids == loaded.get("busybox").diff_ids
    assert img.config["history"][-1]["empty_layer"] is True
    assert img.container_config["Cmd"] == ["echo", "hi"]
    loaded.remove_rootfs("c1")


def test_prune_dangling_and_all(loaded):
    iid = run(loaded.import_rootfs(io.BytesIO(make_tar([("f", "x", "y")]))))
    out = run(loaded.prune())
    assert {"Deleted": iid} in out["ImagesDeleted"] and out["SpaceReclaimed"] == 1
    assert [i["RepoTags"] for i in loaded.list()] == [["busybox:latest"]]
    loaded.in_use = lambda image_id: "c" * 64
    assert run(loaded.prune(all=True))["ImagesDeleted"] is None
    loaded.in_use = lambda image_id: None
    out = run(loaded.prune(all=True))
    assert {"Untagged": "busybox:latest"} in out["ImagesDeleted"]
    assert loaded.list() == [] and list(loaded.content.walk()) == []


def test_state_survives_restart(loaded):
    from skiff.engine.images.service import ImageService
    loaded.tag("busybox", "again")
    again = ImageService(loaded.root, snapshotter="native")
    assert again.get("again").id == loaded.get("busybox").id
    assert again.inspect("busybox")["Size"] == loaded.get("busybox").size


def test_commit_and_export_skip_sockets(loaded):
    import socket
    loaded.prepare_rootfs("c1", "busybox")
    root = loaded.rootfs_upper_dir("c1")
    sock = socket.socket(socket.AF_UNIX)
    path = os.path.join(root, "s.sock")
    sock.bind(path)
    try:
        with open(os.path.join(root, "kept"), "w") as f:
            f.write("x")
        iid = run(loaded.commit("c1", "busybox"))
        with loaded.content.open(loaded.get(iid).diff_ids[-1]) as f, tarfile.open(fileobj=f) as tar:
            assert set(tar.getnames()) == {"kept"}
        buf = io.BytesIO()
        run(loaded.export_rootfs("c1", buf))
        buf.seek(0)
        with tarfile.open(fileobj=buf) as tar:
            assert "kept" in tar.getnames() and "s.sock" not in tar.getnames()
    finally:
        sock.close()
        loaded.remove_rootfs("c1")
