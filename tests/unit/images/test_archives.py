import gzip
import hashlib
import io
import json
import os
import tarfile

import pytest

from skiff.common.errors import InvalidArgument
from skiff.engine.events import EventBus
from skiff.engine.images.service import ImageService
from tests.support.busybox import write_docker_archive
from tests.unit.images.conftest import run, saved
from tests.unit.images.tarbuild import make_tar


def members(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.isreg()}


def state(svc):
    """Everything a load could leave behind."""
    return (sorted(svc.content.walk()), sorted(s.key for s in svc.snapshotter.list()),
            dict(svc.store.refs), sorted(svc.store.records))


def test_load_legacy_docker_archive(loaded, busybox_archive):
    img = loaded.get("busybox")
    assert img.repo_tags == ["busybox:latest"]
    assert img.container_config["Cmd"] == ["sh"]
    assert img.size > 1_000_000
    root = loaded.snapshotter.upper_dir(img.chain_id)
    assert os.path.islink(os.path.join(root, "bin/sh")) and os.path.isfile(os.path.join(root, "bin/busybox"))
    events = [(e.action, e.attributes.get("name")) for e in loaded.events.since(0)]
    assert events == [("load", img.id)]


def test_save_writes_docker_25_layout(loaded):
    files = members(saved(loaded, ["busybox"]))
    img = loaded.get("busybox")
    manifest = json.loads(files["manifest.json"])
    assert manifest == [{"Config": "blobs/sha256/" + img.id[7:], "RepoTags": ["busybox:latest"],
                         "Layers": ["blobs/sha256/" + d[7:] for d in img.diff_ids]}]
    index = json.loads(files["index.json"])
    desc = index["manifests"][0]
    assert desc["annotations"] == {"io.containerd.image.name": "docker.io/library/busybox:latest",
                                   "org.opencontainers.image.ref.name": "latest"}
    oci_manifest = json.loads(files["blobs/sha256/" + desc["digest"][7:]])
    assert oci_manifest["config"]["digest"] == img.id
    assert json.loads(files["oci-layout"]) == {"imageLayoutVersion": "1.0.0"}
    assert json.loads(files["repositories"]) == {"busybox": {"latest": img.diff_ids[-1][7:]}}
    for name, data in files.items():
        if name.startswith("blobs/sha256/"):
            assert hashlib.sha256(data).hexdigest() == name.rsplit("/", 1)[1]


def test_round_trip_to_another_engine(loaded, tmp_path):
    loaded.tag("busybox", "example.com/team/app", "v1")
    data = saved(loaded, ["busybox", "example.com/team/app:v1"])
    other = ImageService(tmp_path / "other", EventBus(), snapshotter="native")
    msgs = run(other.load(io.BytesIO(data)))
    assert msgs == ["Loaded image: busybox:latest", "Loaded image: example.com/team/app:v1"]
    assert other.get("busybox").id == loaded.get("busybox").id
    assert sorted(other.get("busybox").repo_tags) == ["busybox:latest", "example.com/team/app:v1"]


def test_save_by_id_has_no_names_and_loads_as_id(loaded, tmp_path):
    img = loaded.get("busybox")
    data = saved(loaded, [img.id[7:19]])
    assert json.loads(members(data)["manifest.json"])[0]["RepoTags"] is None
    other = ImageService(tmp_path / "other", snapshotter="native")
    assert run(other.load(io.BytesIO(data))) == [f"Loaded image ID: {img.id}"]


def test_load_plain_oci_layout_with_gzip_layer(svc, tmp_path):
    layer = make_tar([("f", "hello.txt", "hi")])
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    gz = gzip.compress(layer)
    cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/hello"]},
                      "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode()
    def d(b):
        return "sha256:" + hashlib.sha256(b).hexdigest()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": d(cfg), "size": len(cfg)},
                           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d(gz), "size": len(gz)}]}).encode()
    index = json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                        "digest": d(manifest), "size": len(manifest),
                        "annotations": {"org.opencontainers.image.ref.name": "example.com/hello:2"}}]}).encode()
    entries = [("f", "oci-layout", '{"imageLayoutVersion":"1.0.0"}'), ("f", "index.json", index)]
    entries += [("f", "blobs/sha256/" + d(b)[7:], b) for b in (cfg, gz, manifest)]
    msgs = run(svc.load(io.BytesIO(make_tar(entries))))
    assert msgs == ["Loaded image: example.com/hello:2"]
    img = svc.get("example.com/hello:2")
    with open(os.path.join(svc.snapshotter.upper_dir(img.chain_id), "hello.txt")) as f:
        assert f.read() == "hi"
    # only what the image needs stays: the gzip blob and the layout files are gone
    blobs = {dg for dg, _ in svc.content.walk()}
    assert d(gz) not in blobs and diff_id in blobs and img.id in blobs


def test_gzipped_archive_loads(svc, busybox_archive):
    with open(busybox_archive, "rb") as f:
        data = gzip.compress(f.read(), compresslevel=1)
    assert run(svc.load(io.BytesIO(data))) == ["Loaded image: busybox:latest"]


def test_tag_moving_message(loaded, tmp_path):
    other = tmp_path / "other.tar"
    write_docker_archive(other)
    data = bytearray(other.read_bytes())
    # a different image under the same name: rewrite the config's created date
    svc2 = ImageService(tmp_path / "x", snapshotter="native")
    run(svc2.load(io.BytesIO(bytes(data))))
    run(svc2.import_rootfs(io.BytesIO(make_tar([("f", "a", "b")])), "busybox", "latest"))
    moved = saved(svc2, ["busybox:latest"])
    old_id = loaded.get("busybox").id
    msgs = run(loaded.load(io.BytesIO(moved)))
    assert msgs[0] == f"The image busybox:latest already exists, renaming the old one with ID {old_id} to empty string"
    assert msgs[1] == "Loaded image: busybox:latest"
    assert loaded.get(old_id).repo_tags == []


def _offset_of(path, name: str) -> int:
    with tarfile.open(path) as tar:
        return tar.getmember(name).offset


@pytest.mark.parametrize("cut", [100, 600, 5000, 1_000_000, "manifest.json"])
def test_truncated_archive_is_refused_and_leaves_nothing(svc, busybox_archive, cut):
    if isinstance(cut, str):
        cut = _offset_of(busybox_archive, cut)  # cleanly cut at a member boundary: no manifest
    data = busybox_archive.read_bytes()[:cut]
    before = state(svc)
    with pytest.raises(InvalidArgument) as e:
        run(svc.load(io.BytesIO(data)))
    assert e.value.status == 400
    assert "truncated" in e.value.message or "invalid" in e.value.message
    assert state(svc) == before
    assert list(svc.content.ingest_dir.iterdir()) == []


def test_garbage_is_refused(svc):
    for data in (b"", b"hello world" * 100, gzip.compress(b"not a tar" * 100)):
        with pytest.raises(InvalidArgument):
            run(svc.load(io.BytesIO(data)))
    assert state(svc) == ([], [], {}, [])


def test_tar_without_manifest_is_refused(svc):
    with pytest.raises(InvalidArgument, match="manifest.json nor index.json"):
        run(svc.load(io.BytesIO(make_tar([("f", "readme", "x")]))))
    assert state(svc)[0] == []


def _archive_with_layer(layer: bytes, diff_id: str | None = None) -> bytes:
    diff_id = diff_id or "sha256:" + hashlib.sha256(layer).hexdigest()
    cfg = json.dumps({"os": "linux", "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode()
    cfg_name = hashlib.sha256(cfg).hexdigest() + ".json"
    manifest = json.dumps([{"Config": cfg_name, "RepoTags": ["evil:latest"], "Layers": ["l/layer.tar"]}])
    return make_tar([("f", cfg_name, cfg), ("f", "l/layer.tar", layer), ("f", "manifest.json", manifest)])


def test_layer_with_path_traversal_refuses_the_whole_archive(loaded, tmp_path):
    before = state(loaded)
    evil = make_tar([("f", "fine", "x"), ("l", "up", "../../../../.."), ("f", "up/tmp/pwned", "x")])
    with pytest.raises(InvalidArgument, match="symlink"):
        run(loaded.load(io.BytesIO(_archive_with_layer(evil))))
    assert state(loaded) == before
    evil2 = make_tar([("f", "../../pwned", "x")])
    with pytest.raises(InvalidArgument, match="outside"):
        run(loaded.load(io.BytesIO(_archive_with_layer(evil2))))
    assert state(loaded) == before
    assert not any(p.name == "pwned" for p in tmp_path.rglob("pwned"))


def test_layer_not_matching_config_is_refused(svc):
    layer = make_tar([("f", "a", "b")])
    with pytest.raises(InvalidArgument, match="expects"):
        run(svc.load(io.BytesIO(_archive_with_layer(layer, "sha256:" + "0" * 64))))
    assert state(svc) == ([], [], {}, [])


def test_skopeo_oci_layout_dir(loaded, tmp_path):
    out = tmp_path / "layout"
    run(loaded.save_oci_layout(["busybox"], out))
    index = json.loads((out / "index.json").read_text())
    assert index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] == "latest"
    assert (out / "oci-layout").exists()
    for d in index["manifests"]:
        assert (out / "blobs/sha256" / d["digest"][7:]).exists()


def test_zstd_layer_in_oci_layout(svc):
    zstandard = pytest.importorskip("zstandard")
    layer = make_tar([("f", "z.txt", "zstd")])
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    zl = zstandard.ZstdCompressor().compress(layer)
    cfg = json.dumps({"os": "linux", "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode()

    def d(b):
        return "sha256:" + hashlib.sha256(b).hexdigest()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": d(cfg), "size": len(cfg)},
                           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+zstd", "digest": d(zl), "size": len(zl)}]}).encode()
    index = json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                        "digest": d(manifest), "size": len(manifest),
                        "annotations": {"io.containerd.image.name": "docker.io/library/zimg:1"}}]}).encode()
    entries = [("f", "index.json", index)] + [("f", "blobs/sha256/" + d(b)[7:], b) for b in (cfg, zl, manifest)]
    assert run(svc.load(io.BytesIO(make_tar(entries)))) == ["Loaded image: zimg:1"]
    img = svc.get("zimg:1")
    with open(os.path.join(svc.snapshotter.upper_dir(img.chain_id), "z.txt")) as f:
        assert f.read() == "zstd"


def test_concurrent_loads_and_reads(svc, busybox_archive):
    import asyncio
    import threading
    errors: list[BaseException] = []

    def loader():
        try:
            with open(busybox_archive, "rb") as f:
                asyncio.run(svc.load(f))
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    def reader():
        try:
            for _ in range(50):
                svc.list()
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=loader) for _ in range(3)] + [threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(svc.list()) == 1
    assert [s.key for s in svc.snapshotter.list()] == svc.get("busybox").diff_ids[:1]
