"""The replica logic ReplicaSets and ReplicationControllers share (kube's ReplicaSetController,
which also runs RCs through an adapter).

One reconcile: claim the active pods (keep ours that match, adopt matching orphans, release
ours that no longer match), then — only when the informer has caught up with what we asked
for last time (expectations) — create pods in slow-start batches or delete the least
valuable ones to reach spec.replicas (at most `burst` per pass), then write status.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from skiff.cluster.apimachinery.meta import now_rfc3339
from skiff.cluster.apimachinery.selectors import LabelSelector
from skiff.cluster.client.errors import StatusError
from skiff.cluster.client.informers import object_key, split_key
from skiff.cluster.controllers import ownership, podutil
from skiff.cluster.controllers.base import PODS, Controller, ControllerContext, object_path
from skiff.cluster.controllers.expectations import Expectations

log = logging.getLogger("skiff.controllers.replicas")
Obj = dict


@dataclass(frozen=True)
class ReplicaKind:
    kind: str
    collection: str
    selector: Callable[[Obj], LabelSelector]


class ReplicaManager(Controller):
    replica_kind: ReplicaKind
    burst = 500  # kube's BurstReplicas: most pods created or deleted in one pass
    workers = 5

    def __init__(self, ctx: ControllerContext, now: Callable[[], datetime] = lambda: datetime.now(UTC)):
        super().__init__(ctx)
        self.now = now
        self.expectations = Expectations()
        self.owners = self.informer(self.replica_kind.collection)
        self.pods = self.informer(PODS)
        self.owners.add_handler(self.enqueue, self._owner_updated, self._owner_deleted)
        self.pods.add_handler(self._pod_added, self._pod_updated, self._pod_deleted)

    # --- which owner a pod event concerns ----------------------------------------------------
    def _owner_key_of(self, pod: Obj) -> str | None:
        ref = podutil.controller_ref(pod)
        if ref is None or ref.get("kind") != self.replica_kind.kind:
            return None
        key = f"{pod['metadata'].get('namespace', '')}/{ref.get('name')}"
        owner = self.owners.get(key)
        if owner is None or owner["metadata"].get("uid") != ref.get("uid"):
            return None
        return key

    def _enqueue_matching_owners(self, pod: Obj) -> None:
        """An orphan: every owner whose selector matches may adopt it."""
        meta = pod.get("metadata") or {}
        for owner in self.owners.list(meta.get("namespace", "")):
            if self.replica_kind.selector(owner).matches(meta.get("labels")):
                self.enqueue(owner)

    def _pod_added(self, pod: Obj) -> None:
        if (pod.get("metadata") or {}).get("deletionTimestamp"):
            self._pod_deleted(pod)
            return
        key = self._owner_key_of(pod)
        if key is not None:
            self.expectations.creation_observed(key)
            self.queue.add(key)
        elif podutil.controller_ref(pod) is None:
            self._enqueue_matching_owners(pod)

    def _pod_updated(self, old: Obj, new: Obj) -> None:
        if new["metadata"].get("deletionTimestamp") and not old["metadata"].get("deletionTimestamp"):
            key = self._owner_key_of(new)
            if key is not None:
                self.expectations.deletion_observed(key)
        old_key, new_key = self._owner_key_of(old), self._owner_key_of(new)
        if old_key is not None and old_key != new_key:
            self.queue.add(old_key)
        if new_key is not None:
            self.queue.add(new_key)
            spec = (self.owners.get(new_key) or {}).get("spec") or {}
            min_ready = int(spec.get("minReadySeconds") or 0)
            if min_ready and podutil.is_ready(new) and not podutil.is_ready(old):
                self.queue.add_after(new_key, min_ready + 0.05)  # look again once it counts as available
        elif podutil.controller_ref(new) is None and (
                old_key is not None or old["metadata"].get("labels") != new["metadata"].get("labels")):
            self._enqueue_matching_owners(new)

    def _pod_deleted(self, pod: Obj) -> None:
        key = self._owner_key_of(pod)
        if key is not None:
            if not (pod.get("metadata") or {}).get("deletionTimestamp"):  # else counted when it was set
                self.expectations.deletion_observed(key)
            self.queue.add(key)

    def _owner_updated(self, old: Obj, new: Obj) -> None:
        self.enqueue(new)

    def _owner_deleted(self, owner: Obj) -> None:
        key = object_key(owner)
        self.expectations.delete(key)
        self.queue.add(key)

    # --- reconcile ------------------------------------------------------------------------------
    async def reconcile(self, key: str) -> None:
        owner = self.owners.get(key)
        if owner is None:
            self.expectations.delete(key)
            return
        ns, _ = split_key(key)
        selector = self.replica_kind.selector(owner)
        active = [p for p in self.pods.list(ns) if podutil.is_active(p)]
        mine = await ownership.claim(self.client, owner, selector, active, PODS)
        error: Exception | None = None
        if self.expectations.satisfied(key) and not owner["metadata"].get("deletionTimestamp"):
            try:
                await self.manage(key, owner, mine)
            except Exception as e:  # status still records what we have (and ReplicaFailure)
                error = e
        await self.update_status(owner, mine, error)
        self._requeue_for_availability(key, owner, mine)
        if error is not None:
            raise error

    async def manage(self, key: str, owner: Obj, mine: list[Obj]) -> None:
        want = int((owner.get("spec") or {}).get("replicas", 1) or 0)
        diff = len(mine) - want
        if diff < 0:
            await self._create(key, owner, min(-diff, self.burst))
        elif diff > 0:
            await self._delete(key, min(diff, self.burst), mine)

    async def _create(self, key: str, owner: Obj, count: int) -> None:
        ns = owner["metadata"]["namespace"]
        template = (owner.get("spec") or {}).get("template") or {}
        self.expectations.expect(key, adds=count)
        created = 0
        for size in podutil.slow_start_batches(count):
            results = await asyncio.gather(
                *(self.client.create(object_path(PODS, ns, None), podutil.pod_from_template(template, owner, ns))
                  for _ in range(size)), return_exceptions=True)
            failures = [r for r in results if isinstance(r, BaseException)]
            created += size - len(failures)
            for r in results:
                if isinstance(r, BaseException):
                    self.event(owner, "Warning", "FailedCreate", f"Error creating: {r}")
                else:
                    self.event(owner, "Normal", "SuccessfulCreate", f"Created pod: {r['metadata']['name']}")
            if failures:
                self.expectations.lower(key, adds=count - created)  # no event will come for these
                raise failures[0]

    async def _delete(self, key: str, count: int, mine: list[Obj]) -> None:
        victims = podutil.pods_to_delete(mine, count, self.now())
        self.expectations.expect(key, deletes=len(victims))
        results = await asyncio.gather(
            *(self.client.delete(object_path(PODS, p["metadata"]["namespace"], p["metadata"]["name"]))
              for p in victims), return_exceptions=True)
        errors = []
        owner = self.owners.get(key)
        for victim, r in zip(victims, results, strict=True):
            if not isinstance(r, BaseException) and owner is not None:
                self.event(owner, "Normal", "SuccessfulDelete", f"Deleted pod: {victim['metadata']['name']}")
        for r in results:
            if isinstance(r, BaseException):
                self.expectations.lower(key, deletes=1)
                if not (isinstance(r, StatusError) and r.code == 404):
                    errors.append(r)
        if errors:
            raise errors[0]

    # --- status --------------------------------------------------------------------------------
    def compute_status(self, owner: Obj, mine: list[Obj], error: Exception | None) -> Obj:
        spec = owner.get("spec") or {}
        min_ready = int(spec.get("minReadySeconds") or 0)
        template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        now = self.now()
        fully = sum(1 for p in mine if template_labels.items() <= (p["metadata"].get("labels") or {}).items())
        status: Obj = {"replicas": len(mine)}
        for field, value in (("fullyLabeledReplicas", fully),
                             ("readyReplicas", sum(1 for p in mine if podutil.is_ready(p))),
                             ("availableReplicas", sum(1 for p in mine if podutil.is_available(p, min_ready, now))),
                             ("observedGeneration", owner["metadata"].get("generation"))):
            if value:
                status[field] = value
        old_conditions = [c for c in (owner.get("status") or {}).get("conditions") or []
                          if c.get("type") != "ReplicaFailure"]
        if error is not None and int(spec.get("replicas", 1) or 0) > len(mine):
            verb = "FailedCreate"
            previous = next((c for c in (owner.get("status") or {}).get("conditions") or []
                             if c.get("type") == "ReplicaFailure"), None)
            old_conditions.append({"type": "ReplicaFailure", "status": "True", "reason": verb,
                                   "message": str(error),
                                   "lastTransitionTime": (previous or {}).get("lastTransitionTime") or now_rfc3339()})
        if old_conditions:
            status["conditions"] = old_conditions
        return status

    async def update_status(self, owner: Obj, mine: list[Obj], error: Exception | None) -> None:
        new = self.compute_status(owner, mine, error)
        old = owner.get("status") or {}
        if new == old:
            return
        patch = {"status": {k: new.get(k) for k in set(old) | set(new)}}  # None removes a field
        meta = owner["metadata"]
        try:
            await self.client.merge_patch(object_path(self.replica_kind.collection, meta["namespace"], meta["name"],
                                                      "status"), patch)
        except StatusError as e:
            if e.code != 404:
                raise

    def _requeue_for_availability(self, key: str, owner: Obj, mine: list[Obj]) -> None:
        min_ready = int((owner.get("spec") or {}).get("minReadySeconds") or 0)
        waits = [w for p in mine if (w := podutil.seconds_until_available(p, min_ready, self.now())) is not None]
        if waits:
            self.queue.add_after(key, min(waits) + 0.05)
