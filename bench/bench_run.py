"""`run --rm busybox true`, end to end, through each CLI and engine; median and p90.

    sudo .venv/bin/python bench/bench_run.py [-n 30] [--warmup 3] [--no-doc]

Compares skiff CLI -> skiff, docker CLI -> skiff and docker CLI -> dockerd, all with
`--network none` (dockerd runs with --bridge=none), plus skiff on its default network mode.
The combinations take turns within each iteration, so drift on the machine hits all alike.
Target (issue 2): skiff at most 1/5 of dockerd's median.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import report  # noqa: E402
from bench.stats import Summary, ratio, summarize, verdict  # noqa: E402
from bench.targets import (  # noqa: E402
    Client,
    DockerdBridgeTarget,
    DockerdTarget,
    SkiffTarget,
    prepare,
    running,
)

TARGET = 0.2
BRIDGE_NOTE = ("dockerd runs with `--bridge` on a bridge the script made, `--iptables=true --ip-masq=true` "
               "(its DOCKER chains and rules are removed afterwards); skiff on its own default bridge, "
               "with its iptables rules.")
NONE = ["--network", "none"]


BRIDGE_REF = "docker CLI -> dockerd, its own bridge"


def bridge_cases(skiff: SkiffTarget | None, dockerd: DockerdTarget) -> list[tuple[str, Client, list[str]]]:
    """--bridge: both engines on their default bridge network (no --network flag)."""
    out = []
    if skiff:
        out += [("skiff CLI -> skiff, default bridge", skiff.skiff_client(), []),
                ("docker CLI -> skiff, default bridge", skiff.docker_client(), [])]
    return out + [(BRIDGE_REF, dockerd.docker_client(), [])]


def cases(skiff: SkiffTarget | None, dockerd: DockerdTarget) -> list[tuple[str, Client, list[str]]]:
    out = []
    if skiff:
        out += [("skiff CLI -> skiff, --network none", skiff.skiff_client(), NONE),
                ("docker CLI -> skiff, --network none", skiff.docker_client(), NONE)]
    out.append(("docker CLI -> dockerd, --network none", dockerd.docker_client(), NONE))
    if skiff:
        out += [("skiff CLI -> skiff, default network", skiff.skiff_client(), []),
                ("docker CLI -> skiff, default network", skiff.docker_client(), [])]
    return out


def measure(cases_: list[tuple[str, Client, list[str]]], n: int, warmup: int) -> dict[str, list[float] | str]:
    """Samples in seconds per case, or the error text of a case that failed."""
    results: dict[str, list[float] | str] = {label: [] for label, _c, _a in cases_}
    for i in range(warmup + n):
        for label, client, net in cases_:
            if isinstance(results[label], str):
                continue
            elapsed, proc = client.timed("run", "--rm", *net, "busybox", "true")
            if proc.returncode != 0:
                results[label] = f"exit {proc.returncode}: {proc.stderr.decode(errors='replace').strip()[-300:]}"
            elif i >= warmup:
                results[label].append(elapsed)  # type: ignore[union-attr]
        print(f"\riteration {i + 1}/{warmup + n}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return results


def render(results: dict[str, list[float] | str], n: int, warmup: int, bridge: bool = False) -> str:
    ref_label = BRIDGE_REF if bridge else "docker CLI -> dockerd, --network none"
    ref = results.get(ref_label)
    ref_median = summarize(ref).median if isinstance(ref, list) and ref else None
    rows = []
    for label, samples in results.items():
        if isinstance(samples, str):
            rows.append([label, "failed", "", "", "", samples.replace("|", "/").replace("\n", " ")])
            continue
        s: Summary = summarize(samples)
        r = f"{ratio(s.median, ref_median):.2f}" if ref_median else "?"
        check = "" if label == ref_label or not ref_median else verdict(s.median, ref_median, TARGET)
        rows.append([label, f"{s.median * 1000:.0f}", f"{s.p90 * 1000:.0f}",
                     f"{s.low * 1000:.0f}–{s.high * 1000:.0f}", r, check])
    body = [
        ("## `run --rm busybox true` on the default bridge (bench/bench_run.py --bridge)" if bridge
         else "## `run --rm busybox true` (bench/bench_run.py)"),
        "",
        f"Measured {report.stamp()} at commit {report.git_rev()} on: {report.machine()}.",
        "",
        f"{n} timed iterations after {warmup} warm-up ones; wall time of the whole CLI process "
        "(start, create, start, wait, remove, exit). Ratio = median / dockerd's median; target ≤ 0.20.",
        "",
        report.table(["client -> engine", "median ms", "p90 ms", "range ms", "ratio", "target 1/5"], rows),
        "",
        *([BRIDGE_NOTE] if bridge else []),
        "" if bridge else None,
        f"Reproduce: `sudo .venv/bin/python bench/bench_run.py -n {n} --warmup {warmup}"
        f"{' --bridge' if bridge else ''}`",
    ]
    return "\n".join(line for line in body if line is not None)


def main() -> None:
    ap = report.arg_parser(__doc__)
    ap.add_argument("-n", type=int, default=30, help="timed iterations per combination")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--bridge", action="store_true",
                    help="both engines on their default bridge (dockerd on its own bridge, iptables on)")
    args = ap.parse_args()
    archive = prepare()
    skiff = None if args.reference_only else SkiffTarget(archive)
    dockerd = DockerdBridgeTarget(archive) if args.bridge else DockerdTarget(archive)
    with running(skiff, dockerd):
        results = measure((bridge_cases if args.bridge else cases)(skiff, dockerd), args.n, args.warmup)
    name = "bench_run_bridge" if args.bridge else "bench_run"
    report.publish(name, render(results, args.n, args.warmup, args.bridge), args)


if __name__ == "__main__":
    main()
