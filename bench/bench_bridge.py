"""Container starts on a bridge network: skiff's default bridge against dockerd on its own bridge.

    sudo .venv/bin/python bench/bench_bridge.py [-n 20] [--count 50]

Both through the docker CLI: `run --rm busybox true` (median of n, after 2 warm-ups) and
`count` × `run -d busybox sleep 3600` (total), the two engines taking turns within every
iteration so that load on the shared machine hits both alike. The reference dockerd runs
with `--bridge=<a bridge made here>` and `--iptables=false` (it never touches the host's
rules); skiff runs with its defaults (its own bridge, NAT and isolation rules).
Target (issue 3): skiff at most 1/5 of dockerd's time.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tests.support.dockerd as dockerd_support  # noqa: E402
from tests.support.busybox import write_docker_archive  # noqa: E402
from tests.support.dockerd import Dockerd  # noqa: E402
from tests.support.engine import Engine  # noqa: E402


def dockerd_on_bridge(bridge: str) -> Dockerd:
    """The test suite's reference dockerd, with `--bridge=none` swapped for our bridge."""
    real = dockerd_support.subprocess.Popen

    def popen(args, *a, **kw):
        if args and args[0] == "dockerd":
            args = [f"--bridge={bridge}" if x == "--bridge=none" else x for x in args]
        return real(args, *a, **kw)

    dockerd_support.subprocess.Popen = popen  # only while our dockerd starts
    try:
        return Dockerd().start()
    finally:
        dockerd_support.subprocess.Popen = real


def timed(eng, *args: str) -> float:
    t0 = time.perf_counter()
    r = eng.docker(*args)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {r.stderr.decode(errors='replace')}")
    return time.perf_counter() - t0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-n", type=int, default=20)
    p.add_argument("--count", type=int, default=50)
    a = p.parse_args()
    bridge = "skbb" + secrets.token_hex(3)
    subprocess.run(["ip", "link", "add", bridge, "type", "bridge"], check=True)
    ref = skiff = None
    try:
        subprocess.run(["ip", "addr", "add", "10.213.99.1/24", "dev", bridge], check=True)
        subprocess.run(["ip", "link", "set", bridge, "up"], check=True)
        archive = Path(tempfile.mkdtemp(prefix="skiff-bench-")) / "busybox.tar"
        write_docker_archive(archive)
        ref = dockerd_on_bridge(bridge)
        ref.load(archive)
        skiff = Engine(Path(tempfile.mkdtemp(prefix="skiff-bench-", dir="/tmp"))).start()
        skiff.load(archive)
        engines: dict[str, Any] = {"dockerd": ref, "skiff": skiff}
        rm: dict[str, list[float]] = {k: [] for k in engines}
        for i in range(a.n + 2):
            for name, eng in engines.items():
                dt = timed(eng, "run", "--rm", "busybox", "true")
                if i >= 2:
                    rm[name].append(dt)
        detached = dict.fromkeys(engines, 0.0)
        for _ in range(a.count):
            for name, eng in engines.items():
                detached[name] += timed(eng, "run", "-d", "busybox", "sleep", "3600")
        load = Path("/proc/loadavg").read_text().split()[0]
        print("| case | dockerd | skiff | ratio (target ≤ 0.20) |\n|---|---|---|---|")
        med = {k: statistics.median(v) for k, v in rm.items()}
        print(f"| `run --rm busybox true`, median of {a.n} | {med['dockerd'] * 1000:.0f} ms | "
              f"{med['skiff'] * 1000:.0f} ms | {med['skiff'] / med['dockerd']:.2f} |")
        print(f"| {a.count} × `run -d`, total | {detached['dockerd']:.2f} s | {detached['skiff']:.2f} s | "
              f"{detached['skiff'] / detached['dockerd']:.2f} |")
        print(f"\nload average at the end: {load} (2 cores, shared machine)")
        for eng in engines.values():
            ids = eng.docker("ps", "-aq").stdout.decode().split()
            if ids:
                eng.docker("rm", "-f", *ids)
    finally:
        if skiff:
            skiff.cleanup()
        if ref:
            ref.cleanup()
        subprocess.run(["ip", "link", "del", bridge], capture_output=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
