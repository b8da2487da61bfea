"""Healthchecks on skiff and on the reference dockerd side by side, through the docker CLI:
inspect's State.Health shape, the timeout's result, `ps` status texts and the health filter."""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time

import pytest

from tests.support.procs import ok

pytestmark = [pytest.mark.interop, pytest.mark.root, pytest.mark.slow,
              pytest.mark.skipif(shutil.which("docker") is None, reason="docker CLI not installed")]

CHECKS = {
    "good": ["--health-cmd", "echo hi; true", "--health-interval", "1s"],
    "bad": ["--health-cmd", "exit 3", "--health-interval", "1s", "--health-retries", "2"],
    "slow": ["--health-cmd", "sleep 5", "--health-interval", "1s", "--health-timeout", "1s", "--health-retries", "1"],
    "off": ["--no-healthcheck"],
}
WANT = {"good": "healthy", "bad": "unhealthy", "slow": "unhealthy", "off": None}


def _health(eng, n):
    return json.loads(ok(eng.docker("inspect", "-f", "{{json .State.Health}}", n)))


def _observe(eng, prefix: str) -> dict:
    names = {k: f"{prefix}{k}" for k in CHECKS}
    try:
        for k, flags in CHECKS.items():
            ok(eng.docker("run", "-d", "--network", "none", "--name", names[k], *flags, "busybox", "sleep", "300"))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            got = {k: (_health(eng, n) or {}).get("Status") for k, n in names.items()}
            if got == WANT:
                break
            time.sleep(0.2)
        out = {k: _health(eng, n) for k, n in names.items()}
        rows = ok(eng.docker("ps", "--filter", f"name={prefix}", "--format", "{{.Names}}\t{{.Status}}")).splitlines()
        out["ps"] = {r.split("\t")[0][len(prefix):]: re.sub(r"Up .*? (second|seconds|minute)s?\b", "Up X",
                                                             r.split("\t")[1]) for r in rows}
        out["filter"] = {f: sorted(n[len(prefix):] for n in ok(eng.docker(
            "ps", "--filter", f"name={prefix}", "--filter", f"health={f}", "--format", "{{.Names}}")).split())
            for f in ("healthy", "unhealthy", "starting", "none")}
        bogus = eng.docker("ps", "--filter", "health=bogus")
        out["bogus"] = (bogus.returncode, bogus.stderr.strip())
        return out
    finally:
        eng.docker("rm", "-f", *names.values())


def _shape(h: dict | None) -> dict | None:
    if h is None:
        return None
    return {"keys": sorted(h), "Status": h["Status"], "log_keys": sorted({k for r in h["Log"] for k in r}),
            "exit_codes": sorted({r["ExitCode"] for r in h["Log"]}),
            "outputs": sorted({r["Output"] for r in h["Log"]})}


def test_health_matches_dockerd(engine, dockerd):
    prefix = f"hc{secrets.token_hex(3)}"
    ours, ref = _observe(engine, prefix), _observe(dockerd, prefix)
    for k in CHECKS:
        assert _shape(ours[k]) == _shape(ref[k]), k
    assert ours["ps"] == ref["ps"]
    assert ours["filter"] == ref["filter"]
    assert ours["bogus"] == ref["bogus"]
    assert ours["slow"]["Log"][0]["Output"] == "Health check exceeded timeout (1s)"
