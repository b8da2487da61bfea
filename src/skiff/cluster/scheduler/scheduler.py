"""The scheduler process: informers feed the cache and the queue; one loop pops a pod, runs the
algorithm over a snapshot, assumes the result and hands binding to a task, so the next pod is
scheduled while earlier bindings are still in flight (kube-scheduler's assume-then-bind).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
from typing import Any

from skiff.cluster.client.informers import Informer
from skiff.cluster.scheduler import SCHEDULER_NAME
from skiff.cluster.scheduler.algorithm import Algorithm, FitError
from skiff.cluster.scheduler.cache import Cache
from skiff.cluster.scheduler.events import Writer, unschedulable_patch
from skiff.cluster.scheduler.framework import CycleState, Framework
from skiff.cluster.scheduler.nodeinfo import PodInfo
from skiff.cluster.scheduler.plugins.defaultpreemption import VICTIMS
from skiff.cluster.scheduler.plugins.registry import default_plugins
from skiff.cluster.scheduler.queue import QueuedPodInfo, SchedulingQueue

log = logging.getLogger("skiff.scheduler")
TERMINAL = ("Succeeded", "Failed")


def _relevant_pod_change(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """kube's isPodUpdated: status and bookkeeping changes do not count."""
    om, nm = old.get("metadata") or {}, new.get("metadata") or {}
    return (old.get("spec") != new.get("spec") or om.get("labels") != nm.get("labels")
            or om.get("annotations") != nm.get("annotations") or om.get("deletionTimestamp") != nm.get("deletionTimestamp"))


def _relevant_node_change(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Heartbeats change only conditions and times; labels, taints, capacity or images can help a pod."""
    os_, ns = old.get("status") or {}, new.get("status") or {}
    return (old.get("spec") != new.get("spec") or (old.get("metadata") or {}).get("labels")
            != (new.get("metadata") or {}).get("labels") or os_.get("allocatable") != ns.get("allocatable")
            or os_.get("images") != ns.get("images"))


class Scheduler:
    def __init__(self, client: Any, name: str = SCHEDULER_NAME, percentage_of_nodes_to_score: int = 0,
                 plugins: list[Any] | None = None, bind_concurrency: int = 64, events: bool = True):
        self.client = client
        self.name = name
        self.cache = Cache()
        self.fw = Framework(plugins if plugins is not None else default_plugins(client))
        preemption = self.fw.plugin("DefaultPreemption")
        if preemption is not None:
            preemption.framework = self.fw
        self.queue = SchedulingQueue(self.fw.queue_sort.less)
        self.algorithm = Algorithm(self.fw, percentage_of_nodes_to_score)
        self.writer = Writer(client)
        self.events = events
        self.nodes = Informer(client, "/api/v1/nodes")
        self.pods = Informer(client, "/api/v1/pods")
        self.nodes.add_handler(self._node_added, self._node_updated, self._node_deleted)
        self.pods.add_handler(self._pod_added, self._pod_updated, self._pod_deleted)
        self._slots = asyncio.Semaphore(bind_concurrency)
        self._tasks: set[asyncio.Task] = set()
        self.binding = 0  # bindings in flight
        self.scheduled = 0  # pods bound, for metrics and the benchmark
        self.bound = asyncio.Event()  # set after each successful binding

    # --- informer handlers: cache and queue stay current, incrementally -------------------
    def _responsible(self, obj: dict[str, Any]) -> bool:
        return (obj.get("spec") or {}).get("schedulerName", SCHEDULER_NAME) == self.name

    def _node_added(self, obj: dict[str, Any]) -> None:
        self.cache.set_node(obj)
        self.queue.move_all()

    def _node_updated(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.cache.set_node(new)
        if _relevant_node_change(old, new):
            self.queue.move_all()

    def _node_deleted(self, obj: dict[str, Any]) -> None:
        self.cache.remove_node((obj.get("metadata") or {}).get("name") or "")

    def _pod_added(self, obj: dict[str, Any]) -> None:
        pod = PodInfo.from_object(obj)
        if pod.node_name:
            if (obj.get("status") or {}).get("phase") not in TERMINAL:
                self.cache.set_pod(pod)
        elif self._responsible(obj) and not pod.terminating:
            self.queue.add(pod)
            self._track_nomination(pod)

    def _pod_updated(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        meta = new.get("metadata") or {}
        key = f"{meta.get('namespace') or 'default'}/{meta.get('name')}"
        if self.cache.confirm(key, new):
            self.cache.clear_nomination(key)
            return  # our own binding, seen by the watch: the assumed pod stands, no re-parse
        pod = PodInfo.from_object(new)
        self._track_nomination(pod)
        if pod.node_name:
            self.queue.delete(pod.key)
            if (new.get("status") or {}).get("phase") in TERMINAL:
                if self.cache.remove_pod(pod.key) is not None:
                    self.queue.move_all()
            elif _relevant_pod_change(old, new) or not self.cache.has_pod(pod.key) or self.cache.is_assumed(pod.key):
                self.cache.set_pod(pod)
        elif self._responsible(new):
            if pod.terminating:
                self.queue.delete(pod.key)
            elif _relevant_pod_change(old, new):
                self.queue.update(pod)

    def _track_nomination(self, pod: PodInfo) -> None:
        node = "" if pod.node_name or pod.terminating else (pod.obj.get("status") or {}).get("nominatedNodeName") or ""
        if node or pod.key in self.cache.nominated_node:
            self.cache.set_nominated(pod, node)

    def _pod_deleted(self, obj: dict[str, Any]) -> None:
        pod = PodInfo.from_object(obj)
        key = pod.key
        self.cache.set_nominated(pod, "")
        self.queue.delete(key)
        if self.cache.remove_pod(key) is not None:
            self.queue.move_all()  # its resources, ports and spread are free now

    # --- the loop ---------------------------------------------------------------------------
    async def run(self) -> None:
        informers = [asyncio.create_task(self.nodes.run(), name="scheduler nodes informer"),
                     asyncio.create_task(self.pods.run(), name="scheduler pods informer")]
        flusher = asyncio.create_task(self._flush_loop(), name="scheduler queue flush")
        informers.append(asyncio.create_task(self.writer.run_events(self._busy), name="scheduler events"))
        try:
            await self.nodes.synced.wait()
            await self.pods.synced.wait()
            log.info("scheduler %s: %d nodes, %d pending pods", self.name, len(self.cache.node_names()),
                     len(self.queue))
            while True:
                info = await self.queue.pop()
                await self._slots.acquire()
                try:
                    self.schedule_one(info)
                except Exception:
                    self._slots.release()
                    log.exception("scheduling %s failed", info.key)
                    self.queue.add_backoff(info)
                await asyncio.sleep(0)  # let watch events and bindings progress between pods
        finally:
            self.queue.close()
            for t in [*informers, flusher, *self._tasks]:
                t.cancel()
            for t in [*informers, flusher, *self._tasks]:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t

    def _busy(self) -> bool:
        """Bindings in flight or pods waiting: spare event writers stay out of the way."""
        return self.binding > 0 or bool(self.queue.active)

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            self.queue.flush()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def schedule_one(self, info: QueuedPodInfo) -> None:
        """One scheduling cycle (synchronous); holds one binding slot, released by the binding."""
        pod = info.pod
        current = self.pods.get(pod.key)
        if current is None or (current.get("spec") or {}).get("nodeName") or self.cache.has_pod(pod.key):
            self.queue.done(pod.key)  # deleted or bound meanwhile
            self._slots.release()
            return
        rv = (current.get("metadata") or {}).get("resourceVersion")
        if rv != (pod.obj.get("metadata") or {}).get("resourceVersion"):
            # status-only updates do not requeue; the cycle still reads the latest object
            # (nominatedNodeName after a preemption, the current PodScheduled condition)
            pod = info.pod = PodInfo.from_object(current)
        cycle = self.queue.scheduling_cycle
        state = CycleState()
        snapshot = self.cache.snapshot()
        try:
            result = self.algorithm.schedule(state, pod, snapshot)
        except FitError as fit:
            nominated = ""
            if self.fw.post_filters and snapshot.nodes:
                nominated, st = self.fw.run_post_filter(state, pod, snapshot, fit.statuses)
                if not st.ok:
                    fit.post_filter_msg = st.message
            self._slots.release()
            self._failed(info, cycle, str(fit), nominated, state.get(VICTIMS) or [])
            info.unschedulable_plugins = fit.unschedulable_plugins
            return
        assumed = self._assumed(pod, result.node)
        self.cache.assume(assumed, result.node)
        st = self.fw.run_reserve(state, assumed, result.node)
        if st.ok:
            st = self.fw.run_permit(state, assumed, result.node)
            if not st.ok:
                self.fw.run_unreserve(state, assumed, result.node)
        if not st.ok:
            self.cache.forget(pod.key)
            self._slots.release()
            self._failed(info, cycle, st.message, "", [])
            return
        self._spawn(self._bind(info, state, assumed, result.node))

    @staticmethod
    def _assumed(pod: PodInfo, node: str) -> PodInfo:
        obj = dict(pod.obj)
        obj["spec"] = {**pod.spec, "nodeName": node}
        assumed = copy.copy(pod)
        assumed.obj, assumed.spec = obj, obj["spec"]
        return assumed

    async def _bind(self, info: QueuedPodInfo, state: CycleState, pod: PodInfo, node: str) -> None:
        self.binding += 1
        try:
            st = await self.fw.run_pre_bind(state, pod, node)
            if st.ok:
                st = await self.fw.run_bind(state, pod, node)
        finally:
            self.binding -= 1
            self._slots.release()
        if not st.ok:
            self.cache.forget(pod.key)
            self.fw.run_unreserve(state, pod, node)
            self.queue.add_backoff(info)
            if self.pods.get(pod.key) is not None:
                self.writer.post(pod, "Warning", "FailedScheduling", f"Binding rejected: {st.message}")
            return
        self.queue.done(pod.key)
        self.scheduled += 1
        self.bound.set()
        if self.events:
            self.writer.post(pod, "Normal", "Scheduled", f"Successfully assigned {pod.namespace}/{pod.name} to {node}")

    def _failed(self, info: QueuedPodInfo, cycle: int, message: str, nominated: str, victims: list[PodInfo]) -> None:
        current = self.pods.get(info.key)
        if current is None:
            self.queue.done(info.key)
            return
        self.queue.add_unschedulable(info, cycle)
        log.debug("%s unschedulable: %s", info.key, message)
        pod = PodInfo.from_object(current)  # with the status our earlier patches wrote
        self._spawn(self._report_failure(pod, message, nominated, victims))

    async def _report_failure(self, pod: PodInfo, message: str, nominated: str, victims: list[PodInfo]) -> None:
        for victim in victims:
            await self.writer.delete_victim(victim, pod, nominated)
        patch = unschedulable_patch(pod, message, nominated)
        if patch is not None:
            await self.writer.patch_status(pod, patch)
            self.writer.post(pod, "Warning", "FailedScheduling", message)
