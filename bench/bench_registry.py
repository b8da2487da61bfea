"""Push and pull of a ~200 MB image over loopback: skiff's engine against skopeo, same registry.

    sudo .venv/bin/python bench/bench_registry.py [-n 3] [--mb 200] [--no-doc]

The image has four layers (half random bytes, half base64 text, so gzip has work to do).
Each iteration starts a fresh `skiff registry serve` (new port, empty storage), then:
  push  skiff: `docker push` through the skiff engine (gzip + chunked upload)
        skopeo: `skopeo copy docker-archive:IMAGE.tar docker://REG/...` (gzip + upload)
  pull  skiff: `docker pull` into the engine with no layer of it present (download, verify,
        inflate, store, unpack into snapshots)
        skopeo: `skopeo copy docker://REG/... docker-archive:OUT.tar` (download, verify, inflate)
Target (issue 4): skiff within 1.5x of skopeo for both.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.registry import SkiffRegistry  # noqa: E402

from bench import report  # noqa: E402
from bench.stats import summarize  # noqa: E402
from bench.targets import Client, SkiffTarget, prepare, running  # noqa: E402

TARGET = 1.5
LAYERS = 4


def _layer(size: int, seed: int) -> bytes:
    half = size // 2
    raw = os.urandom(half)
    text = base64.b64encode(os.urandom(half * 3 // 4))[:half]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in ((f"data/{seed}/random.bin", raw), (f"data/{seed}/text.txt", text)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def write_image(path: Path, total_mb: int, ref: str) -> int:
    """A docker-archive with LAYERS layers of about total_mb MB in all; returns its size."""
    layers = [_layer(total_mb * 1_000_000 // LAYERS, i) for i in range(LAYERS)]
    diff_ids = ["sha256:" + hashlib.sha256(data).hexdigest() for data in layers]
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/sh"]},
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    with tarfile.open(path, "w") as tar:
        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for i, data in enumerate(layers):
            add(f"l{i}/layer.tar", data)
        add("config.json", config)
        add("manifest.json", json.dumps([{"Config": "config.json", "RepoTags": [ref],
                                          "Layers": [f"l{i}/layer.tar" for i in range(LAYERS)]}]).encode())
    return sum(len(d) for d in layers)


def timed(cmd: list[str], env: dict | None = None) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} -> {proc.returncode}: {proc.stderr.decode(errors='replace')[-1500:]}")
    return time.perf_counter() - t0


def main() -> int:
    ap = report.arg_parser(__doc__, reference_only=False)
    ap.add_argument("-n", type=int, default=3)
    ap.add_argument("--mb", type=int, default=200)
    args = ap.parse_args()
    archive = prepare()
    work = Path(tempfile.mkdtemp(prefix="skbench-reg-", dir="/tmp"))
    image = work / "image.tar"
    size = write_image(image, args.mb, "bench/big:v1")
    skiff = SkiffTarget(archive)
    samples: dict[str, list[float]] = {k: [] for k in ("skiff push", "skopeo push", "skiff pull", "skopeo pull")}
    skopeo = ["skopeo", "--insecure-policy"]
    try:
        with running(skiff):
            docker = Client("docker CLI -> skiff", ["docker"], skiff.env)
            docker.must("load", "-i", str(image))
            for i in range(args.n):
                reg = SkiffRegistry(work / f"reg{i}").start()
                try:
                    ref = f"{reg.addr}/bench/big:v1"
                    docker.must("tag", "bench/big:v1", ref)
                    samples["skiff push"].append(timed(["docker", "push", ref], skiff.env))
                    samples["skopeo push"].append(timed([*skopeo, "copy", "-q", "--dest-tls-verify=false",
                                                         f"docker-archive:{image}", f"docker://{reg.addr}/bench/sk:v1"]))
                    docker.must("rmi", ref)
                    docker.must("rmi", "bench/big:v1")  # no layer of it left in the engine
                    samples["skiff pull"].append(timed(["docker", "pull", ref], skiff.env))
                    out = work / "pulled.tar"
                    out.unlink(missing_ok=True)
                    samples["skopeo pull"].append(timed([*skopeo, "copy", "-q", "--src-tls-verify=false",
                                                         f"docker://{ref}", f"docker-archive:{out}:bench/big:v1"]))
                    out.unlink(missing_ok=True)
                    docker.must("tag", ref, "bench/big:v1")
                    docker.must("rmi", ref)
                finally:
                    reg.cleanup()
                print(f"iteration {i + 1}/{args.n}", file=sys.stderr, flush=True)
    finally:
        subprocess.run(["rm", "-rf", str(work)], check=False)
    rows = []
    for op in ("push", "pull"):
        mine, theirs = summarize(samples[f"skiff {op}"]), summarize(samples[f"skopeo {op}"])
        r = mine.median / theirs.median
        rows.append([op, f"{mine.median:.2f}", f"{theirs.median:.2f}", f"{r:.2f}x",
                     "met" if r <= TARGET else "missed"])
    body = (f"## Registry push and pull, {size / 1e6:.0f} MB image in {LAYERS} layers (bench/bench_registry.py)\n\n"
            f"{report.stamp()}, commit {report.git_rev()}, median of {args.n}; {report.machine()}. "
            "Same `skiff registry serve` on loopback for both; skiff = docker CLI -> skiff engine "
            "(pull includes unpacking into snapshots), skopeo = `skopeo copy` docker-archive <-> registry. "
            f"Target: skiff within {TARGET}x of skopeo.\n\n"
            + report.table(["operation", "skiff (s)", "skopeo (s)", "skiff / skopeo", "target"], rows))
    report.publish("registry", body, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
