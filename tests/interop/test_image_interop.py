"""Images cross between skiff and the reference tools in both directions.

- an image skiff made (import, commit) and saved loads and runs in Debian's dockerd;
- an image dockerd made (commit, with a whiteout) and saved loads and runs in skiff;
- skopeo reads what skiff saves, as a docker-archive and, extracted, as an OCI image layout.

Each image carries a random token in a file of its own, so a test can only pass if the layer
really travelled (a layer the receiver already had would not contain the token).
"""

import hashlib
import io
import json
import secrets
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.support.busybox import layer_tar
from tests.support.procs import ok

pytestmark = [pytest.mark.interop, pytest.mark.root]

NONE = ["--network", "none"]


def image_id(client, ref: str) -> str:
    return ok(client.docker("image", "inspect", "-f", "{{.Id}}", ref)).strip()


def rootfs_with_file(dest: Path, path: str, content: bytes) -> None:
    """A busybox rootfs tarball (for `docker import`) with one extra file."""
    dest.write_bytes(layer_tar())
    with tarfile.open(dest, "a") as tar:
        ti = tarfile.TarInfo(path)
        ti.size = len(content)
        ti.mode = 0o644
        tar.addfile(ti, io.BytesIO(content))


def skiff_import_and_save(engine, tmp_path: Path, ref: str, token: str, change: str) -> Path:
    """skiff imports busybox plus /made-by-skiff (holding `token`) as `ref` with the Dockerfile
    `change`, then saves it; the saved tarball."""
    rootfs = tmp_path / "rootfs.tar"
    rootfs_with_file(rootfs, "made-by-skiff", token.encode())
    ok(engine.docker("import", "-c", change, str(rootfs), ref))
    archive = tmp_path / "saved.tar"
    ok(engine.docker("save", "-o", str(archive), ref))
    return archive


@pytest.fixture
def token() -> str:
    return secrets.token_hex(8)


@pytest.fixture
def cleanup_images(request):
    """Refs to remove after the test from whichever engines the test used, so they stay clean."""
    refs: list[str] = []
    yield refs
    for name in ("engine", "dockerd"):
        if name in request.fixturenames:
            client = request.getfixturevalue(name)
            for ref in refs:
                client.docker("rmi", "-f", ref)


def test_reference_dockerd_runs_busybox(dockerd):
    # The baseline the other tests rest on: the reference itself runs the test image.
    assert ok(dockerd.docker("run", "--rm", *NONE, "busybox", "echo", "reference ok")) == "reference ok\n"


# -- skiff -> dockerd -------------------------------------------------------------------------


def test_image_imported_and_saved_by_skiff_runs_in_dockerd(engine, dockerd, tmp_path, token, cleanup_images):
    ref = f"skiff-made/imported:{token}"
    cleanup_images.append(ref)
    archive = skiff_import_and_save(engine, tmp_path, ref, token, 'CMD ["cat", "/made-by-skiff"]')

    ok(dockerd.docker("load", "-i", str(archive)))
    # The config travels byte for byte, so both engines name the image by the same id.
    assert image_id(dockerd, ref) == image_id(engine, ref)
    assert ok(dockerd.docker("run", "--rm", *NONE, ref)) == token


def test_image_committed_by_skiff_runs_in_dockerd(engine, dockerd, tmp_path, token, cleanup_images):
    ref = f"skiff-made/committed:{token}"
    cleanup_images.append(ref)
    name = "interop-commit-" + token
    script = f"echo {token} > /made-by-skiff && rm /etc/group"
    ok(engine.docker("run", "--name", name, *NONE, "busybox", "sh", "-c", script))
    try:
        ok(engine.docker("commit", "-c", "ENV MADE_BY=skiff", name, ref))
    finally:
        engine.docker("rm", "-f", name)
    archive = tmp_path / "saved.tar"
    ok(engine.docker("save", "-o", str(archive), ref))

    ok(dockerd.docker("load", "-i", str(archive)))
    out = ok(dockerd.docker("run", "--rm", *NONE, ref, "sh", "-c",
                            'cat /made-by-skiff; echo "$MADE_BY"; if test -e /etc/group; then echo group-still-there; fi'))
    # skiff's layer must carry the deletion as a whiteout that dockerd understands.
    assert out.split() == [token, "skiff"]


def test_skiff_cli_save_loads_in_dockerd(engine, dockerd, tmp_path, token, cleanup_images):
    ref = f"skiff-made/cli-save:{token}"
    cleanup_images.append(ref)
    rootfs = tmp_path / "rootfs.tar"
    rootfs_with_file(rootfs, "made-by-skiff", token.encode())
    ok(engine.docker("import", str(rootfs), ref))
    archive = tmp_path / "saved.tar"
    ok(engine.skiff("save", "-o", str(archive), ref))

    out = ok(dockerd.docker("load", "-i", str(archive)))
    assert f"Loaded image: {ref}" in out
    assert ok(dockerd.docker("run", "--rm", *NONE, ref, "cat", "/made-by-skiff")) == token


# -- dockerd -> skiff -------------------------------------------------------------------------


def test_image_committed_by_dockerd_runs_in_skiff(engine, dockerd, tmp_path, token, cleanup_images):
    ref = f"dockerd-made/committed:{token}"
    cleanup_images.append(ref)
    name = "interop-ref-" + token
    script = f"echo {token} > /made-by-dockerd && mkdir -p /data/sub && echo deep > /data/sub/f && rm /etc/group"
    ok(dockerd.docker("run", "--name", name, *NONE, "busybox", "sh", "-c", script))
    try:
        ok(dockerd.docker("commit", "-c", "ENV MADE_BY=dockerd", "-c", "WORKDIR /data",
                          "-c", 'CMD ["cat", "/made-by-dockerd"]', name, ref))
    finally:
        dockerd.docker("rm", "-f", name)
    archive = tmp_path / "saved.tar"
    ok(dockerd.docker("save", "-o", str(archive), ref))

    out = ok(engine.docker("load", "-i", str(archive)))
    assert f"Loaded image: {ref}" in out
    assert image_id(engine, ref) == image_id(dockerd, ref)
    assert ok(engine.docker("run", "--rm", *NONE, ref)) == token + "\n"
    out = ok(engine.docker("run", "--rm", *NONE, ref, "sh", "-c",
                           'pwd; echo "$MADE_BY"; cat sub/f; if test -e /etc/group; then echo group-still-there; fi'))
    # The deletion arrives as a whiteout in dockerd's layer; skiff must hide the file.
    assert out.split() == ["/data", "dockerd", "deep"]


def test_dockerd_layers_with_opaque_directory_run_in_skiff(engine, dockerd, tmp_path, token, cleanup_images):
    # Two layers made by dockerd: the second replaces a directory, which dockerd writes as an
    # opaque whiteout (.wh..wh..opq); skiff must show only the new contents.
    base, ref = f"dockerd-made/base:{token}", f"dockerd-made/opaque:{token}"
    cleanup_images.extend([ref, base])
    steps = [(base, "mkdir -p /d/sub && echo a > /d/a && echo b > /d/sub/b && echo keep > /kept"),
             (ref, "rm -rf /d && mkdir /d && echo c > /d/c")]
    parent = "busybox"
    for i, (tag, script) in enumerate(steps):
        name = f"interop-layer{i}-{token}"
        ok(dockerd.docker("run", "--name", name, *NONE, parent, "sh", "-c", script))
        try:
            ok(dockerd.docker("commit", name, tag))
        finally:
            dockerd.docker("rm", "-f", name)
        parent = tag
    archive = tmp_path / "saved.tar"
    ok(dockerd.docker("save", "-o", str(archive), ref))

    ok(engine.docker("load", "-i", str(archive)))
    out = ok(engine.docker("run", "--rm", *NONE, ref, "sh", "-c", "ls -A /d; cat /kept"))
    assert out.split() == ["c", "keep"]


def test_archive_of_two_images_from_skiff_loads_in_dockerd(engine, dockerd, tmp_path, token, cleanup_images):
    refs = [f"skiff-made/first:{token}", f"skiff-made/second:{token}"]
    cleanup_images.extend(refs)
    for i, ref in enumerate(refs):
        rootfs = tmp_path / f"rootfs{i}.tar"
        rootfs_with_file(rootfs, "which", f"{i}-{token}".encode())
        ok(engine.docker("import", str(rootfs), ref))
    archive = tmp_path / "saved.tar"
    ok(engine.docker("save", "-o", str(archive), *refs))

    out = ok(dockerd.docker("load", "-i", str(archive)))
    for i, ref in enumerate(refs):
        assert f"Loaded image: {ref}" in out
        assert ok(dockerd.docker("run", "--rm", *NONE, ref, "cat", "/which")) == f"{i}-{token}"


# -- skopeo reads what skiff saves --------------------------------------------------------------


@pytest.fixture
def skiff_saved(engine, tmp_path, token, cleanup_images) -> tuple[str, Path]:
    """An image skiff imported, saved by skiff to a tarball: (ref, path)."""
    if shutil.which("skopeo") is None:
        pytest.skip("skopeo not installed")
    ref = f"skiff-made/for-skopeo:{token}"
    cleanup_images.append(ref)
    return ref, skiff_import_and_save(engine, tmp_path, ref, token, "ENV MADE_BY=skiff")


def skopeo(*args: str) -> str:
    return ok(subprocess.run(["skopeo", "--insecure-policy", *args], capture_output=True, timeout=120))


def test_skopeo_reads_skiff_docker_archive(engine, skiff_saved):
    ref, archive = skiff_saved
    config = json.loads(skopeo("inspect", "--config", f"docker-archive:{archive}"))
    assert "MADE_BY=skiff" in config["config"]["Env"]
    layers = json.loads(ok(engine.docker("image", "inspect", "-f", "{{json .RootFS.Layers}}", ref)))
    assert config["rootfs"]["diff_ids"] == layers


def test_skopeo_reads_skiff_save_as_oci_layout(engine, skiff_saved, tmp_path):
    ref, archive = skiff_saved
    layout = tmp_path / "layout"
    with tarfile.open(archive) as tar:
        tar.extractall(layout, filter="data")
    assert json.loads((layout / "oci-layout").read_text())["imageLayoutVersion"] == "1.0.0"

    raw = subprocess.run(["skopeo", "--insecure-policy", "inspect", "--config", "--raw", f"oci:{layout}"],
                         capture_output=True, timeout=120)
    ok(raw)
    # The OCI view's config is the very blob skiff names the image by.
    assert "sha256:" + hashlib.sha256(raw.stdout).hexdigest() == image_id(engine, ref)
    info = json.loads(skopeo("inspect", f"oci:{layout}"))
    assert "MADE_BY=skiff" in info["Env"]

    # A full copy verifies every blob's digest and size against the manifest.
    out = tmp_path / "copied"
    skopeo("copy", f"oci:{layout}", f"dir:{out}")
    manifest = json.loads((out / "manifest.json").read_text())
    for layer in manifest["layers"]:
        blob = out / layer["digest"].removeprefix("sha256:")
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == layer["digest"].removeprefix("sha256:")
        assert blob.stat().st_size == layer["size"]
