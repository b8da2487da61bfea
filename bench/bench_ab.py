"""Interleaved A/B of two engine versions: this tree against an older commit's engine.

    sudo .venv/bin/python bench/bench_ab.py COMMIT [-n 30]

Both engines run side by side on private roots, the older one from `git archive COMMIT src`
(through PYTHONPATH). The docker CLI runs each case on both, alternating which goes first,
so load from elsewhere falls on both alike; medians are printed. No doc section: the figures
are quoted in docs/benchmarks.md's summary.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import report  # noqa: E402
from bench.targets import SkiffTarget, prepare, running  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CASES = [
    ("run -d, --network none", ["run", "-d", "--network", "none", "busybox", "sleep", "3600"]),
    ("run --rm, --network none", ["run", "--rm", "--network", "none", "busybox", "true"]),
    ("run -d, default bridge", ["run", "-d", "busybox", "sleep", "3600"]),
    ("run --rm, default bridge", ["run", "--rm", "busybox", "true"]),
]


def old_tree(commit: str) -> str:
    """The commit's src/ in a temp dir (removed when the script ends)."""
    tmp = tempfile.mkdtemp(prefix="skiff-ab-")
    archive = subprocess.run(["git", "-C", str(REPO), "archive", commit, "src"], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
    return tmp + "/src"


def main() -> None:
    ap = report.arg_parser(__doc__, reference_only=False)
    ap.add_argument("commit")
    ap.add_argument("-n", type=int, default=30)
    args = ap.parse_args()
    archive = prepare()
    src = old_tree(args.commit)
    old, new = SkiffTarget(archive), SkiffTarget(archive)
    os.environ["PYTHONPATH"] = src  # only the old engine's process sees it
    try:
        old.start()
    finally:
        del os.environ["PYTHONPATH"]
    with running(new):
        try:
            for target in (old, new):  # warm-up: the first container of an engine builds its helpers
                for _ in range(2):
                    subprocess.run(["docker", "run", "--rm", "busybox", "true"], env=target.env, check=True,
                                   capture_output=True)
            for label, cmd in CASES:
                times: dict[str, list[float]] = {"old": [], "new": []}
                for i in range(args.n):
                    order = [("old", old), ("new", new)]
                    for name, target in order if i % 2 == 0 else order[::-1]:
                        t0 = time.perf_counter()
                        subprocess.run(["docker", *cmd], env=target.env, check=True, capture_output=True)
                        times[name].append(time.perf_counter() - t0)
                a, b = (statistics.median(times[k]) * 1000 for k in ("old", "new"))
                print(f"{label}: {args.commit} {a:.1f} ms, this tree {b:.1f} ms ({(b - a) / a * 100:+.0f} %), "
                      f"load {os.getloadavg()[0]:.1f}", flush=True)
        finally:
            old.cleanup()
            shutil.rmtree(os.path.dirname(src), ignore_errors=True)  # the old tree's copy


if __name__ == "__main__":
    main()
