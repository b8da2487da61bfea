"""Liveness, readiness and startup probes: one task per (container, probe kind), as the kubelet's
prober workers. Results wake the pod worker, which restarts a container whose liveness or
startup probe failed and reports readiness into the Ready condition.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from dataclasses import dataclass
from typing import Any

import aiohttp

from skiff.common.errors import SkiffError

log = logging.getLogger(__name__)

KINDS = (("startupProbe", "Startup"), ("livenessProbe", "Liveness"), ("readinessProbe", "Readiness"))


@dataclass
class ProbeState:
    result: bool | None = None  # None: not yet known
    successes: int = 0
    failures: int = 0


def resolve_port(port: Any, container: dict) -> int:
    if isinstance(port, int) or (isinstance(port, str) and port.isdigit()):
        return int(port)
    for p in container.get("ports") or []:
        if p.get("name") == port:
            return int(p["containerPort"])
    raise ValueError(f"couldn't find port: {port} in {container.get('name', '')}")


def apply_result(state: ProbeState, ok: bool, success_threshold: int, failure_threshold: int) -> bool:
    """Update counters; True when the probe's overall result changed (pure)."""
    before = state.result
    if ok:
        state.successes += 1
        state.failures = 0
        if state.successes >= success_threshold:
            state.result = True
    else:
        state.failures += 1
        state.successes = 0
        if state.failures >= failure_threshold:
            state.result = False
    return state.result != before


async def run_probe(probe: dict, container: dict, pod_ip: str, runtime: Any, cid: str) -> tuple[bool, str]:
    """(success, failure output) of one probe attempt."""
    timeout = float(probe.get("timeoutSeconds") or 1)
    try:
        if "exec" in probe:
            return await asyncio.wait_for(_exec(probe["exec"].get("command") or [], runtime, cid), timeout)
        if "httpGet" in probe:
            return await _http(probe["httpGet"], container, pod_ip, timeout)
        if "tcpSocket" in probe:
            spec = probe["tcpSocket"]
            host, port = spec.get("host") or pod_ip, resolve_port(spec.get("port"), container)
            try:
                _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
            except OSError as e:
                reason = os.strerror(e.errno).lower() if e.errno else "connection refused"
                return False, f"dial tcp {host}:{port}: connect: {reason}"
            writer.close()
            return True, ""
        if "grpc" in probe:
            return False, "grpc probes are not supported by this node"
    except TimeoutError:
        return False, f"command timed out after {int(timeout)}s" if "exec" in probe else "context deadline exceeded"
    except ValueError as e:
        return False, str(e)
    return True, ""


async def _exec(command: list[str], runtime: Any, cid: str) -> tuple[bool, str]:
    try:
        eid = await runtime.exec_create(cid, {"Cmd": command, "AttachStdout": False, "AttachStderr": False})
        await runtime.exec_start(eid, detach=True)
        while True:
            info = await runtime.exec_inspect(eid)
            if not info.get("Running") and info.get("ExitCode") is not None:
                break
            await asyncio.sleep(0.05)
    except SkiffError as e:
        return False, e.message
    code = info.get("ExitCode")
    return code == 0, "" if code == 0 else f"command {command!r} exited with {code}"


async def _http(spec: dict, container: dict, pod_ip: str, timeout: float) -> tuple[bool, str]:
    port = resolve_port(spec.get("port"), container)
    host = spec.get("host") or pod_ip
    scheme = (spec.get("scheme") or "HTTP").lower()
    path = spec.get("path") or "/"
    url = f"{scheme}://{host}:{port}{path if path.startswith('/') else '/' + path}"
    headers = {"User-Agent": "kube-probe/1.32", **{h["name"]: h["value"] for h in spec.get("httpHeaders") or []}}
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as s, \
                s.get(url, headers=headers, ssl=False, allow_redirects=True) as resp:
            if 200 <= resp.status < 400:
                return True, ""
            return False, f"HTTP probe failed with statuscode: {resp.status}"
    except TimeoutError:
        return False, f'Get "{url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)'
    except aiohttp.ClientError as e:
        return False, f'Get "{url}": {e}'


class ProbeManager:
    def __init__(self, runtime: Any):
        self.runtime = runtime
        self.states: dict[tuple[str, str, str], ProbeState] = {}  # (uid, container id, kind)
        self.tasks: dict[tuple[str, str, str], asyncio.Task] = {}

    def started(self, uid: str, name: str, cid: str) -> None:
        for key in [k for k in self.tasks if k[0] == uid and k[1] != cid and k[2].startswith(name + "/")]:
            self.tasks.pop(key).cancel()

    def state(self, uid: str, c: dict, latest: Any) -> tuple[bool, bool]:
        """(ready, started) of the container's running attempt."""
        if latest is None or not latest.running:
            return False, False
        started = True
        if "startupProbe" in c:
            started = self.states.get((uid, latest.id, c["name"] + "/startupProbe"), ProbeState()).result is True
        ready = started
        if "readinessProbe" in c:
            ready = started and self.states.get((uid, latest.id, c["name"] + "/readinessProbe"),
                                                ProbeState()).result is True
        return ready, started

    async def check(self, worker: Any, c: dict, latest: Any) -> float:
        """Make sure the probers run; act on failed liveness/startup. Returns the next check delay."""
        uid = worker.uid
        for field, _ in KINDS:
            if field in c:
                key = (uid, latest.id, f"{c['name']}/{field}")
                if key not in self.tasks:
                    self.states[key] = ProbeState()
                    self.tasks[key] = asyncio.create_task(self._prober(worker, c, latest.id, field, key))
        for field, label in (("livenessProbe", "Liveness"), ("startupProbe", "Startup")):
            st = self.states.get((uid, latest.id, f"{c['name']}/{field}"))
            if st is not None and st.result is False:
                grace = c[field].get("terminationGracePeriodSeconds",
                                     worker.pod["spec"].get("terminationGracePeriodSeconds", 30))
                await worker.event("Normal", "Killing", f"Container {c['name']} failed {label.lower()} probe, "
                                   "will be restarted", c["name"])
                self.forget_container(uid, latest.id)
                await self.runtime.stop(latest.id, int(grace))
                return 0.05
        return 10.0

    async def _prober(self, worker: Any, c: dict, cid: str, field: str, key: tuple) -> None:
        probe = c[field]
        label = dict(KINDS)[field]
        period = float(probe.get("periodSeconds") or 10)
        success_t = int(probe.get("successThreshold") or 1)
        failure_t = int(probe.get("failureThreshold") or 3)
        await asyncio.sleep(float(probe.get("initialDelaySeconds") or 0))
        state = self.states[key]
        while True:
            startup = self.states.get((key[0], cid, f"{c['name']}/startupProbe"))
            if field != "startupProbe" and startup is not None and startup.result is not True:
                await asyncio.sleep(min(period, 1.0))
                continue
            if field == "startupProbe" and state.result is True:
                return  # a startup probe stops once it succeeded
            ok, output = await run_probe(probe, c, worker.pod_ip, self.runtime, cid)
            if not ok:
                await worker.event("Warning", "Unhealthy", f"{label} probe failed: {output}", c["name"])
            if apply_result(state, ok, success_t, failure_t):
                worker.wake.set()
            await asyncio.sleep(period)

    def forget_container(self, uid: str, cid: str) -> None:
        for key in [k for k in self.tasks if k[0] == uid and k[1] == cid]:
            self.tasks.pop(key).cancel()
            self.states.pop(key, None)

    def forget(self, uid: str) -> None:
        for key in [k for k in self.tasks if k[0] == uid]:
            self.tasks.pop(key).cancel()
        for key in [k for k in self.states if k[0] == uid]:
            self.states.pop(key, None)

    async def close(self) -> None:
        for t in self.tasks.values():
            t.cancel()
        for t in self.tasks.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
