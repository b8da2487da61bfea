"""`up -d` then `down` of a 5-service compose project: skiff compose against skiff, and the
real docker-compose 1.29 against skiff and against the reference dockerd (same run).

    sudo .venv/bin/python bench/bench_compose.py [--rounds 5] [--bridge] [--no-doc]

Every service is busybox `sleep 3600` with `stop_signal: SIGKILL` (so `down` measures the tools,
not a grace period), on `network_mode: none` by default; with `--bridge`, on the project's
own `<project>_default` network instead (dockerd then runs on a bridge of the benchmark's).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import report  # noqa: E402
from bench.stats import ratio, summarize  # noqa: E402
from bench.targets import Client, DockerdBridgeTarget, DockerdTarget, SkiffTarget, prepare, running, skiff_cli  # noqa: E402

REF = "docker-compose -> dockerd"
SERVICES = ("web", "api", "worker", "cache", "db")


def project_file(bridge: bool) -> str:
    lines = ["version: '2.4'", "services:"]
    for i, name in enumerate(SERVICES):
        lines += [f"  {name}:", "    image: busybox", "    command: sleep 3600", "    stop_signal: SIGKILL"]
        if not bridge:
            lines.append("    network_mode: none")
        if i:
            lines.append(f"    depends_on: [{SERVICES[i - 1]}]")
    return "\n".join(lines) + "\n"


def one_round(clients: list[Client], n: int) -> dict[str, tuple[float, float]]:
    out = {}
    for k, client in enumerate(clients):
        project = f"bench{n}c{k}"
        t0 = time.perf_counter()
        client.must("-p", project, "up", "-d")
        up = time.perf_counter() - t0
        ids = client.must("-p", project, "ps", "-q").split()
        if len(ids) != len(SERVICES):
            raise RuntimeError(f"{client.label}: {len(ids)} containers after up -d")
        t0 = time.perf_counter()
        client.must("-p", project, "down")
        out[client.label] = (up, time.perf_counter() - t0)
    return out


def render(results: dict[str, list[tuple[float, float]] | str], rounds: int, bridge: bool) -> str:
    ref = results.get(REF)
    ref_up = summarize([r[0] for r in ref]).median if isinstance(ref, list) else None
    ref_down = summarize([r[1] for r in ref]).median if isinstance(ref, list) else None
    rows = []
    for label, samples in results.items():
        if isinstance(samples, str):
            rows.append([label, "failed", "", "", samples.replace("|", "/").replace("\n", " ")])
            continue
        up = summarize([s[0] for s in samples]).median
        down = summarize([s[1] for s in samples]).median
        rows.append([label, f"{up:.2f}", f"{ratio(up, ref_up):.2f}" if ref_up else "?",
                     f"{down:.2f}", f"{ratio(down, ref_down):.2f}" if ref_down else "?"])
    where = "on the project network" if bridge else "`network_mode: none`"
    return "\n".join([
        f"## `up -d` and `down` of a 5-service compose project, {where} (bench/bench_compose.py"
        f"{' --bridge' if bridge else ''})",
        "",
        f"Measured {report.stamp()} at commit {report.git_rev()} on: {report.machine()}.",
        "",
        f"{rounds} round(s), median shown; each client brings up its own project (5 busybox services in a "
        "depends_on chain), checks that `ps -q` lists 5 containers, then `down`. The clients take turns "
        "round by round. Ratio = this row / docker-compose 1.29 against dockerd.",
        "",
        report.table(["client -> engine", "up -d, s", "ratio", "down, s", "ratio"], rows),
        "",
        f"Reproduce: `sudo .venv/bin/python bench/bench_compose.py --rounds {rounds}{' --bridge' if bridge else ''}`",
    ])


def main() -> None:
    ap = report.arg_parser(__doc__)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--bridge", action="store_true", help="services on the project's default network")
    args = ap.parse_args()
    if not shutil.which("docker-compose"):
        sys.exit("docker-compose is not installed (apt-get install docker-compose)")
    archive = prepare()
    skiff = None if args.reference_only else SkiffTarget(archive)
    dockerd = DockerdBridgeTarget(archive) if args.bridge else DockerdTarget(archive)
    workdir = Path(tempfile.mkdtemp(prefix="skiff-bench-compose-", dir="/tmp"))
    (workdir / "docker-compose.yml").write_text(textwrap.dedent(project_file(args.bridge)))
    results: dict[str, list[tuple[float, float]] | str] = {}
    try:
        with running(skiff, dockerd):
            clients = []
            if skiff:
                clients += [Client("skiff compose -> skiff", [*skiff_cli(), "compose"], skiff.env),
                            Client("docker-compose -> skiff", ["docker-compose"], skiff.env)]
            clients.append(Client(REF, ["docker-compose"], dockerd.env))
            for c in clients:
                c.argv = [*c.argv, "--project-directory", str(workdir), "-f", str(workdir / "docker-compose.yml")]
            try:
                one_round(clients, 0)  # warm-up
                for r in range(args.rounds):
                    for label, figures in one_round(clients, r + 1).items():
                        results.setdefault(label, []).append(figures)  # type: ignore[union-attr]
                    print(f"round {r + 1} done", file=sys.stderr)
            except RuntimeError as e:
                print(f"failed: {e}\n{skiff.diagnose() if skiff else ''}", file=sys.stderr)
                for client in clients:
                    results[client.label] = str(e)[-300:]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    name = "bench_compose_bridge" if args.bridge else "bench_compose"
    report.publish(name, render(results, args.rounds, args.bridge), args)


if __name__ == "__main__":
    main()
