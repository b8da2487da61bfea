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
from bench.targets import Client, DockerdTarget, SkiffTarget, prepare, running  # noqa: E402

TARGET = 0.2
NONE = ["--network", "none"]


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


def render(results: dict[str, list[float] | str], n: int, warmup: int) -> str:
    ref_label = "docker CLI -> dockerd, --network none"
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
        "## `run --rm busybox true` (bench/bench_run.py)",
        "",
        f"Measured {report.stamp()} at commit {report.git_rev()} on: {report.machine()}.",
        "",
        f"{n} timed iterations after {warmup} warm-up ones; wall time of the whole CLI process "
        "(start, create, start, wait, remove, exit). Ratio = median / dockerd's median; target ≤ 0.20.",
        "",
        report.table(["client -> engine", "median ms", "p90 ms", "range ms", "ratio", "target 1/5"], rows),
        "",
        f"Reproduce: `sudo .venv/bin/python bench/bench_run.py -n {n} --warmup {warmup}`",
    ]
    return "\n".join(body)


def main() -> None:
    ap = report.arg_parser(__doc__)
    ap.add_argument("-n", type=int, default=30, help="timed iterations per combination")
    ap.add_argument("--warmup", type=int, default=3)
    args = ap.parse_args()
    archive = prepare()
    skiff = None if args.reference_only else SkiffTarget(archive)
    dockerd = DockerdTarget(archive)
    with running(skiff, dockerd):
        results = measure(cases(skiff, dockerd), args.n, args.warmup)
    report.publish("bench_run", render(results, args.n, args.warmup), args)


if __name__ == "__main__":
    main()
