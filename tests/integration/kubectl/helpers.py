"""Run `skiff kubectl` and the real kubectl side by side against the session's `skiff server`."""

from __future__ import annotations

import re
import subprocess
import sys
import time

AGE = re.compile(r"(?<![\w/.-])\d+[smhdy](\d+[smh])?(?![\w/.-])")
SPACES = re.compile(r" {2,}")


def skiff(server, *args: str, input: str | bytes | None = None, env: dict[str, str] | None = None,
          timeout: float = 60) -> subprocess.CompletedProcess:
    data = input.encode() if isinstance(input, str) else input
    return subprocess.run([sys.executable, "-m", "skiff", "kubectl", *args], input=data, capture_output=True,
                          env={**server.env, **(env or {})}, timeout=timeout)


def both(server, *args: str, input: str | None = None, env: dict[str, str] | None = None):
    """(skiff's result, kubectl's result) of the same command line."""
    return skiff(server, *args, input=input, env=env), server.kubectl(*args, input=input, env=env)


def masked(text: bytes | str) -> str:
    """Output with ages (`5s`, `3m2s`) masked: two runs a second apart differ there only. In an
    events table the Age column is not the last, so `9s` and `10s` also change the padding of
    its lines: there, runs of spaces count as one."""
    out = AGE.sub("<age>", text.decode() if isinstance(text, bytes) else text)
    lines = out.split("\n")
    for i, line in enumerate(lines):
        if "<age>" in line or line.lstrip().startswith(("Type ", "---- ")):
            if not line.rstrip().endswith("<age>"):
                lines[i] = SPACES.sub("  ", line)
    return "\n".join(lines)


def assert_same(server, *args: str, input: str | None = None, mask: bool = True) -> subprocess.CompletedProcess:
    ours, theirs = both(server, *args, input=input)
    norm = masked if mask else (lambda b: b.decode())
    assert norm(ours.stdout) == norm(theirs.stdout), (args, ours.stdout.decode(), theirs.stdout.decode())
    assert norm(ours.stderr) == norm(theirs.stderr), (args, ours.stderr.decode(), theirs.stderr.decode())
    assert ours.returncode == theirs.returncode, (args, ours.returncode, theirs.returncode)
    return ours


WORKLOADS = ("/apis/apps/v1/namespaces/{ns}/deployments", "/apis/apps/v1/namespaces/{ns}/replicasets",
             "/api/v1/namespaces/{ns}/replicationcontrollers")


def _unsettled(server, namespace: str) -> tuple[list[str], tuple]:
    """(what the controllers and the scheduler have still to do in the namespace, a fingerprint
    of its workloads, pods and events)."""
    waiting: list[str] = []
    seen: list[tuple[str, str, str]] = []
    for path in WORKLOADS:
        for obj in server.json("GET", path.format(ns=namespace))[1].get("items", []):
            meta, status = obj["metadata"], obj.get("status") or {}
            seen.append((obj["kind"], meta["name"], meta["resourceVersion"]))
            if status.get("observedGeneration") != meta["generation"] \
                    or status.get("replicas", 0) != obj["spec"].get("replicas", 1):
                waiting.append(f"{obj['kind']} {meta['name']}: {status}")
    events = server.json("GET", f"/api/v1/namespaces/{namespace}/events")[1].get("items", [])
    told = {(e["involvedObject"]["name"], e["reason"]) for e in events}
    created = " ".join(e.get("message", "") for e in events if e["reason"] == "SuccessfulCreate")
    for pod in server.json("GET", f"/api/v1/namespaces/{namespace}/pods")[1].get("items", []):
        meta, spec = pod["metadata"], pod["spec"]
        seen.append(("Pod", meta["name"], meta["resourceVersion"]))
        if not spec.get("nodeName") and (meta["name"], "FailedScheduling") not in told:
            waiting.append(f"pod {meta['name']}: no FailedScheduling event yet")
        owners = [o for o in meta.get("ownerReferences") or [] if o["kind"] in ("ReplicaSet", "ReplicationController")]
        if owners and f"Created pod: {meta['name']}" not in created:
            waiting.append(f"pod {meta['name']}: its owner's SuccessfulCreate event not yet")
    seen.extend(("Event", e["metadata"]["name"], str(e.get("count", 1))) for e in events)
    return waiting, tuple(sorted(seen))


def wait_settled(server, namespace: str, timeout: float = 90) -> None:
    """Until what describe and get show of the namespace stops changing: each workload's
    controller has observed it and made its pods, the scheduler has tried every pod, their events
    are posted, and nothing changed over half a second. Right after creating objects, the two
    runs of a comparison could otherwise see before and after (under load, in the full suite)."""
    deadline = time.monotonic() + timeout
    before: tuple = ()
    while True:
        waiting, now = _unsettled(server, namespace)
        if not waiting and now == before:
            return
        assert time.monotonic() < deadline, f"{namespace} not settled after {timeout}s: {waiting}"
        before = now
        time.sleep(0.5)
