"""The Deployment controller (with the ReplicaSet controller) against the fake client, and its pure arithmetic."""

from __future__ import annotations

import asyncio

from skiff.cluster.controllers import deployment_util as du
from skiff.cluster.controllers import podutil
from skiff.cluster.controllers.deployment import DeploymentController
from skiff.cluster.controllers.replicaset import ReplicaSetController
from tests.unit.controllers.harness import Harness

DEPLOY = "/apis/apps/v1/namespaces/default/deployments"


def deployment(replicas: int = 4, image: str = "busybox:v1", strategy: dict | None = None, **spec) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "progressDeadlineSeconds": 600, "revisionHistoryLimit": 10,
                     "strategy": strategy or {"type": "RollingUpdate",
                                              "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "web", "image": image}]}}, **spec}}


def rs(name: str, replicas: int, available: int = 0, created: str = "2026-01-01T00:00:00Z") -> dict:
    return {"metadata": {"name": name, "creationTimestamp": created}, "spec": {"replicas": replicas},
            "status": {"availableReplicas": available}}


# --- pure arithmetic ---------------------------------------------------------------------------------

def test_surge_rounds_up_unavailable_rounds_down_never_both_zero():
    assert du.surge_and_unavailable(deployment(10)) == (3, 2)
    assert du.surge_and_unavailable(deployment(3, strategy={"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}})) \
        == (0, 1)
    assert du.surge_and_unavailable(deployment(3, strategy={"type": "Recreate"})) == (0, 0)


def test_new_rs_grows_only_within_max_surge():
    d = deployment(4)  # surge 1
    old, new = rs("old", 4, 4), rs("new", 0)
    assert du.new_rs_replicas(d, [old, new], new) == 1
    assert du.new_rs_replicas(d, [old, rs("new", 1)], rs("new", 1)) == 1  # 5 pods already
    assert du.new_rs_replicas(d, [rs("old", 3, 3), rs("new", 1)], rs("new", 1)) == 2


def test_old_scale_down_keeps_min_available_and_drops_unhealthy_first():
    d = deployment(4)  # unavailable 1 -> at least 3 available
    old, new = rs("old", 4, 4), rs("new", 1, 0)
    assert du.old_scale_downs(d, [old, new], [old], new) == {"old": 3}
    assert du.old_scale_downs(d, [rs("old", 3, 3), rs("new", 1, 0)], [rs("old", 3, 3)], rs("new", 1, 0)) == {}
    assert du.old_scale_downs(d, [rs("old", 3, 3), rs("new", 2, 1)], [rs("old", 3, 3)], rs("new", 2, 1)) == {"old": 2}
    sick = rs("sick", 2, 0, "2025-01-01T00:00:00Z")
    assert du.old_scale_downs(d, [sick, old, new], [sick, old], new) == {"sick": 0, "old": 3}


def test_template_hash_is_stable_and_follows_the_template():
    t1 = deployment()["spec"]["template"]
    t2 = deployment(image="busybox:v2")["spec"]["template"]
    assert du.template_hash(t1) == du.template_hash(dict(t1))
    assert du.template_hash(t1) != du.template_hash(t2)
    assert du.template_hash(t1) != du.template_hash(t1, 1)
    assert set(du.template_hash(t1)) <= set("bcdfghjklmnpqrstvwxz2456789")


def test_proportional_scale_spreads_a_change_over_active_sets():
    d = deployment(20)  # surge 5: 25 allowed
    active = [rs("a", 10, created="2026-01-01T00:00:00Z"), rs("b", 5, created="2026-01-02T00:00:00Z")]
    targets = du.proportional_scale(d, active, active[1])
    assert sum(targets.get(r["metadata"]["name"], du.replicas(r)) for r in active) == 25
    assert targets["a"] > 10 and targets["b"] > 5


# --- the controller -----------------------------------------------------------------------------------

async def roll(h: Harness, min_available: int) -> int:
    """Let the controllers work while a kubelet makes new pods ready; the lowest ready count seen."""
    lowest = 10 ** 6
    for _ in range(60):
        await h.settle()
        ready = sum(1 for p in h.objects("pods") if podutil.is_ready(p))
        lowest = min(lowest, ready)
        if not await h.mark_ready():
            await h.settle()
            if not await h.mark_ready():
                break
    return lowest


def test_deployment_creates_a_revision_and_becomes_available():
    async def main() -> None:
        async with Harness(DeploymentController, ReplicaSetController) as h:
            await h.client.create(DEPLOY, deployment(3))
            await roll(h, 0)
            [rs_] = h.objects("replicasets")
            pod_hash = rs_["metadata"]["labels"][du.HASH_LABEL]
            assert rs_["metadata"]["name"] == f"web-{pod_hash}"
            assert rs_["spec"]["selector"]["matchLabels"] == {"app": "web", du.HASH_LABEL: pod_hash}
            assert rs_["metadata"]["annotations"][du.REVISION] == "1"
            assert rs_["metadata"]["annotations"][du.DESIRED_REPLICAS] == "3"
            d = h.objects("deployments")[0]
            assert d["metadata"]["annotations"][du.REVISION] == "1"
            st = d["status"]
            assert (st["replicas"], st["updatedReplicas"], st["readyReplicas"], st["availableReplicas"]) == (3, 3, 3, 3)
            conds = {c["type"]: c for c in st["conditions"]}
            assert conds["Available"]["status"] == "True"
            assert conds["Progressing"]["reason"] == "NewReplicaSetAvailable"
            assert conds["Progressing"]["message"] == f'ReplicaSet "web-{pod_hash}" has successfully progressed.'
    asyncio.run(main())


def test_rolling_update_never_drops_below_max_unavailable_and_keeps_history():
    async def main() -> None:
        async with Harness(DeploymentController, ReplicaSetController) as h:
            await h.client.create(DEPLOY, deployment(4))
            await roll(h, 0)
            await h.client.merge_patch(DEPLOY + "/web", {"spec": {"template": {"spec": {"containers": [
                {"name": "web", "image": "busybox:v2"}]}}}})
            lowest = await roll(h, 3)
            assert lowest >= 3
            rss = {r["metadata"]["annotations"][du.REVISION]: r for r in h.objects("replicasets")}
            assert sorted(rss) == ["1", "2"]
            assert rss["1"]["spec"]["replicas"] == 0 and rss["2"]["spec"]["replicas"] == 4
            images = {p["spec"]["containers"][0]["image"] for p in h.objects("pods")
                      if not p["metadata"].get("deletionTimestamp")}
            assert images == {"busybox:v2"}
            assert h.objects("deployments")[0]["metadata"]["annotations"][du.REVISION] == "2"
    asyncio.run(main())


def test_rollback_reuses_the_old_replicaset_with_a_new_revision():
    async def main() -> None:
        async with Harness(DeploymentController, ReplicaSetController) as h:
            await h.client.create(DEPLOY, deployment(2))
            await roll(h, 0)
            v1 = h.objects("replicasets")[0]["metadata"]["name"]
            await h.client.merge_patch(DEPLOY + "/web", {"spec": {"template": {"spec": {"containers": [
                {"name": "web", "image": "busybox:v2"}]}}}})
            await roll(h, 1)
            await h.client.merge_patch(DEPLOY + "/web", {"spec": {"template": {"spec": {"containers": [
                {"name": "web", "image": "busybox:v1"}]}}}})
            await roll(h, 1)
            rss = {r["metadata"]["name"]: r for r in h.objects("replicasets")}
            assert len(rss) == 2
            assert rss[v1]["metadata"]["annotations"][du.REVISION] == "3"
            assert rss[v1]["metadata"]["annotations"][du.REVISION_HISTORY] == "1"
            assert rss[v1]["spec"]["replicas"] == 2
    asyncio.run(main())


def test_recreate_scales_old_to_zero_before_creating_new():
    async def main() -> None:
        async with Harness(DeploymentController, ReplicaSetController) as h:
            await h.client.create(DEPLOY, deployment(2, strategy={"type": "Recreate"}))
            await roll(h, 0)
            await h.client.merge_patch(DEPLOY + "/web", {"spec": {"template": {"spec": {"containers": [
                {"name": "web", "image": "busybox:v2"}]}}}})
            await roll(h, 0)
            rs_events = [(kind, o) for _, kind, key, o in h.client.history if key[1] == "replicasets"]
            created_new = next(i for i, (kind, o) in enumerate(rs_events)
                               if kind == "ADDED" and o["metadata"]["annotations"][du.REVISION] == "2")
            old_zero = next(i for i, (kind, o) in enumerate(rs_events)
                            if o["metadata"]["annotations"].get(du.REVISION) == "1" and o["spec"]["replicas"] == 0)
            assert old_zero < created_new
            assert {p["spec"]["containers"][0]["image"] for p in h.objects("pods")} == {"busybox:v2"}
    asyncio.run(main())


def test_paused_deployment_does_not_roll_and_history_limit_prunes():
    async def main() -> None:
        async with Harness(DeploymentController, ReplicaSetController) as h:
            await h.client.create(DEPLOY, deployment(1, revisionHistoryLimit=1))
            await roll(h, 0)
            await h.client.merge_patch(DEPLOY + "/web", {"spec": {"paused": True, "template": {"spec": {
                "containers": [{"name": "web", "image": "busybox:v2"}]}}}})
            await roll(h, 0)
            assert len(h.objects("replicasets")) == 1
            cond = du.condition(h.objects("deployments")[0]["status"], "Progressing")
            assert (cond["status"], cond["reason"]) == ("Unknown", "DeploymentPaused")
            await h.client.merge_patch(DEPLOY + "/web", {"spec": {"paused": False}})
            await roll(h, 0)
            for image in ("busybox:v3", "busybox:v4"):
                await h.client.merge_patch(DEPLOY + "/web", {"spec": {"template": {"spec": {
                    "containers": [{"name": "web", "image": image}]}}}})
                await roll(h, 0)
            revisions = sorted(r["metadata"]["annotations"][du.REVISION] for r in h.objects("replicasets"))
            assert revisions == ["3", "4"]
    asyncio.run(main())


def test_scaling_mid_way_changes_the_active_replicaset():
    async def main() -> None:
        async with Harness(DeploymentController, ReplicaSetController) as h:
            await h.client.create(DEPLOY, deployment(2))
            await roll(h, 0)
            await h.client.merge_patch(DEPLOY + "/web", {"spec": {"replicas": 5}})
            await roll(h, 0)
            [rs_] = h.objects("replicasets")
            assert rs_["spec"]["replicas"] == 5 and rs_["metadata"]["annotations"][du.DESIRED_REPLICAS] == "5"
            assert h.objects("deployments")[0]["status"]["availableReplicas"] == 5
    asyncio.run(main())


def test_null_fields_equal_absent_ones_when_matching_templates():
    t = deployment()["spec"]["template"]
    sent_by_kubectl_undo = {"metadata": {"creationTimestamp": None, "labels": {"app": "web", du.HASH_LABEL: "x"}},
                            "spec": t["spec"]}
    assert du.same_template(sent_by_kubectl_undo, t)
    assert du.template_hash(sent_by_kubectl_undo["spec"]) == du.template_hash(t["spec"])
    assert not du.same_template(deployment(image="other")["spec"]["template"], t)
