"""The Deployment controller: revisions as ReplicaSets named by pod-template-hash, rolled by
RollingUpdate (maxSurge / maxUnavailable over the ReplicaSets' available counts) or Recreate,
scaled proportionally mid-rollout, paused, pruned to revisionHistoryLimit, with the
Progressing (progressDeadlineSeconds) and Available conditions. Rollback is kubectl's job
(it copies an old ReplicaSet's template back into the Deployment)."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from skiff.cluster.apimachinery.selectors import LabelSelector
from skiff.cluster.client.errors import StatusError
from skiff.cluster.client.informers import object_key
from skiff.cluster.controllers import deployment_util as du
from skiff.cluster.controllers import ownership, podutil
from skiff.cluster.controllers.base import (
    DEPLOYMENTS,
    PODS,
    REPLICASETS,
    Controller,
    ControllerContext,
    object_path,
)

log = logging.getLogger("skiff.controllers.deployment")
Obj = dict[str, Any]


class DeploymentController(Controller):
    name = "deployment-controller"
    workers = 5

    def __init__(self, ctx: ControllerContext, now: Callable[[], datetime] = lambda: datetime.now(UTC)):
        super().__init__(ctx)
        self.now = now
        self.deployments = self.informer(DEPLOYMENTS)
        self.rss = self.informer(REPLICASETS)
        self.pods = self.informer(PODS)
        self.deployments.add_handler(self.enqueue, lambda old, new: self.enqueue(new), self.enqueue)
        self.rss.add_handler(self._rs_changed, lambda old, new: self._rs_updated(old, new), self._rs_changed)
        self.pods.add_handler(on_delete=self._pod_deleted)

    # --- events -> deployment keys -------------------------------------------------------------
    def _owner_of(self, obj: Obj, kind: str) -> str | None:
        ref = podutil.controller_ref(obj)
        if ref is None or ref.get("kind") != kind:
            return None
        return f"{obj['metadata'].get('namespace', '')}/{ref.get('name')}"

    def _rs_changed(self, rs: Obj) -> None:
        key = self._owner_of(rs, "Deployment")
        if key is not None:
            self.queue.add(key)
            return
        labels = rs["metadata"].get("labels")
        for d in self.deployments.list(rs["metadata"].get("namespace", "")):
            if LabelSelector.from_object((d.get("spec") or {}).get("selector")).matches(labels):
                self.enqueue(d)

    def _rs_updated(self, old: Obj, new: Obj) -> None:
        old_key = self._owner_of(old, "Deployment")
        if old_key is not None and old_key != self._owner_of(new, "Deployment"):
            self.queue.add(old_key)
        self._rs_changed(new)

    def _pod_deleted(self, pod: Obj) -> None:
        """Recreate waits for the old pods to be gone."""
        rs_key = self._owner_of(pod, "ReplicaSet")
        rs = self.rss.get(rs_key) if rs_key else None
        if rs is not None and (key := self._owner_of(rs, "Deployment")) is not None:
            d = self.deployments.get(key)
            if d is not None and ((d.get("spec") or {}).get("strategy") or {}).get("type") == "Recreate":
                self.queue.add(key)

    # --- reconcile -------------------------------------------------------------------------------
    async def reconcile(self, key: str) -> None:
        cached = self.deployments.get(key)
        if cached is None:
            return
        d = copy.deepcopy(cached)
        spec = d.get("spec") or {}
        selector = LabelSelector.from_object(spec.get("selector"))
        if selector.empty:  # selecting every pod is refused, as kube does
            log.warning("deployment %s selects all pods; not syncing", key)
            return
        ns = d["metadata"]["namespace"]
        rss = await ownership.claim(self.client, d, selector, self.rss.list(ns), REPLICASETS)
        if d["metadata"].get("deletionTimestamp"):
            await self.sync_status(d, rss, None)
            return
        if spec.get("paused") or self.is_scaling_event(d, rss):
            await self.sync(d, rss)
        elif (spec.get("strategy") or {}).get("type") == "Recreate":
            await self.recreate(d, rss)
        else:
            await self.rolling(d, rss)

    def is_scaling_event(self, d: Obj, rss: list[Obj]) -> bool:
        for rs in rss:
            if du.replicas(rs) <= 0:
                continue
            desired = ((rs["metadata"].get("annotations") or {}).get(du.DESIRED_REPLICAS))
            if desired is not None and desired != str(du.replicas(d)):
                return True
        return False

    # --- the new ReplicaSet ----------------------------------------------------------------------
    async def new_and_old(self, d: Obj, rss: list[Obj], create: bool) -> tuple[Obj | None, list[Obj]]:
        template = (d.get("spec") or {}).get("template") or {}
        new = next((rs for rs in du.by_creation(rss) if du.same_template((rs.get("spec") or {}).get("template")
                                                                         or {}, template)), None)
        old = [rs for rs in rss if rs is not new]
        next_revision = max((du.revision(rs) for rs in old), default=0) + 1
        if new is not None:
            new = await self._refresh_annotations(d, new, next_revision)
        elif create:
            new = await self._create_new(d, rss, old, next_revision)
        if new is not None:
            await self._set_deployment_revision(d, str(du.revision(new)))
        return new, old

    def _rs_annotations(self, d: Obj, revision: int) -> dict[str, str]:
        surge, _ = du.surge_and_unavailable(d)
        return {**du.copied_annotations(d), du.REVISION: str(revision),
                du.DESIRED_REPLICAS: str(du.replicas(d)), du.MAX_REPLICAS: str(du.replicas(d) + surge)}

    async def _refresh_annotations(self, d: Obj, rs: Obj, next_revision: int) -> Obj:
        current = dict(rs["metadata"].get("annotations") or {})
        revision = du.revision(rs) if du.revision(rs) >= next_revision else next_revision
        wanted = {**current, **du.copied_annotations(d), du.REVISION: str(revision)}
        if du.revision(rs) and du.revision(rs) < next_revision:
            history = [h for h in current.get(du.REVISION_HISTORY, "").split(",") if h]
            wanted[du.REVISION_HISTORY] = ",".join(history + [str(du.revision(rs))])
        if wanted == current:
            return rs
        rs = copy.deepcopy(rs)
        rs["metadata"]["annotations"] = wanted
        return await self._replace_rs(rs)

    async def _create_new(self, d: Obj, rss: list[Obj], old: list[Obj], revision: int) -> Obj:
        spec = d["spec"]
        collision = (d.get("status") or {}).get("collisionCount")
        template = copy.deepcopy(spec.get("template") or {})
        pod_hash = du.template_hash(template, collision)
        template.setdefault("metadata", {}).setdefault("labels", {})[du.HASH_LABEL] = pod_hash
        selector = copy.deepcopy(spec.get("selector") or {})
        selector.setdefault("matchLabels", {})[du.HASH_LABEL] = pod_hash
        name = f"{d['metadata']['name']}-{pod_hash}"
        rs: Obj = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
              "metadata": {"name": name, "namespace": d["metadata"]["namespace"],
                           "labels": dict(template["metadata"]["labels"]),
                           "annotations": self._rs_annotations(d, revision),
                           "ownerReferences": [podutil.owner_ref(d)]},
              "spec": {"replicas": 0, "minReadySeconds": int(spec.get("minReadySeconds") or 0),
                       "selector": selector, "template": template}}
        rs["spec"]["replicas"] = du.new_rs_replicas(d, old, rs)
        try:
            created = await self.client.create(object_path(REPLICASETS, d["metadata"]["namespace"], None), rs)
        except StatusError as e:
            if e.code != 409:
                raise
            existing = await self.client.get(object_path(REPLICASETS, d["metadata"]["namespace"], name))
            ref = podutil.controller_ref(existing)
            if ref is not None and ref.get("uid") == d["metadata"]["uid"] and du.same_template(
                    (existing.get("spec") or {}).get("template") or {}, spec.get("template") or {}):
                return existing  # ours, created by an earlier pass the cache had not shown yet
            # a hash collision with someone else's ReplicaSet: try the next name
            await self._patch_status(d, {"collisionCount": int(collision or 0) + 1})
            raise
        if rs["spec"]["replicas"]:
            self.event(d, "Normal", "ScalingReplicaSet",
                       f"Scaled up replica set {name} from 0 to {rs['spec']['replicas']}")
        status = d.setdefault("status", {})
        status["conditions"] = du.set_condition(status.get("conditions") or [], "Progressing", "True",
                                                "NewReplicaSetCreated", f'Created new replica set "{name}"', self.now())
        return created

    async def _set_deployment_revision(self, d: Obj, revision: str) -> None:
        annotations = d["metadata"].get("annotations") or {}
        if annotations.get(du.REVISION) == revision:
            return
        updated = await self.client.merge_patch(object_path(DEPLOYMENTS, d["metadata"]["namespace"],
                                                            d["metadata"]["name"]),
                                                {"metadata": {"annotations": {du.REVISION: revision}}})
        d["metadata"] = updated["metadata"]

    # --- writes ----------------------------------------------------------------------------------
    async def _replace_rs(self, rs: Obj) -> Obj:
        return await self.client.replace(object_path(REPLICASETS, rs["metadata"]["namespace"], rs["metadata"]["name"]),
                                         rs)

    async def scale(self, d: Obj, rs: Obj, count: int) -> Obj:
        surge, _ = du.surge_and_unavailable(d)
        annotations = dict(rs["metadata"].get("annotations") or {})
        wanted = {du.DESIRED_REPLICAS: str(du.replicas(d)), du.MAX_REPLICAS: str(du.replicas(d) + surge)}
        if du.replicas(rs) == count and all(annotations.get(k) == v for k, v in wanted.items()):
            return rs
        rs = copy.deepcopy(rs)
        rs["metadata"]["annotations"] = {**annotations, **wanted}
        before = du.replicas(rs)
        rs["spec"]["replicas"] = count
        updated = await self._replace_rs(rs)
        if before != count:
            self.event(d, "Normal", "ScalingReplicaSet", f"Scaled {'up' if count > before else 'down'} replica set "
                                                         f"{rs['metadata']['name']} from {before} to {count}")
        return updated

    async def _apply(self, d: Obj, rss: list[Obj], targets: dict[str, int]) -> list[Obj]:
        out = []
        for rs in rss:
            name = rs["metadata"]["name"]
            out.append(await self.scale(d, rs, targets[name]) if name in targets else rs)
        return out

    # --- strategies --------------------------------------------------------------------------------
    async def rolling(self, d: Obj, rss: list[Obj]) -> None:
        new, old = await self.new_and_old(d, rss, create=True)
        assert new is not None
        all_rss = old + [new]
        target = du.new_rs_replicas(d, all_rss, new)
        if target != du.replicas(new):  # scale up (or down to spec.replicas) the new one first
            new = await self.scale(d, new, target)
            await self.sync_status(d, old + [new], new)
            return
        downs = du.old_scale_downs(d, all_rss, old, new)
        if downs:
            old = await self._apply(d, old, downs)
            await self.sync_status(d, old + [new], new)
            return
        status = self.compute_status(d, all_rss, new)
        if du.is_complete(d, status):
            await self.cleanup(d, old)
        await self.sync_status(d, all_rss, new)

    async def recreate(self, d: Obj, rss: list[Obj]) -> None:
        new, old = await self.new_and_old(d, rss, create=False)
        active_old = {rs["metadata"]["name"]: 0 for rs in old if du.replicas(rs) > 0}
        if active_old:
            old = await self._apply(d, old, active_old)
            await self.sync_status(d, old + ([new] if new else []), new)
            return
        if self._old_pods_running(old):
            await self.sync_status(d, old + ([new] if new else []), new)
            return
        if new is None:
            new, old = await self.new_and_old(d, rss, create=True)
            assert new is not None
        new = await self.scale(d, new, du.replicas(d))
        status = self.compute_status(d, old + [new], new)
        if du.is_complete(d, status):
            await self.cleanup(d, old)
        await self.sync_status(d, old + [new], new)

    def _old_pods_running(self, old: list[Obj]) -> bool:
        if any(du.status_of(rs, "replicas") > 0 for rs in old):
            return True
        uids = {rs["metadata"]["uid"] for rs in old}
        return any((podutil.controller_ref(p) or {}).get("uid") in uids
                   and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
                   for p in self.pods.list())

    async def sync(self, d: Obj, rss: list[Obj]) -> None:
        """Scaling only (a paused Deployment, or spec.replicas changed mid-rollout)."""
        new, old = await self.new_and_old(d, rss, create=False)
        all_rss = old + ([new] if new else [])
        active = [rs for rs in all_rss if du.replicas(rs) > 0]
        if len(active) <= 1:
            target = active[0] if active else (new or (du.by_creation(all_rss)[-1] if all_rss else None))
            if target is not None:
                all_rss = await self._apply(d, all_rss, {target["metadata"]["name"]: du.replicas(d)})
        elif new is not None and du.replicas(new) == du.replicas(d) and \
                du.status_of(new, "availableReplicas") == du.replicas(d):
            all_rss = await self._apply(d, all_rss, {rs["metadata"]["name"]: 0 for rs in old})
        else:
            all_rss = await self._apply(d, all_rss, du.proportional_scale(d, active, new))
        new = next((rs for rs in all_rss if new is not None and rs["metadata"]["name"] == new["metadata"]["name"]),
                   None)
        if (d.get("spec") or {}).get("paused"):
            await self.cleanup(d, [rs for rs in all_rss if rs is not new])
        await self.sync_status(d, all_rss, new)

    async def cleanup(self, d: Obj, old: list[Obj]) -> None:
        """Delete fully scaled-down old revisions beyond revisionHistoryLimit, oldest first."""
        limit = (d.get("spec") or {}).get("revisionHistoryLimit", 10)
        alive = [rs for rs in old if not rs["metadata"].get("deletionTimestamp")]
        excess = len(alive) - int(limit if limit is not None else 10)
        for rs in sorted(alive, key=du.revision):
            if excess <= 0:
                break
            if du.replicas(rs) or du.status_of(rs, "replicas") or \
                    du.status_of(rs, "observedGeneration") < rs["metadata"].get("generation", 0):
                continue
            try:
                await self.client.delete(object_path(REPLICASETS, rs["metadata"]["namespace"], rs["metadata"]["name"]))
            except StatusError as e:
                if e.code != 404:
                    raise
            excess -= 1

    # --- status ------------------------------------------------------------------------------------
    def compute_status(self, d: Obj, rss: list[Obj], new: Obj | None) -> Obj:
        desired = du.replicas(d)
        _, max_unavailable = du.surge_and_unavailable(d)
        available = sum(du.status_of(rs, "availableReplicas") for rs in rss)
        total = sum(du.replicas(rs) for rs in rss)
        status: Obj = {"observedGeneration": d["metadata"].get("generation", 1)}
        for field, value in (("replicas", sum(du.status_of(rs, "replicas") for rs in rss)),
                             ("updatedReplicas", du.status_of(new, "replicas") if new else 0),
                             ("readyReplicas", sum(du.status_of(rs, "readyReplicas") for rs in rss)),
                             ("availableReplicas", available),
                             ("unavailableReplicas", max(total - available, 0))):
            if value:
                status[field] = value
        old = d.get("status") or {}
        if old.get("collisionCount") is not None:
            status["collisionCount"] = old["collisionCount"]
        conditions = list(old.get("conditions") or [])
        if available >= desired - max_unavailable:
            conditions = du.set_condition(conditions, "Available", "True", "MinimumReplicasAvailable",
                                          "Deployment has minimum availability.", self.now())
        else:
            conditions = du.set_condition(conditions, "Available", "False", "MinimumReplicasUnavailable",
                                          "Deployment does not have minimum availability.", self.now())
        status["conditions"] = conditions
        return status

    def _progress(self, d: Obj, status: Obj, new: Obj | None) -> None:
        """The Progressing condition (kube's syncRolloutStatus / checkPausedConditions)."""
        spec, old = d.get("spec") or {}, d.get("status") or {}
        now = self.now()
        conds = status["conditions"]
        current = du.condition(status, "Progressing")
        if spec.get("paused"):
            if current is None or current.get("reason") != "DeploymentPaused":
                status["conditions"] = du.set_condition(conds, "Progressing", "Unknown", "DeploymentPaused",
                                                        "Deployment is paused", now)
            return
        if current is not None and current.get("reason") == "DeploymentPaused":
            conds = du.set_condition(conds, "Progressing", "Unknown", "DeploymentResumed",
                                     "Deployment is resumed", now)
            current = du.condition({"conditions": conds}, "Progressing")
        if spec.get("progressDeadlineSeconds") is None or new is None:
            status["conditions"] = conds
            return
        name = new["metadata"]["name"]
        if du.is_complete(d, status):
            conds = du.set_condition(conds, "Progressing", "True", "NewReplicaSetAvailable",
                                     f'ReplicaSet "{name}" has successfully progressed.', now)
        elif self._made_progress(old, status):
            # replaced, not merged, so that lastUpdateTime (the deadline's clock) moves
            conds = du.set_condition([c for c in conds if c.get("type") != "Progressing"], "Progressing", "True",
                                     "ReplicaSetUpdated", f'ReplicaSet "{name}" is progressing.', now)
            if current is not None and current.get("status") == "True" and current.get("lastTransitionTime"):
                conds[-1]["lastTransitionTime"] = current["lastTransitionTime"]
        elif current is None:
            conds = du.set_condition(conds, "Progressing", "True", "FoundNewReplicaSet",
                                     f'Found new replica set "{name}"', now)
        elif du.deadline_exceeded(d, {"conditions": conds}, now):
            conds = du.set_condition(conds, "Progressing", "False", "ProgressDeadlineExceeded",
                                     f'ReplicaSet "{name}" has timed out progressing.', now)
        status["conditions"] = conds

    @staticmethod
    def _made_progress(old: Obj, new: Obj) -> bool:
        return (new.get("updatedReplicas", 0) > old.get("updatedReplicas", 0)
                or new.get("readyReplicas", 0) > old.get("readyReplicas", 0)
                or new.get("availableReplicas", 0) > old.get("availableReplicas", 0)
                or new.get("replicas", 0) < old.get("replicas", 0))

    async def sync_status(self, d: Obj, rss: list[Obj], new: Obj | None) -> None:
        status = self.compute_status(d, rss, new)
        self._progress(d, status, new)
        old = d.get("status") or {}
        if status != old:
            await self._patch_status(d, {k: status.get(k) for k in set(old) | set(status)})
        deadline = (d.get("spec") or {}).get("progressDeadlineSeconds")
        if deadline is not None and not (d.get("spec") or {}).get("paused") and not du.is_complete(d, status) \
                and not du.deadline_exceeded(d, status, self.now()):
            self.queue.add_after(object_key(d), float(deadline) + 1)  # look again when it could time out

    async def _patch_status(self, d: Obj, fields: Obj) -> None:
        try:
            await self.client.merge_patch(object_path(DEPLOYMENTS, d["metadata"]["namespace"], d["metadata"]["name"],
                                                      "status"), {"status": fields})
        except StatusError as e:
            if e.code != 404:
                raise
