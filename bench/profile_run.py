"""Where the time of `run --rm busybox true` goes, in skiff and (for the API steps) in dockerd.

    sudo .venv/bin/python bench/profile_run.py [-n 20] [--no-doc]

1. API steps, measured from a raw HTTP client on the engine's socket (no CLI): create, start,
   wait, delete; skiff and dockerd side by side.
2. The skiff CLI's start-up: `python -X importtime` on `skiff run --rm ...`, cumulative import
   time per top-level package, against a bare interpreter.
3. The engine under py-spy (sampling, following forked children) during n `docker run --rm`
   calls: the functions holding the most samples, inclusive and self.
"""

from __future__ import annotations

import json
import os
import pstats
import re
import shutil
import signal
import socket as sock_mod
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.engine import request  # noqa: E402

from bench import report  # noqa: E402
from bench.profiles import (
    SyscallProfile,
    parse_collapsed,
    parse_importtime,
    parse_strace,
    top_cumulative,
    top_level_packages,
)  # noqa: E402
from bench.stats import summarize  # noqa: E402
from bench.targets import DockerdTarget, SkiffTarget, prepare, skiff_cli  # noqa: E402

STEPS = ("create", "start", "wait", "delete")
STRACE_RUNS = 10  # strace slows the engine a lot; a few runs show the shape
CREATE_BODY = json.dumps({"Image": "busybox", "Cmd": ["true"], "HostConfig": {"NetworkMode": "none"}}).encode()



# The fork server's spare children (runtime/zygote.py) block here until a request comes.
SPARE_WAITING = frozenset({"_recv (skiff/engine/runtime/zygote.py)"})

def api_steps(socket: str, n: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {s: [] for s in (*STEPS, "total")}
    for i in range(n + 2):  # two untimed warm-up rounds
        times = {}
        t0 = time.perf_counter()
        status, body = request(socket, "POST", "/v1.41/containers/create", CREATE_BODY,
                               {"Content-Type": "application/json"})
        times["create"] = time.perf_counter() - t0
        if status != 201:
            raise RuntimeError(f"create: {status} {body[:300]!r}")
        cid = json.loads(body)["Id"]
        for step, method, path in (("start", "POST", f"/v1.41/containers/{cid}/start"),
                                   ("wait", "POST", f"/v1.41/containers/{cid}/wait"),
                                   ("delete", "DELETE", f"/v1.41/containers/{cid}")):
            t = time.perf_counter()
            status, body = request(socket, method, path)
            times[step] = time.perf_counter() - t
            if status >= 300:
                raise RuntimeError(f"{step}: {status} {body[:300]!r}")
        times["total"] = time.perf_counter() - t0
        if i >= 2:
            for k, v in times.items():
                samples[k].append(v)
    return samples


def client_floors(target: SkiffTarget, n: int = 10) -> dict[str, float]:
    """Median seconds of a trivial command (`version`) per client: what a client costs before any work."""
    out = {}
    for client in (target.docker_client(), target.skiff_client()):
        samples = [client.timed("version", "--format", "{{.Server.APIVersion}}")[0] for _ in range(n + 2)][2:]
        out[client.label] = summarize(samples).median
    return out


def attached_start(socket_path: str, n: int = 10) -> tuple[float, float]:
    """Median seconds of `POST /start` with a client attached (hijacked stream open) and without."""
    body = json.dumps({"Image": "busybox", "Cmd": ["true"], "AttachStdout": True, "AttachStderr": True,
                       "HostConfig": {"NetworkMode": "none"}}).encode()
    times: dict[bool, list[float]] = {True: [], False: []}
    for i in range(n + 1):
        for attached in (True, False):
            status, raw = request(socket_path, "POST", "/v1.41/containers/create", body,
                                  {"Content-Type": "application/json"})
            cid = json.loads(raw)["Id"]
            conn = None
            if attached:
                conn = sock_mod.socket(sock_mod.AF_UNIX)
                conn.connect(socket_path)
                conn.sendall(f"POST /v1.41/containers/{cid}/attach?stream=1&stdout=1&stderr=1 HTTP/1.1\r\n"
                             "Host: engine\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n".encode())
                head = b""
                while b"\r\n\r\n" not in head:
                    head += conn.recv(4096)
            t0 = time.perf_counter()
            request(socket_path, "POST", f"/v1.41/containers/{cid}/start")
            if i:
                times[attached].append(time.perf_counter() - t0)
            if conn:
                while conn.recv(65536):
                    pass
                conn.close()
            request(socket_path, "POST", f"/v1.41/containers/{cid}/wait")
            request(socket_path, "DELETE", f"/v1.41/containers/{cid}")
    return summarize(times[True]).median, summarize(times[False]).median


def cli_imports(env: dict[str, str]) -> tuple[float, float, list[tuple[str, int]], list[tuple[str, int]]]:
    """(wall s of skiff run, wall s of a bare interpreter, top packages by cumulative us, top modules by self us)."""
    def wall(cmd: list[str]) -> float:
        best = float("inf")
        for _ in range(5):
            t0 = time.perf_counter()
            subprocess.run(cmd, env=env, capture_output=True)
            best = min(best, time.perf_counter() - t0)
        return best

    args = ["run", "--rm", "--network", "none", "busybox", "true"]
    launcher = skiff_cli()  # the installed `skiff`: cli/launcher.py's script runs `python -SE`
    skiff_wall = wall([*launcher, *args])
    bare = wall([sys.executable, "-S", "-E", "-c", "pass"])
    script = [sys.executable, "-S", "-E", "-X", "importtime", launcher[0]] if len(launcher) == 1 else \
        [sys.executable, "-X", "importtime", *launcher[1:]]
    proc = subprocess.run([*script, *args], env=env, capture_output=True, text=True)
    entries = parse_importtime(proc.stderr)
    packages = top_level_packages(entries).most_common(12)
    modules = sorted(((e.name, e.self_us) for e in entries), key=lambda x: -x[1])[:12]
    return skiff_wall, bare, packages, modules


def cli_cprofile(env: dict[str, str], out: Path) -> list[tuple[str, float, float]]:
    """cProfile of one `skiff run --rm` (after a warm-up): the CLI's functions by cumulative time."""
    args = ["run", "--rm", "--network", "none", "busybox", "true"]
    launcher = skiff_cli()
    run = ["-S", "-E", launcher[0], *args] if len(launcher) == 1 else [*launcher[1:], *args]
    subprocess.run([sys.executable, *run], env=env, capture_output=True)
    subprocess.run([sys.executable, *run[:2], "-m", "cProfile", "-o", str(out), *run[2:]] if len(launcher) == 1
                   else [sys.executable, "-m", "cProfile", "-o", str(out), *run], env=env, capture_output=True)
    if not out.exists():
        return []
    return top_cumulative(pstats.Stats(str(out)).stats, 20, strip_prefix=str(report.REPO / "src") + "/")  # type: ignore[attr-defined]


def engine_profile(target: SkiffTarget, n: int, out: Path) -> str | None:
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not os.path.exists(spy):
        return None
    pid = target.daemon_pids()[0]
    rec = subprocess.Popen([spy, "record", "--pid", str(pid), "--subprocesses", "--format", "raw",
                            "--rate", "250", "-o", str(out), "--nonblocking"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    client = target.docker_client()
    for _ in range(n):
        client.must("run", "--rm", "--network", "none", "busybox", "true")
    rec.send_signal(signal.SIGINT)
    rec.wait(60)
    return out.read_text() if out.exists() else None


ENTRY_POINTS = ("<module> (skiff/__main__.py)", "main (skiff/cli/main.py)", "main (skiff/engine/daemon.py)")


def engine_syscalls(target: SkiffTarget, n: int, out: Path) -> SyscallProfile | None:
    """strace -f on the engine (and the children it forks) during n `docker run --rm`."""
    if shutil.which("strace") is None:
        return None
    pid = target.daemon_pids()[0]
    tracer = subprocess.Popen(["strace", "-f", "-qq", "-T", "-tt", "-p", str(pid), "-o", str(out)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    client = target.docker_client()
    for _ in range(n):
        client.must("run", "--rm", "--network", "none", "busybox", "true")
    tracer.send_signal(signal.SIGINT)
    tracer.wait(60)
    return parse_strace(out.read_text()) if out.exists() else None


def _generic(desc: str) -> str:
    """Fold container ids and instance prefixes, so the same call on each run groups together."""
    desc = re.sub(r"[0-9a-f]{64}", "<id>", desc)
    return re.sub(r"/sk[0-9a-f]{6}/", "/<prefix>/", desc).replace("`", "'").replace("|", "/")


def render_syscalls(prof: SyscallProfile, n: int) -> list[str]:
    rows = [[f"`{call}`", f"{secs * 1000 / n:.2f}", f"{prof.calls[call] / n:.0f}"]
            for call, secs in prof.seconds.most_common(12)]
    grouped: dict[str, list[float]] = {}
    for secs, desc in prof.slow:
        grouped.setdefault(_generic(desc), []).append(secs)
    slow = sorted(grouped.items(), key=lambda kv: -sum(kv[1]))[:10]
    slow_rows = [[f"`{desc[:110]}`", f"{len(v) / n:.1f}", f"{sum(v) * 1000 / len(v):.1f}"] for desc, v in slow]
    return ["", f"### Engine system calls during {n} `docker run --rm` (strace -f -T; waiting calls left out; "
            "strace slows every call, so read shares, not absolute times)", "",
            report.table(["syscall", "ms per run", "calls per run"], rows), "",
            "Single calls over 2 ms:", "",
            report.table(["call", "per run", "mean ms"], slow_rows)]


def ms(v: float) -> str:
    return f"{v * 1000:.1f}"


def render(steps: dict[str, dict[str, list[float]] | str], cli, cli_prof, profile_text: str | None,
           syscalls: SyscallProfile | None, n: int, floors: dict[str, float] | None = None,
           attach_times: tuple[float, float] | None = None) -> str:
    rows = []
    for step in (*STEPS, "total"):
        row = [step]
        for name in ("skiff", "dockerd"):
            data = steps.get(name)
            row.append(ms(summarize(data[step]).median) if isinstance(data, dict) else "failed")
        rows.append(row)
    lines = [
        "## Where skiff's time goes (bench/profile_run.py)",
        "",
        f"Measured {report.stamp()} at commit {report.git_rev()}, same machine as above.",
        "",
        f"### API steps of one `true` container, median of {n}, ms (raw HTTP client, no CLI)",
        "",
        report.table(["step", "skiff", "dockerd"], rows),
    ]
    for name, data in steps.items():
        if isinstance(data, str):
            lines += ["", f"{name} failed: {data}"]
    if floors:
        lines += ["", "### Client floors and attach", "",
                  "A trivial command (`version`), median of 10: "
                  + ", ".join(f"{label} {ms(v)} ms" for label, v in floors.items()) + "."]
    if attach_times:
        lines += ["", f"`POST /start` through a raw client, median of 10: {ms(attach_times[0])} ms with a client "
                  f"attached (hijacked stream open), {ms(attach_times[1])} ms without."]
    if cli:
        skiff_wall, bare, packages, modules = cli
        lines += [
            "", "### skiff CLI start-up",
            "",
            f"`skiff run --rm --network none busybox true`: best of 5 = {ms(skiff_wall)} ms; a bare "
            f"`python -S -E -c pass` = {ms(bare)} ms.",
            "",
            "Cumulative import time by top-level package (`-X importtime`): "
            + ", ".join(f"{name} {us / 1000:.1f} ms" for name, us in packages) + ".",
            "",
            "Heaviest modules by self time: " + ", ".join(f"{name} {us / 1000:.1f} ms" for name, us in modules) + ".",
        ]
    if cli_prof:
        lines += ["", "cProfile of one `skiff run --rm --network none busybox true` (wall time, cumulative):", "",
                  report.table(["function", "cumulative ms", "own ms"],
                               [[f"`{name}`", f"{cum * 1000:.1f}", f"{own * 1000:.1f}"] for name, cum, own in cli_prof])]
    if profile_text:
        prof = parse_collapsed(profile_text, strip_prefix=str(report.REPO / "src") + "/", waiting=SPARE_WAITING)
        lines += ["", f"### Engine under py-spy during {n} `docker run --rm` ({prof.total} samples at 250 Hz, "
                  f"{prof.in_child} of them in forked children before exec; the fork server's spare "
                  "children waiting for a request left out)", ""]
        ours = [(name, c) for name, c in prof.inclusive.most_common()
                if "(skiff/" in name and not name.startswith(ENTRY_POINTS)][:25]
        top = [[f"`{name}`", f"{100 * c / prof.total:.0f}%"] for name, c in ours]
        lines += [report.table(["skiff function (inclusive)", "share of samples"], top), ""]
        top_self = [[f"`{name}`", f"{100 * c / prof.total:.0f}%"] for name, c in prof.self_.most_common(15)]
        lines += [report.table(["function (self)", "share of samples"], top_self)]
    elif profile_text is None:
        lines += ["", "(py-spy not installed: no engine profile)"]
    if syscalls:
        lines += render_syscalls(syscalls, min(n, STRACE_RUNS))
    lines += ["", f"Reproduce: `sudo .venv/bin/python bench/profile_run.py -n {n}`"]
    return "\n".join(lines)


def main() -> None:
    ap = report.arg_parser(__doc__, reference_only=False)
    ap.add_argument("-n", type=int, default=20)
    args = ap.parse_args()
    archive = prepare()
    steps: dict[str, dict[str, list[float]] | str] = {}
    cli = profile_text = None
    cli_prof: list = []
    syscalls = None
    floors: dict[str, float] | None = None
    attach_times = None
    skiff, dockerd = SkiffTarget(archive), DockerdTarget(archive)
    try:
        skiff.start()
        try:
            steps["skiff"] = api_steps(skiff.engine.socket, args.n)
        except (RuntimeError, OSError) as e:
            steps["skiff"] = str(e)[-300:]
        floors = client_floors(skiff)
        try:
            attach_times = attached_start(skiff.engine.socket)
        except (OSError, ValueError, KeyError) as e:
            print(f"attached start failed: {e}", file=sys.stderr)
        cli = cli_imports(skiff.env)
        cli_prof = cli_cprofile(skiff.env, skiff.engine.root / "cli.prof")
        try:
            profile_text = engine_profile(skiff, args.n, skiff.engine.root / "py-spy.txt")
        except (RuntimeError, OSError) as e:
            print(f"profile failed: {e}", file=sys.stderr)
            profile_text = ""
        syscalls = engine_syscalls(skiff, min(args.n, STRACE_RUNS), skiff.engine.root / "engine.strace")
        skiff.cleanup()
        dockerd.start()
        steps["dockerd"] = api_steps(dockerd.ref.socket, args.n)
    finally:
        skiff.cleanup()
        dockerd.cleanup()
    report.publish("profile_run", render(steps, cli, cli_prof, profile_text, syscalls, args.n, floors, attach_times),
                   args)


if __name__ == "__main__":
    main()
