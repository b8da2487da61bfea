"""Many idle containers on one engine: engine memory, per-container overhead, and `rm -f` of all.

    sudo .venv/bin/python bench/bench_idle.py [--count 1000] [--dockerd-count 200] [--parallel 4] [--no-doc]

Each container is `run -d --network none busybox sleep 3600` through the docker CLI (several
CLI processes at a time, to fill the engine faster; the figure of interest is memory, not the
fill time). Memory is the sum of PSS (and USS, private pages) from /proc/<pid>/smaps_rollup of
the engine's own processes: for skiff the engine and its shims; for the reference dockerd,
containerd and the containerd-shim-runc-v2 processes. The containers' own `sleep` processes
are left out on both sides, as is kernel memory (cgroups, namespaces, mounts).

Overhead per container = (total after - total before) / count. dockerd is filled with fewer
containers by default (1000 take long); its per-container figure is the same division and is
stated with its count. Target (issue 2): at most 1 MB per container for skiff.
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import report  # noqa: E402
from bench.procmem import Memory, mib, total_memory  # noqa: E402
from bench.targets import DockerdTarget, SkiffTarget, prepare  # noqa: E402

MB = 1_000_000
SETTLE_S = 3  # let lazily-started work (log readers, caches) reach steady state before measuring


@dataclass
class IdleResult:
    count: int
    daemon_before: Memory
    daemon_after: Memory
    helpers_after: Memory
    helper_processes: int
    fill_s: float
    rm_s: float

    @property
    def per_container(self) -> Memory:
        grown = self.daemon_after + self.helpers_after
        n = self.count
        return Memory(rss=(grown.rss - self.daemon_before.rss) // n, pss=(grown.pss - self.daemon_before.pss) // n,
                      uss=(grown.uss - self.daemon_before.uss) // n)


def fill_and_drain(target, count: int, parallel: int) -> IdleResult:
    client = target.docker_client()
    client.must("run", "--rm", "--network", "none", "busybox", "true")  # warm the engine up first
    time.sleep(SETTLE_S)
    before = total_memory(target.daemon_pids())

    def start_one(_i: int) -> str:
        return client.must("run", "-d", "--network", "none", "busybox", "sleep", "3600", timeout=120).strip()

    t0 = time.perf_counter()
    with ThreadPoolExecutor(parallel) as pool:
        ids = list(pool.map(start_one, range(count)))
    fill_s = time.perf_counter() - t0
    print(f"{target.name}: {count} containers in {fill_s:.1f}s", file=sys.stderr)
    time.sleep(SETTLE_S)
    running = set(client.must("ps", "-q", "--no-trunc").split())
    if not set(ids) <= running:
        raise RuntimeError(f"{target.name}: {len(set(ids) - running)} of {count} containers not running")
    helpers = target.helper_pids()
    after, helpers_mem = total_memory(target.daemon_pids()), total_memory(helpers)

    t0 = time.perf_counter()
    client.must("rm", "-f", *ids, timeout=3600)
    rm_s = time.perf_counter() - t0
    print(f"{target.name}: rm -f of {count} in {rm_s:.1f}s", file=sys.stderr)
    return IdleResult(count, before, after, helpers_mem, len(helpers), fill_s, rm_s)


def render(results: dict[str, IdleResult | str], parallel: int) -> str:
    rows = []
    for name, r in results.items():
        if isinstance(r, str):
            rows.append([name, "failed", r.replace("|", "/").replace("\n", " "), "", "", "", "", "", "", ""])
            continue
        per = r.per_container
        check = ("met" if per.pss <= MB else "missed") if name == "skiff" else ""
        rows.append([name, str(r.count), mib(r.daemon_before.rss), mib(r.daemon_after.rss),
                     f"{r.helper_processes} / {mib(r.helpers_after.pss)}",
                     f"{per.pss / MB:.2f}", f"{per.uss / MB:.2f}", f"{per.rss / MB:.2f}", check,
                     f"{r.fill_s:.1f} / {r.rm_s:.1f}"])
    ratio_line = ""
    s, d = results.get("skiff"), results.get("dockerd")
    if isinstance(s, IdleResult) and isinstance(d, IdleResult) and d.per_container.pss > 0:
        ratio_line = (f"\nPer-container PSS, skiff / dockerd: {s.per_container.pss / d.per_container.pss:.3f}; "
                      f"`rm -f` per container, skiff / dockerd: {(s.rm_s / s.count) / (d.rm_s / d.count):.2f}.\n")
    counts = " ".join(f"--{'count' if k == 'skiff' else 'dockerd-count'} {v.count}"
                      for k, v in results.items() if isinstance(v, IdleResult))
    return "\n".join([
        "## Idle containers: memory and `rm -f` (bench/bench_idle.py)",
        "",
        f"Measured {report.stamp()} at commit {report.git_rev()} on: {report.machine()}.",
        "",
        "Engine-side memory only: skiff = engine + its shims; dockerd = dockerd + containerd + "
        "containerd-shim-runc-v2 processes. The containers' own processes and kernel memory are "
        "not counted. 'Daemon RSS' is the long-lived daemons' RSS before (after one warm-up run) and "
        "with all containers running. Per container = growth of total PSS (USS, RSS) / count, in MB "
        "(10^6 bytes); RSS counts pages shared between shims once per shim, PSS splits them. dockerd's figure comes from its own (smaller) count, divided the same way. "
        f"Containers were started by {parallel} docker CLI processes at a time.",
        "",
        report.table(["engine", "containers", "daemon RSS before", "daemon RSS after",
                      "helpers: count / PSS", "per container PSS, MB", "per container USS, MB",
                      "per container RSS, MB", "target ≤ 1 MB", "fill / rm -f all, s"], rows),
        ratio_line,
        f"Reproduce: `sudo .venv/bin/python bench/bench_idle.py {counts} --parallel {parallel}`",
    ])


def main() -> None:
    ap = report.arg_parser(__doc__)
    ap.add_argument("--count", type=int, default=1000, help="containers on skiff")
    ap.add_argument("--dockerd-count", type=int, default=200, help="containers on dockerd")
    ap.add_argument("--parallel", type=int, default=4, help="docker CLI processes at a time")
    args = ap.parse_args()
    archive = prepare()
    results: dict[str, IdleResult | str] = {}
    plan = [] if args.reference_only else [(SkiffTarget, args.count)]
    plan.append((DockerdTarget, args.dockerd_count))
    for cls, count in plan:  # one engine at a time, so neither's containers weigh on the other
        target = cls(archive)
        try:
            target.start()
            results[target.name] = fill_and_drain(target, count, args.parallel)
        except RuntimeError as e:
            results[target.name] = str(e)[-300:]
            print(f"{target.name} failed: {e}\n{target.diagnose()}", file=sys.stderr)
        finally:
            target.cleanup()
    report.publish("bench_idle", render(results, args.parallel), args)


if __name__ == "__main__":
    main()
