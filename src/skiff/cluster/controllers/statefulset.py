"""The StatefulSet controller: pods `<set>-0 … <set>-(n-1)` with stable names and hostnames
(subdomain = serviceName), one PersistentVolumeClaim per pod and volumeClaimTemplate
(`<template>-<set>-<ordinal>`, kept when pods go), started in order and each only once the
lower ones are Running and Ready (OrderedReady) or all at once (Parallel), removed from the
highest ordinal down; RollingUpdate replaces pods from the highest ordinal down to
`partition`, one at a time; template revisions are recorded as ControllerRevisions.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from skiff.cluster.client.errors import StatusError
from skiff.cluster.controllers import podutil, revisions
from skiff.cluster.controllers.base import PODS, Controller, ControllerContext, object_path
from skiff.cluster.controllers.daemonset import HASH_LABEL, template_hash

STATEFULSETS = "/apis/apps/v1/statefulsets"
PVCS = "/api/v1/persistentvolumeclaims"
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
Obj = dict[str, Any]


def ordinal_of(sts_name: str, pod: Obj) -> int | None:
    name = pod["metadata"]["name"]
    prefix = sts_name + "-"
    if not name.startswith(prefix) or not name[len(prefix):].isdigit():
        return None
    return int(name[len(prefix):])


def revision_name(sts: Obj) -> str:
    return f"{sts['metadata']['name']}-{template_hash((sts.get('spec') or {}).get('template') or {})}"


def claim_name(template: Obj, sts_name: str, ordinal: int) -> str:
    return f"{template['metadata']['name']}-{sts_name}-{ordinal}"


def claims_for(sts: Obj, ordinal: int) -> list[Obj]:
    spec, name = sts.get("spec") or {}, sts["metadata"]["name"]
    labels = ((spec.get("selector") or {}).get("matchLabels") or {})
    out = []
    for t in spec.get("volumeClaimTemplates") or []:
        tmeta = t.get("metadata") or {}
        out.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                    "metadata": {"name": claim_name(t, name, ordinal),
                                 "labels": {**labels, **(tmeta.get("labels") or {})}},
                    "spec": copy.deepcopy(t.get("spec") or {})})
    return out


def pod_for(sts: Obj, ordinal: int, template: Obj, revision: str) -> Obj:
    spec, name, ns = sts.get("spec") or {}, sts["metadata"]["name"], sts["metadata"]["namespace"]
    pod = podutil.pod_from_template(copy.deepcopy(template), sts, ns)
    meta = pod["metadata"]
    del meta["generateName"]
    meta["name"] = f"{name}-{ordinal}"
    meta["labels"].update({HASH_LABEL: revision, POD_NAME_LABEL: meta["name"], POD_INDEX_LABEL: str(ordinal)})
    pspec = pod["spec"]
    pspec["hostname"] = meta["name"]
    if spec.get("serviceName"):
        pspec["subdomain"] = spec["serviceName"]
    volumes = [v for v in pspec.get("volumes") or []]
    names = {v.get("name") for v in volumes}
    for t in spec.get("volumeClaimTemplates") or []:
        vname = t["metadata"]["name"]
        claim = {"name": vname, "persistentVolumeClaim": {"claimName": claim_name(t, name, ordinal)}}
        volumes = [claim if v.get("name") == vname else v for v in volumes] if vname in names else volumes + [claim]
    if volumes:
        pspec["volumes"] = volumes
    return pod


def revision_of(pod: Obj) -> str:
    return ((pod.get("metadata") or {}).get("labels") or {}).get(HASH_LABEL, "")


class StatefulSetController(Controller):
    name = "statefulset-controller"
    workers = 2

    def __init__(self, ctx: ControllerContext, now: Callable[[], datetime] = lambda: datetime.now(UTC)):
        super().__init__(ctx)
        self.now = now
        self.sets = self.informer(STATEFULSETS)
        self.pods = self.informer(PODS)
        self.revisions = self.informer(revisions.REVISIONS)
        self.sets.add_handler(self.enqueue, lambda old, new: self.enqueue(new))
        self.pods.add_handler(self._pod, lambda old, new: self._pod(new), self._pod)

    def _pod(self, pod: Obj) -> None:
        ref = podutil.controller_ref(pod)
        if ref is not None and ref.get("kind") == "StatefulSet":
            self.queue.add(f"{pod['metadata'].get('namespace', '')}/{ref.get('name')}")

    async def reconcile(self, key: str) -> None:
        sts = self.sets.get(key)
        if sts is None or sts["metadata"].get("deletionTimestamp"):
            return
        spec, meta = sts.get("spec") or {}, sts["metadata"]
        ns, name, uid = meta["namespace"], meta["name"], meta["uid"]
        update_rev = revision_name(sts)
        await revisions.ensure(self.client, self.revisions, sts, update_rev)
        current_rev = (sts.get("status") or {}).get("currentRevision") or update_rev
        pods: dict[int, Obj] = {}
        for p in self.pods.list(ns):
            ref = podutil.controller_ref(p)
            if ref is not None and ref.get("uid") == uid and (i := ordinal_of(name, p)) is not None:
                pods[i] = p
        replicas = int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1)
        parallel = spec.get("podManagementPolicy") == "Parallel"
        strategy = spec.get("updateStrategy") or {}
        partition = int(((strategy.get("rollingUpdate") or {}).get("partition")) or 0)
        rolling = (strategy.get("type") or "RollingUpdate") == "RollingUpdate"

        def healthy(p: Obj) -> bool:
            return podutil.is_ready(p) and not p["metadata"].get("deletionTimestamp")

        # failed pods are replaced
        for _i, p in sorted(pods.items()):
            if (p.get("status") or {}).get("phase") == "Failed" and not p["metadata"].get("deletionTimestamp"):
                await self._delete_pod(ns, p)
                return
        # create what is missing, in order
        for i in range(replicas):
            if i in pods:
                if not parallel and not healthy(pods[i]):
                    break  # OrderedReady: the next one waits for this one
                continue
            want_rev = current_rev if rolling and i < partition else update_rev
            await self._create_pod(sts, i, want_rev)
            if not parallel:
                break
        else:
            # scale down from the highest ordinal
            extra = sorted((i for i in pods if i >= replicas), reverse=True)
            if extra:
                victims = extra if parallel else extra[:1]
                if parallel or all(healthy(pods[i]) for i in pods if i < replicas):
                    for i in victims:
                        if not pods[i]["metadata"].get("deletionTimestamp"):
                            await self._delete_pod(ns, pods[i])
            elif rolling:
                await self._roll(ns, pods, replicas, partition, update_rev, healthy)
        await self._write_status(sts, pods, replicas, update_rev, current_rev, partition)

    async def _roll(self, ns: str, pods: dict[int, Obj], replicas: int, partition: int, update_rev: str,
                    healthy: Callable[[Obj], bool]) -> None:
        if not all(healthy(pods[i]) for i in range(replicas) if i in pods):
            return  # one at a time: wait for the replaced pod to be Ready
        for i in range(replicas - 1, partition - 1, -1):
            if i in pods and revision_of(pods[i]) != update_rev:
                await self._delete_pod(ns, pods[i])
                return

    async def _create_pod(self, sts: Obj, ordinal: int, revision: str) -> None:
        ns = sts["metadata"]["namespace"]
        for claim in claims_for(sts, ordinal):
            try:
                await self.client.create(object_path(PVCS, ns, None), claim)
            except StatusError as e:
                if e.code != 409:  # kept from an earlier pod of this ordinal
                    raise
        template = self._template_of(sts, revision)
        try:
            await self.client.create(object_path(PODS, ns, None), pod_for(sts, ordinal, template, revision))
        except StatusError as e:
            if e.code != 409:
                raise

    def _template_of(self, sts: Obj, revision: str) -> Obj:
        stored = self.revisions.get(f"{sts['metadata']['namespace']}/{revision}")
        return revisions.template_of(stored) or (sts.get("spec") or {}).get("template") or {}

    async def _delete_pod(self, ns: str, pod: Obj) -> None:
        try:
            await self.client.delete(object_path(PODS, ns, pod["metadata"]["name"]))
        except StatusError as e:
            if e.code != 404:
                raise

    async def _write_status(self, sts: Obj, pods: dict[int, Obj], replicas: int, update_rev: str,
                            current_rev: str, partition: int) -> None:
        live = [p for p in pods.values() if podutil.is_active(p)]
        updated = sum(1 for p in live if revision_of(p) == update_rev)
        min_ready = int((sts.get("spec") or {}).get("minReadySeconds") or 0)
        now = self.now()
        if updated == replicas and len(live) == replicas:
            current_rev = update_rev  # the rollout is complete
        status = {"replicas": len(live), "readyReplicas": sum(1 for p in live if podutil.is_ready(p)),
                  "currentReplicas": sum(1 for p in live if revision_of(p) == current_rev),
                  "updatedReplicas": updated,
                  "availableReplicas": sum(1 for p in live if podutil.is_available(p, min_ready, now)),
                  "currentRevision": current_rev, "updateRevision": update_rev,
                  "observedGeneration": sts["metadata"].get("generation"), "collisionCount": 0}
        old = sts.get("status") or {}
        if all(old.get(k) == v for k, v in status.items()):
            return
        meta = sts["metadata"]
        try:
            await self.client.merge_patch(object_path(STATEFULSETS, meta["namespace"], meta["name"], "status"),
                                          {"status": status})
        except StatusError as e:
            if e.code != 404:
                raise
