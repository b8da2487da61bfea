"""The HorizontalPodAutoscaler controller: every `period` seconds, per HPA, read the target's
scale subresource (Deployment, ReplicaSet, ReplicationController, StatefulSet), its pods'
usage from the resource metrics API (metrics.k8s.io/v1beta1 PodMetrics) and their requests,
compute the replicas with `hpascale`, write the scale and the HPA's status."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from skiff.cluster.apimachinery.meta import format_rfc3339
from skiff.cluster.apimachinery.quantity import parse_quantity
from skiff.cluster.apimachinery.selectors import LabelSelector, format_label_selector
from skiff.cluster.client.errors import StatusError
from skiff.cluster.client.informers import ApiClient
from skiff.cluster.controllers import hpascale, podutil
from skiff.cluster.controllers.base import PODS, Controller, ControllerContext, object_path
from skiff.cluster.controllers.hpascale import PodUsage

log = logging.getLogger("skiff.controllers.hpa")
HPAS = "/apis/autoscaling/v2/horizontalpodautoscalers"
TARGETS = {"Deployment": "/apis/apps/v1/deployments", "ReplicaSet": "/apis/apps/v1/replicasets",
           "StatefulSet": "/apis/apps/v1/statefulsets", "ReplicationController": "/api/v1/replicationcontrollers"}
PERIOD = 15.0  # kube's --horizontal-pod-autoscaler-sync-period
Obj = dict[str, Any]
# (namespace, label selector) → {pod name: {"cpu": cores, "memory": bytes}}
MetricsSource = Callable[[str, str], Awaitable[dict[str, dict[str, float]]]]


def metrics_api(client: ApiClient) -> MetricsSource:
    """PodMetrics from the API server's metrics.k8s.io/v1beta1 group."""
    async def read(namespace: str, selector: str) -> dict[str, dict[str, float]]:
        listing = await client.get(f"/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods",
                                   labelSelector=selector)
        return {item["metadata"]["name"]: summed(item.get("containers") or [], "usage")
                for item in listing.get("items") or []}
    return read


def summed(containers: list[Obj], field: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for c in containers:
        values = c.get(field) or ((c.get("resources") or {}).get(field)) or {}
        for name in ("cpu", "memory"):
            if name in values:
                out[name] = out.get(name, 0.0) + float(parse_quantity(str(values[name])))
    return out


class HorizontalPodAutoscalerController(Controller):
    name = "horizontal-pod-autoscaler-controller"

    def __init__(self, ctx: ControllerContext, metrics: MetricsSource | None = None,
                 clock: Callable[[], float] = time.monotonic):
        super().__init__(ctx)
        self.metrics = metrics or metrics_api(ctx.client)
        self.clock = clock
        self.period = float(ctx.options.get(f"{self.name}.period", PERIOD))
        self.recommendations: dict[str, list[tuple[float, int]]] = {}
        self.scale_events: dict[str, list[tuple[float, int]]] = {}
        self.hpas = self.informer(HPAS)
        self.pods = self.informer(PODS)
        self.hpas.add_handler(self.enqueue, lambda old, new: self.enqueue(new), self._forget)

    def _forget(self, hpa: Obj) -> None:
        key = f"{hpa['metadata'].get('namespace', '')}/{hpa['metadata']['name']}"
        self.recommendations.pop(key, None)
        self.scale_events.pop(key, None)

    async def reconcile(self, key: str) -> None:
        hpa = self.hpas.get(key)
        if hpa is None:
            return
        try:
            await self._sync(key, hpa)
        finally:
            self.queue.add_after(key, self.period)

    async def _sync(self, key: str, hpa: Obj) -> None:
        ns = hpa["metadata"]["namespace"]
        ref = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
        collection = TARGETS.get(ref.get("kind", ""))
        if collection is None:
            await self._status(hpa, None, None, [], "FailedGetScale",
                               f'the server could not find the requested resource ({ref.get("kind")})')
            return
        scale_path = object_path(collection, ns, ref.get("name"), "scale")
        try:
            scale = await self.client.get(scale_path)
        except StatusError as e:
            await self._status(hpa, None, None, [], "FailedGetScale", str(e))
            return
        current = int((scale.get("spec") or {}).get("replicas") or 0)
        selector_text = (scale.get("status") or {}).get("selector") or format_label_selector(
            (scale.get("spec") or {}).get("selector"))
        if current == 0:
            await self._status(hpa, current, current, [], "ScalingDisabled",
                               "scaling is disabled since the replica count of the target is zero")
            return
        selector = LabelSelector.parse(selector_text) if selector_text else LabelSelector.everything()
        pods = [p for p in self.pods.list(ns) if selector.matches(p["metadata"].get("labels"))
                and podutil.is_active(p)]
        try:
            usage = await self.metrics(ns, selector_text)
        except StatusError as e:
            await self._status(hpa, current, current, [], "FailedGetResourceMetric",
                               f"unable to get metrics for resource cpu: unable to fetch metrics from resource "
                               f"metrics API: {e}")
            return
        measured = [PodUsage(p["metadata"]["name"], usage[p["metadata"]["name"]],
                             summed((p.get("spec") or {}).get("containers") or [], "requests"))
                    for p in pods if p["metadata"]["name"] in usage]
        proposals, current_metrics = [], []
        for resource, kind, target in hpascale.resource_targets(hpa):
            replicas, value = hpascale.proposal(current, measured, resource, kind, target)
            proposals.append(replicas)
            current_metrics.append(_metric_status(resource, kind, value))
        now = self.clock()
        desired = hpascale.clamp(hpa, max(proposals, default=current))
        history = [(t, r) for t, r in self.recommendations.get(key, []) if now - t <= 600] + [(now, desired)]
        self.recommendations[key] = history
        up, down = hpascale.behavior_of(hpa, True), hpascale.behavior_of(hpa, False)
        desired = hpascale.stabilize(history, now, desired, current, float(up["stabilizationWindowSeconds"]),
                                     float(down["stabilizationWindowSeconds"]))
        events = [(t, d) for t, d in self.scale_events.get(key, []) if now - t <= 1800]
        if desired != current:
            desired = hpascale.rate_limit(current, desired, events, now, up if desired > current else down,
                                          desired > current)
        if desired != current:
            await self.client.merge_patch(scale_path, {"spec": {"replicas": desired}})
            events.append((now, desired - current))
            log.info("hpa %s: scaled %s/%s from %d to %d", key, ref.get("kind"), ref.get("name"), current, desired)
        self.scale_events[key] = events
        await self._status(hpa, current, desired, current_metrics, "ValidMetricFound" if measured else
                           "FailedGetResourceMetric", "", scaled=desired != current)

    async def _status(self, hpa: Obj, current: int | None, desired: int | None, metrics: list[Obj],
                      reason: str, message: str, scaled: bool = False) -> None:
        old = hpa.get("status") or {}
        stamp = format_rfc3339(datetime.now(UTC))
        active = reason == "ValidMetricFound"
        status: Obj = {"currentReplicas": current if current is not None else old.get("currentReplicas", 0),
                       "desiredReplicas": desired if desired is not None else old.get("desiredReplicas", 0),
                       "observedGeneration": hpa["metadata"].get("generation"),
                       "lastScaleTime": stamp if scaled else old.get("lastScaleTime")}
        if metrics:
            status["currentMetrics"] = metrics
        conditions = [("AbleToScale", reason != "FailedGetScale", "SucceededGetScale" if reason != "FailedGetScale"
                       else reason), ("ScalingActive", active, reason)]
        previous = {c.get("type"): c for c in old.get("conditions") or []}
        status["conditions"] = [
            {"type": t, "status": "True" if ok else "False", "reason": why,
             "message": message or ("the HPA was able to successfully calculate a replica count"
                                    if ok else "the HPA was unable to compute the replica count"),
             "lastTransitionTime": prev.get("lastTransitionTime") if (prev := previous.get(t, {})).get("status") ==
             ("True" if ok else "False") and prev.get("lastTransitionTime") else stamp}
            for t, ok, why in conditions]
        comparable = {k: v for k, v in status.items() if k != "conditions"}
        if {k: old.get(k) for k in comparable} == comparable and [
                (c["type"], c["status"], c["reason"]) for c in status["conditions"]] == [
                (c.get("type"), c.get("status"), c.get("reason")) for c in old.get("conditions") or []]:
            return
        meta = hpa["metadata"]
        try:
            await self.client.merge_patch(object_path(HPAS, meta["namespace"], meta["name"], "status"),
                                          {"status": status})
        except StatusError as e:
            if e.code != 404:
                raise


def _metric_status(resource: str, kind: str, value: float) -> Obj:
    current: Obj = {"averageUtilization": int(round(value))} if kind == "Utilization" else {}
    current["averageValue"] = f"{int(round(value * 1000))}m" if resource == "cpu" and kind != "Utilization" else (
        str(int(value)) if kind != "Utilization" else None)
    current = {k: v for k, v in current.items() if v is not None}
    return {"type": "Resource", "resource": {"name": resource, "current": current}}
