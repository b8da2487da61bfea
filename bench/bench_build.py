"""A 20-instruction busybox Dockerfile, built with no cache and fully cached, by skiff and by
dockerd's classic builder (DOCKER_BUILDKIT=0) in the same run; median and p90.

    sudo .venv/bin/python bench/bench_build.py [-n 5] [--warmup 1] [--no-doc]

Each iteration builds with `--no-cache`, then again (every step a cache hit), through the docker
CLI -> skiff, the skiff CLI -> skiff and the docker CLI -> dockerd, taking turns.
Targets (issue 4): no-cache at most 1/3 of dockerd's median; cached no slower than dockerd.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import report  # noqa: E402
from bench.stats import Summary, ratio, summarize, verdict  # noqa: E402
from bench.targets import Client, DockerdTarget, SkiffTarget, prepare, running  # noqa: E402

TARGETS = {"no cache": 1 / 3, "cached": 1.0}
TAG = "skiff-bench-build:latest"
DOCKERFILE = """\
FROM busybox
LABEL bench=build
ENV APP=/app MODE=bench
ARG VERSION=1
WORKDIR /app
COPY files/ /app/files/
COPY one.txt /app/
RUN echo "$VERSION" > /app/version
RUN mkdir -p /app/data && echo data > /app/data/x
RUN for i in 1 2 3 4 5; do echo $i >> /app/count; done
RUN ls /app > /app/listing
COPY two.txt /app/two.txt
RUN cat /app/two.txt > /app/three.txt
RUN rm /app/one.txt
RUN echo "bench:x:1000:1000::/app:/bin/sh" >> /etc/passwd
USER 1000
EXPOSE 8080
VOLUME /app/data
HEALTHCHECK CMD true
CMD ["sh", "-c", "cat /app/version"]
"""
REF = "docker CLI -> dockerd"


def write_context(d: Path) -> Path:
    (d / "files").mkdir(parents=True)
    for i in range(5):
        (d / "files" / f"f{i}").write_text(f"file {i}\n" * 100)
    (d / "one.txt").write_text("one\n")
    (d / "two.txt").write_text("two\n")
    (d / "Dockerfile").write_text(DOCKERFILE)
    return d


def classic(client: Client) -> Client:
    return Client(client.label, client.argv, client.env, {"DOCKER_BUILDKIT": "0"})


def cases(skiff: SkiffTarget | None, dockerd: DockerdTarget) -> list[tuple[str, Client]]:
    out = []
    if skiff:
        out += [("docker CLI -> skiff", classic(skiff.docker_client())), ("skiff CLI -> skiff", skiff.skiff_client())]
    return out + [(REF, classic(dockerd.docker_client()))]


def measure(cases_: list[tuple[str, Client]], ctx: Path, n: int, warmup: int) -> dict[str, dict[str, list[float] | str]]:
    results: dict[str, dict[str, list[float] | str]] = {kind: {label: [] for label, _ in cases_} for kind in TARGETS}
    for i in range(warmup + n):
        for label, client in cases_:
            for kind, extra in (("no cache", ["--no-cache"]), ("cached", [])):
                if isinstance(results[kind][label], str):
                    continue
                elapsed, proc = client.timed("build", "-q", *extra, "-t", TAG, str(ctx))
                if proc.returncode != 0:
                    results[kind][label] = f"exit {proc.returncode}: {proc.stderr.decode(errors='replace')[-300:]}"
                elif i >= warmup:
                    results[kind][label].append(elapsed)  # type: ignore[union-attr]
        print(f"\riteration {i + 1}/{warmup + n}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return results


def render(results: dict[str, dict[str, list[float] | str]], n: int, warmup: int) -> str:
    rows = []
    for kind, by_client in results.items():
        ref = by_client.get(REF)
        ref_median = summarize(ref).median if isinstance(ref, list) and ref else None
        for label, samples in by_client.items():
            if isinstance(samples, str):
                rows.append([kind, label, "failed", "", "", samples.replace("|", "/").replace("\n", " ")])
                continue
            s: Summary = summarize(samples)
            r = f"{ratio(s.median, ref_median):.2f}" if ref_median else "?"
            check = "" if label == REF or not ref_median else verdict(s.median, ref_median, TARGETS[kind])
            rows.append([kind, label, f"{s.median * 1000:.0f}", f"{s.p90 * 1000:.0f}", r, check])
    body = [
        "## Dockerfile builds (bench/bench_build.py)",
        "",
        f"Measured {report.stamp()} at commit {report.git_rev()} on: {report.machine()}.",
        "",
        f"A 20-instruction busybox Dockerfile (7 RUN, 3 COPY, 9 metadata instructions); {n} timed "
        f"iterations after {warmup} warm-up ones, each a `build -q --no-cache` then a fully cached `build -q`; "
        "wall time of the whole CLI process (context upload included). The docker CLI runs with "
        "`DOCKER_BUILDKIT=0` against both engines. Ratio = median / dockerd's median; targets: no cache "
        "≤ 0.33, cached ≤ 1.",
        "",
        report.table(["build", "client -> engine", "median ms", "p90 ms", "ratio", "target"], rows),
        "",
        f"Reproduce: `sudo .venv/bin/python bench/bench_build.py -n {n} --warmup {warmup}`",
    ]
    return "\n".join(body)


def main() -> None:
    ap = report.arg_parser(__doc__)
    ap.add_argument("-n", type=int, default=5, help="timed iterations per combination")
    ap.add_argument("--warmup", type=int, default=1)
    args = ap.parse_args()
    archive = prepare()
    ctx = write_context(Path(tempfile.mkdtemp(prefix="skiff-bench-build-", dir="/tmp")) / "ctx")
    skiff = None if args.reference_only else SkiffTarget(archive)
    dockerd = DockerdTarget(archive)
    try:
        with running(skiff, dockerd):
            results = measure(cases(skiff, dockerd), ctx, args.n, args.warmup)
    finally:
        shutil.rmtree(ctx.parent, ignore_errors=True)
    report.publish("bench_build", render(results, args.n, args.warmup), args)


if __name__ == "__main__":
    main()
