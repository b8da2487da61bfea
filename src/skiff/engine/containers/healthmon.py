"""Healthcheck monitors: one asyncio task per running, unpaused container that has a check.

Each probe is an exec through the engine's own exec path (so `docker events` shows its
exec_create / exec_start / exec_die as dockerd's do), its output read from the exec's attach
stream. A probe that outlives its timeout is killed and counts as a failure (exit -1). The
state machine and texts live in `health` (pure); this module is the timer and the I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from typing import TYPE_CHECKING, Any

from skiff.common.errors import SkiffError
from skiff.common.stdcopy import Deframer
from skiff.common.timefmt import now_rfc3339, parse_rfc3339
from skiff.engine.containers import health

if TYPE_CHECKING:
    from skiff.engine.containers.record import Container
    from skiff.engine.containers.service import ContainerService

log = logging.getLogger(__name__)

KILL_GRACE = 5.0  # how long a killed probe may take to be reaped before the monitor moves on


class HealthMonitors:
    def __init__(self, service: ContainerService):
        self.svc = service
        self._tasks: dict[str, asyncio.Task] = {}

    def watch(self, c: Container) -> None:
        """Start probing (after a start, unpause or engine restart); a no-op without a check."""
        if c.state.health is None or c.state.status != "running" or c.id in self._tasks:
            return
        argv = health.probe_argv(c.config.get("Healthcheck"), c.config.get("Shell"))
        if argv is None:
            return
        self._tasks[c.id] = asyncio.create_task(self._run(c, argv))

    def unwatch(self, c: Container) -> None:
        """Stop probing (stop, kill, exit, pause): the health shows unhealthy as dockerd's does."""
        task = self._tasks.pop(c.id, None)
        if task is not None:
            task.cancel()
            health.on_monitor_stop(c.state.health)

    async def shutdown(self) -> None:
        """Engine stop: the probes end, the recorded health stays for the next engine."""
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, c: Container, argv: list[str]) -> None:
        s = health.settings(c.config.get("Healthcheck") or {})
        started = parse_rfc3339(c.state.started_at)
        try:
            while True:
                status = health.status_of(c.state.health)
                await asyncio.sleep(health.next_interval(s, time.time() - started, status))
                result = await self._probe(c, argv, s.timeout)
                h = c.state.health
                if h is None or self._tasks.get(c.id) is not asyncio.current_task():
                    return
                in_start_period = parse_rfc3339(result["Start"]) - started < s.start_period
                changed = health.record_result(h, result, s, in_start_period)
                with contextlib.suppress(OSError):
                    self.svc.store.save(c)
                if changed:
                    self.svc._publish(c, "health_status: " + changed)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug here must not take the engine's other work down
            log.exception("health monitor of %s failed", c.id)
        finally:
            if self._tasks.get(c.id) is asyncio.current_task():
                self._tasks.pop(c.id, None)

    async def _probe(self, c: Container, argv: list[str], timeout: float) -> dict:
        start = now_rfc3339()
        out = health.OutputBuffer()
        execs = self.svc.execs
        try:
            eid = await execs.create(c, {"Cmd": argv, "AttachStdout": True, "AttachStderr": True})
        except SkiffError as err:
            return {"Start": start, "End": now_rfc3339(), "ExitCode": -1, "Output": err.message}
        try:
            session = await execs.start(eid, detach=False, tty=False, console_size=None, detach_keys=None)
            e = execs.get(eid)
            try:
                await asyncio.wait_for(self._collect(session, e, out), timeout)
            except TimeoutError:
                await self._kill(e)
                return {"Start": start, "End": now_rfc3339(), "ExitCode": -1,
                        "Output": health.timeout_output(timeout, out.text())}
            finally:
                if session is not None:
                    await session.close()
            code = e.exit_code if e.exit_code is not None else -1
            return {"Start": start, "End": now_rfc3339(), "ExitCode": code, "Output": out.text()}
        except SkiffError as failure:
            return {"Start": start, "End": now_rfc3339(), "ExitCode": -1, "Output": failure.message}
        finally:
            execs.execs.pop(eid, None)  # as dockerd: probes are not listed in ExecIDs

    @staticmethod
    async def _collect(session: Any, e: Any, out: health.OutputBuffer) -> None:
        if session is not None:
            deframer = Deframer()
            async for chunk in session.output():
                for _, data in deframer.feed(chunk):
                    out.write(data)
        await e.done.wait()

    @staticmethod
    async def _kill(e: Any) -> None:
        # The shim is the probe's parent and reaps it, so the pid is still the probe's until done.
        # Its process group too, when it leads one: a shell's children would outlive it.
        if e.running and e.pid:
            with contextlib.suppress(ProcessLookupError):
                if os.getpgid(e.pid) == e.pid:
                    os.killpg(e.pid, signal.SIGKILL)
                else:
                    os.kill(e.pid, signal.SIGKILL)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(e.done.wait(), KILL_GRACE)
