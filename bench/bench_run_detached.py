"""50 sequential `run -d --network none busybox sleep 3600`, total time; then `rm -f` of them all.

    sudo .venv/bin/python bench/bench_run_detached.py [-c 50] [--rounds 1] [--no-doc]

Same three combinations as bench_run.py: skiff CLI -> skiff, docker CLI -> skiff, docker CLI ->
dockerd. Each round starts the containers one after another (as a script would), then removes
them with one `rm -f` through the same CLI. Target (issue 2): at most 1/5 of dockerd's total.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import report  # noqa: E402
from bench.bench_run import BRIDGE_NOTE  # noqa: E402
from bench.stats import ratio, summarize, verdict  # noqa: E402
from bench.targets import (  # noqa: E402
    Client,
    DockerdBridgeTarget,
    DockerdTarget,
    SkiffTarget,
    prepare,
    running,
)

TARGET = 0.2
REF = "docker CLI -> dockerd"
NONE = ["--network", "none"]


def one_round(clients: list[Client], count: int, net: list[str] = NONE) -> dict[str, tuple[float, float]]:
    """Per client: (seconds to start `count` containers one by one, seconds for one `rm -f` of them all).

    The clients take turns container by container, so load from elsewhere on the machine falls
    on all of them alike.
    """
    ids: dict[str, list[str]] = {c.label: [] for c in clients}
    started = dict.fromkeys(ids, 0.0)
    for _ in range(count):
        for client in clients:
            t0 = time.perf_counter()
            ids[client.label].append(
                client.must("run", "-d", *net, "busybox", "sleep", "3600", timeout=120).strip())
            started[client.label] += time.perf_counter() - t0
    out = {}
    for client in clients:
        running = set(client.must("ps", "-q", "--no-trunc").split())
        missing = [i for i in ids[client.label] if i not in running]
        if missing:
            raise RuntimeError(f"{client.label}: {len(missing)} containers not running after run -d")
        t0 = time.perf_counter()
        client.must("rm", "-f", *ids[client.label])
        out[client.label] = (started[client.label], time.perf_counter() - t0)
    return out


def render(results: dict[str, list[tuple[float, float]] | str], count: int, rounds: int,
           bridge: bool = False) -> str:
    ref = results.get(REF)
    ref_run = summarize([r[0] for r in ref]).median if isinstance(ref, list) else None
    ref_rm = summarize([r[1] for r in ref]).median if isinstance(ref, list) else None
    rows = []
    for label, samples in results.items():
        if isinstance(samples, str):
            rows.append([label, "failed", "", "", "", samples.replace("|", "/").replace("\n", " ")])
            continue
        run_s = summarize([s[0] for s in samples]).median
        rm_s = summarize([s[1] for s in samples]).median
        rows.append([label, f"{run_s:.2f}", f"{run_s / count * 1000:.0f}",
                     f"{ratio(run_s, ref_run):.2f}" if ref_run else "?",
                     "" if label == REF or not ref_run else verdict(run_s, ref_run, TARGET),
                     f"{rm_s:.2f} ({ratio(rm_s, ref_rm):.2f})" if ref_rm else f"{rm_s:.2f}"])
    return "\n".join([
        (f"## {count} × `run -d busybox sleep 3600` on the default bridge, then `rm -f` "
         "(bench/bench_run_detached.py --bridge)" if bridge else
         f"## {count} × `run -d --network none busybox sleep 3600`, then `rm -f` (bench/bench_run_detached.py)"),
        "",
        f"Measured {report.stamp()} at commit {report.git_rev()} on: {report.machine()}.",
        "",
        f"{rounds} round(s) (median shown). Each client starts {count} containers one after another, each "
        "by its own CLI process (the clients take turns container by container, so both skiff clients' "
        "containers share one skiff engine), checks they run, then removes its own with one `rm -f`. "
        "Ratio = skiff / dockerd; target ≤ 0.20 for the start phase.",
        "",
        report.table(["client -> engine", f"{count} × run -d, s", "per container, ms", "ratio", "target 1/5",
                      "rm -f all, s (ratio)"], rows),
        "",
        *([BRIDGE_NOTE, ""] if bridge else []),
        f"Reproduce: `sudo .venv/bin/python bench/bench_run_detached.py -c {count} --rounds {rounds}"
        f"{' --bridge' if bridge else ''}`",
    ])


def main() -> None:
    ap = report.arg_parser(__doc__)
    ap.add_argument("-c", "--count", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=2, help="untimed run -d/rm -f per client first")
    ap.add_argument("--bridge", action="store_true",
                    help="both engines on their default bridge (dockerd on its own bridge, iptables on)")
    args = ap.parse_args()
    archive = prepare()
    skiff = None if args.reference_only else SkiffTarget(archive)
    dockerd = DockerdBridgeTarget(archive) if args.bridge else DockerdTarget(archive)
    net = [] if args.bridge else NONE
    results: dict[str, list[tuple[float, float]] | str] = {}
    with running(skiff, dockerd):
        clients = [skiff.skiff_client(), skiff.docker_client()] if skiff else []
        clients.append(dockerd.docker_client())
        try:
            if args.warmup:
                one_round(clients, args.warmup, net)
            for r in range(args.rounds):
                for label, figures in one_round(clients, args.count, net).items():
                    results.setdefault(label, []).append(figures)  # type: ignore[union-attr]
                print(f"round {r + 1} done", file=sys.stderr)
        except RuntimeError as e:
            print(f"failed: {e}\n{skiff.diagnose() if skiff else ''}", file=sys.stderr)
            for client in clients:
                results[client.label] = str(e)[-300:]
    name = "bench_run_detached_bridge" if args.bridge else "bench_run_detached"
    report.publish(name, render(results, args.count, args.rounds, args.bridge), args)


if __name__ == "__main__":
    main()
