"""A `busybox:latest` image made from Debian's busybox-static, with no registry involved.

`write_docker_archive` writes the image as a docker-archive tarball (what `docker save`
writes and `docker load` reads). The tarball is deterministic, so the image id is the
same on every machine that has the same busybox binary.
"""

import hashlib
import io
import json
import os
import subprocess
import tarfile
from pathlib import Path

BUSYBOX = Path(os.environ.get("SKIFF_BUSYBOX", "/bin/busybox"))
MTIME = 1_700_000_000

PASSWD = "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/home:/bin/false\n"
GROUP = "root:x:0:\ndaemon:x:1:\nnogroup:x:65534:\n"


def _info(name: str, kind: bytes, mode: int) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mode = mode
    ti.mtime = MTIME
    ti.uname = ti.gname = "root"
    return ti


def layer_tar(busybox: Path = BUSYBOX) -> bytes:
    """The rootfs as one uncompressed layer: the binary, one symlink per applet, /etc basics."""
    if not busybox.exists():
        raise FileNotFoundError(f"{busybox} not found: install Debian's busybox-static")
    applets = subprocess.run([str(busybox), "--list-full"], capture_output=True, text=True, check=True).stdout.split()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        dirs = {"bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "root", "home", "var", "var/www", "dev", "proc", "sys"}
        dirs |= {str(Path(a).parent) for a in applets}
        for d in sorted(dirs):
            tar.addfile(_info(d, tarfile.DIRTYPE, 0o755))
        for d in ("tmp", "var/tmp"):
            tar.addfile(_info(d, tarfile.DIRTYPE, 0o1777))
        data = busybox.read_bytes()
        ti = _info("bin/busybox", tarfile.REGTYPE, 0o755)
        ti.size = len(data)
        tar.addfile(ti, io.BytesIO(data))
        for a in sorted(set(applets)):
            if a == "bin/busybox":
                continue
            ti = _info(a, tarfile.SYMTYPE, 0o777)
            ti.linkname = "/bin/busybox"
            tar.addfile(ti)
        for name, text in (("etc/passwd", PASSWD), ("etc/group", GROUP)):
            raw = text.encode()
            ti = _info(name, tarfile.REGTYPE, 0o644)
            ti.size = len(raw)
            tar.addfile(ti, io.BytesIO(raw))
    return buf.getvalue()


def image_config(diff_id: str) -> dict:
    return {
        "architecture": "amd64",
        "os": "linux",
        "created": "2023-11-14T22:13:20Z",
        "config": {
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Cmd": ["sh"],
        },
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [
            {"created": "2023-11-14T22:13:20Z", "created_by": "/bin/sh -c #(nop) ADD busybox-static in / "},
            {"created": "2023-11-14T22:13:20Z", "created_by": '/bin/sh -c #(nop)  CMD ["sh"]', "empty_layer": True},
        ],
    }


def write_docker_archive(dest: Path, tag: str = "busybox:latest") -> str:
    """Write the image as a docker-archive tarball at `dest`; returns the image id."""
    layer = layer_tar()
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = json.dumps(image_config(diff_id), separators=(",", ":")).encode()
    config_hex = hashlib.sha256(config).hexdigest()
    layer_dir = diff_id[7:]
    manifest = [{"Config": f"{config_hex}.json", "RepoTags": [tag], "Layers": [f"{layer_dir}/layer.tar"]}]
    repo, _, t = tag.rpartition(":")
    files = {
        f"{config_hex}.json": config,
        f"{layer_dir}/layer.tar": layer,
        "manifest.json": json.dumps(manifest).encode(),
        "repositories": json.dumps({repo: {t: layer_dir}}).encode(),
    }
    with tarfile.open(dest, "w") as tar:
        tar.addfile(_info(layer_dir, tarfile.DIRTYPE, 0o755))
        for name, raw in files.items():
            ti = _info(name, tarfile.REGTYPE, 0o644)
            ti.size = len(raw)
            tar.addfile(ti, io.BytesIO(raw))
    return "sha256:" + config_hex


if __name__ == "__main__":
    import sys

    print(write_docker_archive(Path(sys.argv[1] if len(sys.argv) > 1 else "busybox.tar")))
