"""The registry server's garbage collection: keep what manifests use, delete the rest."""

import hashlib
import json
import subprocess
import sys

from skiff.engine.registry.server.gc import collect
from skiff.engine.registry.server.storage import Storage


def _blob(st: Storage, name: str, data: bytes) -> str:
    up = st.start_upload(name)
    st.append(up, data)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    st.finish_upload(up, digest)
    return digest


def _manifest(st: Storage, name: str, ref: str, config: str, layers: list[str]) -> str:
    body = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "config": {"digest": config, "size": 1}, "layers": [{"digest": d, "size": 1} for d in layers]})
    return st.put_manifest(name, ref, body.encode(), "application/vnd.oci.image.manifest.v1+json")


def test_unreferenced_blobs_go_used_ones_stay(tmp_path):
    st = Storage(tmp_path)
    cfg, layer, orphan = _blob(st, "a", b"cfg"), _blob(st, "a", b"layer"), _blob(st, "a", b"orphan")
    kept_manifest = _manifest(st, "a", "v1", cfg, [layer])
    dry = collect(st, dry_run=True)
    assert dry.deleted == [orphan] and st.blob_path(orphan).exists()
    result = collect(st)
    assert result.deleted == [orphan]
    assert not st.blob_path(orphan).exists()
    assert not (tmp_path / "repositories" / "a" / "_layers" / orphan[7:]).exists()
    for d in (cfg, layer, kept_manifest):
        assert st.blob_path(d).exists()


def test_delete_untagged_manifests(tmp_path):
    st = Storage(tmp_path)
    cfg1, cfg2 = _blob(st, "a", b"c1"), _blob(st, "a", b"c2")
    old = _manifest(st, "a", "v1", cfg1, [])
    new = _manifest(st, "a", "v1", cfg2, [])  # v1 moved: the old manifest has no tag now
    assert collect(st).deleted == []  # without -m untagged manifests keep their blobs
    result = collect(st, delete_untagged=True)
    assert result.untagged_manifests == [f"a@{old}"]
    assert set(result.deleted) == {old, cfg1}
    assert st.resolve("a", "v1") == new


def test_cli_dry_run(tmp_path):
    st = Storage(tmp_path)
    orphan = _blob(st, "a", b"orphan")
    out = subprocess.run([sys.executable, "-m", "skiff", "registry", "garbage-collect", "--root", str(tmp_path),
                          "--dry-run"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert f"would delete blob {orphan}" in out.stdout
    assert st.blob_path(orphan).exists()
