"""docs/benchmarks.md: each benchmark owns one marked section and rewrites only that one."""

from __future__ import annotations

import argparse
import functools
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "benchmarks.md"

HEADER = """# Benchmarks

skiff against the reference engine (Debian's `docker.io` dockerd with its containerd and
runc), both measured in the same run on the same machine. Each section below is written by
the script named in it (`bench/`); rerun the command shown to refresh it. Targets come from
issue 2: `run` and `run -d` at most 1/5 of dockerd's time, at most 1 MB of engine-side memory
per idle container.
"""


def begin(name: str) -> str:
    return f"<!-- BEGIN {name} -->"


def end(name: str) -> str:
    return f"<!-- END {name} -->"


def replace_section(doc: str, name: str, body: str) -> str:
    """The doc with section `name` replaced by `body` (appended if it is not there yet)."""
    block = f"{begin(name)}\n{body.rstrip()}\n{end(name)}"
    pattern = re.compile(re.escape(begin(name)) + r".*?" + re.escape(end(name)), re.S)
    if pattern.search(doc):
        return pattern.sub(lambda _m: block, doc, count=1)
    if not doc.strip():
        doc = HEADER
    return doc.rstrip() + "\n\n" + block + "\n"


def table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def update_doc(name: str, body: str, path: Path = DOC) -> None:
    text = path.read_text() if path.exists() else ""
    path.write_text(replace_section(text, name, body))


def arg_parser(doc: str | None, reference_only: bool = True) -> argparse.ArgumentParser:
    """A benchmark's parser with the flags they share: --no-doc and (optionally) --reference-only."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-doc", action="store_true", help="print only; leave docs/benchmarks.md alone")
    if reference_only:
        ap.add_argument("--reference-only", action="store_true", help="measure dockerd alone (harness check)")
    return ap


def publish(name: str, body: str, args: argparse.Namespace, path: Path = DOC) -> None:
    """Print section `name`; write it into the doc too unless --no-doc, or only dockerd was measured."""
    print(body)
    if not args.no_doc and not getattr(args, "reference_only", False):
        update_doc(name, body, path)


def _first_line(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
        return out.splitlines()[0] if out else "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


@functools.cache
def machine() -> str:
    """One line naming the machine and the versions measured (taken once: call it before measuring)."""
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    docker = _first_line(["docker", "--version"])
    dockerd = _first_line(["dockerd", "--version"])
    return (f"{cpu}, {os.cpu_count()} cores, {mem_gib:.0f} GiB RAM, Linux {platform.release()}; "
            f"Python {sys.version.split()[0]}; {docker} (CLI); {dockerd} (reference daemon); "
            f"{_first_line(['containerd', '--version'])}; {_first_line(['runc', '--version'])}; "
            f"load average {os.getloadavg()[0]:.1f} when measuring began (the machine is shared)")


@functools.cache
def stamp() -> str:
    """When the measurement began (taken once: call it before measuring)."""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())


def git_rev() -> str:
    return _first_line(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
