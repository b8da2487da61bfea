"""Supervision of running containers: exit recording, restart policies, --rm, and re-adoption
of containers after an engine restart. Mixed into ContainerService."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from skiff.common.errors import SkiffError
from skiff.common.timefmt import now_rfc3339, parse_rfc3339
from skiff.engine import trash
from skiff.engine.containers import restart
from skiff.engine.containers.record import Container
from skiff.engine.runtime.api import ExitStatus

# The mixin sees ContainerService's attributes; typed as Any to keep the two modules acyclic.
_Base: Any = object

log = logging.getLogger("skiff.engine.containers")


class SupervisionMixin(_Base):
    # --- exits, restarts, restore -----------------------------------------------------------
    async def _monitor(self, cid: str) -> None:
        try:
            status = await self.runtime.wait(cid)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # the shim vanished without exit.json: record a failure, don't crash
            log.warning("wait for %s failed: %s", cid, e)
            status = ExitStatus(exit_code=255, error=str(e))
        self._monitors.pop(cid, None)
        await self._on_exit(cid, status)

    def _resolve_exit(self, cid: str, code: int, error: str = "") -> None:
        for fut in self._exit_futs.pop(cid, []):
            if not fut.done():
                fut.set_result((code, error))

    async def _on_exit(self, cid: str, status: ExitStatus) -> None:
        c = self.store.find(cid)
        if c is None:
            return
        self.health_monitors.unwatch(c)
        ran_for = time.monotonic() - c.started_mono if c.started_mono else 0.0
        c.state.status = "exited"
        c.state.pid = 0
        c.state.exit_code = status.exit_code
        c.state.oom_killed = status.oom_killed
        c.state.error = status.error
        c.state.finished_at = status.finished_at or now_rfc3339()
        decision = restart.decide(c.host_config.get("RestartPolicy"), status.exit_code, c.restart_count,
                                  c.manually_stopped, ran_for, c.backoff)
        # As dockerd: AutoRemove is for a container that ends, not one stopped by `restart`.
        auto_remove = (c.host_config.get("AutoRemove") and not decision.restart
                       and cid not in self._manual_restarts)
        if decision.restart:
            c.state.status = "restarting"
            c.backoff = decision.next_backoff
        if not auto_remove:  # else `_remove` below releases everything in one thread hop
            await asyncio.to_thread(self._record_and_release, c, True)
            await self._networks_down(c)
        for m in c.mounts:
            if m.type == "volume":
                self.events.publish("volume", "unmount", m.name, {"container": c.id, "driver": "local"})
        if status.oom_killed:
            self._publish(c, "oom")
        self._publish(c, "die", exitCode=status.exit_code)
        self._resolve_exit(cid, status.exit_code, status.error)
        if auto_remove:
            async with self._lock(cid):
                if self.store.find(cid) is c:  # on disk still "running": restore would redo all this
                    await self._remove(c, remove_volumes=True, record=False)
        elif decision.restart:
            self._restart_tasks[cid] = asyncio.create_task(self._restart_later(c, decision.delay))

    async def _restart_later(self, c: Container, delay: float) -> None:
        try:
            await asyncio.sleep(delay)
            async with self._lock(c.id):
                if c.state.status != "restarting" or self.store.find(c.id) is not c or c.manually_stopped:
                    return
                c.restart_count += 1
                try:
                    await self._start(c)
                except SkiffError as e:
                    log.warning("restart of %s failed: %s", c.id, e.message)
                    c.state.status = "exited"
                    self.store.save(c)
                else:
                    self._publish(c, "restart")
        finally:
            self._restart_tasks.pop(c.id, None)

    def _cancel_restart(self, c: Container) -> bool:
        task = self._restart_tasks.pop(c.id, None)
        if task:
            task.cancel()
        if c.state.status == "restarting":
            c.state.status = "exited"
            self.store.save(c)
            return True
        return False

    async def restore(self) -> None:
        """At engine start: re-adopt live shims, record exits that happened meanwhile, restart `always` ones."""
        for c in self.store.all():
            if c.state.status == "removing":
                await self._remove(c, remove_volumes=False)
                continue
            if c.state.status == "restarting":  # the engine went down between an exit and its restart
                with contextlib.suppress(SkiffError):
                    await asyncio.to_thread(self.runtime.delete, c.id, True)
                self._restart_tasks[c.id] = asyncio.create_task(self._restart_later(c, restart.BACKOFF_START))
                continue
            if c.state.running:
                try:
                    st = await asyncio.to_thread(self.runtime.state, c.id)
                except SkiffError:
                    st = None
                if st is not None and st.status in ("running", "paused"):
                    c.state.status = st.status
                    c.state.pid = st.pid
                    c.started_mono = time.monotonic() - max(0.0, time.time() - parse_rfc3339(c.state.started_at))
                    self.store.save(c)
                    self._monitors[c.id] = asyncio.create_task(self._monitor(c.id))
                    self.health_monitors.watch(c)  # the recorded health shows until the next probe
                    continue
                status = (st.exit if st is not None and st.exit else None) or ExitStatus(exit_code=255,
                                                                                         finished_at=now_rfc3339())
                await self._on_exit(c.id, status)
                continue
            policy = (c.host_config.get("RestartPolicy") or {}).get("Name")
            if c.has_been_started and not c.manually_stopped and policy in ("always", "unless-stopped"):
                async with self._lock(c.id):
                    with contextlib.suppress(SkiffError):
                        await self._start(c)

    async def shutdown(self) -> None:
        """At engine stop: stop supervising (containers keep running, as documented)."""
        tasks = list(self._monitors.values()) + list(self._restart_tasks.values())
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._monitors.clear()
        self._restart_tasks.clear()
        await self.health_monitors.shutdown()
        await asyncio.to_thread(trash.flush, 10)  # removed containers' trees, deleted in the background
