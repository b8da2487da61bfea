"""The DaemonSet controller against the fake client, and its node-eligibility rules."""

from __future__ import annotations

import asyncio

from skiff.cluster.controllers import daemonset
from skiff.cluster.controllers.daemonset import DaemonSetController, should_run
from tests.unit.controllers.harness import Harness

DS = "/apis/apps/v1/namespaces/default/daemonsets"
NODES = "/api/v1/nodes"


def ds(name: str = "agent", **pod_spec) -> dict:
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": name},
            "spec": {"selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "c", "image": "busybox:1"}], **pod_spec}}}}


def node(name: str, labels: dict | None = None, taints: list | None = None) -> dict:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels or {}},
            "spec": {"taints": taints} if taints else {}}


def placement(h: Harness) -> list[str]:
    return sorted(p["spec"]["nodeName"] for p in h.objects("pods"))


def test_one_pod_per_node_and_one_more_for_a_joining_node():
    async def main() -> None:
        async with Harness(DaemonSetController) as h:
            for n in ("n1", "n2", "n3"):
                await h.client.create(NODES, node(n))
            await h.client.create(DS, ds())
            await h.settle()
            assert placement(h) == ["n1", "n2", "n3"]
            pod = h.objects("pods")[0]
            assert pod["metadata"]["ownerReferences"][0]["kind"] == "DaemonSet"
            terms = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
            assert terms["nodeSelectorTerms"][0]["matchFields"][0]["values"] == [pod["spec"]["nodeName"]]
            assert {"key": "node.kubernetes.io/unschedulable", "operator": "Exists",
                    "effect": "NoSchedule"} in pod["spec"]["tolerations"]
            await h.client.create(NODES, node("n4"))
            await h.settle()
            assert placement(h) == ["n1", "n2", "n3", "n4"]
            status = h.objects("daemonsets")[0]["status"]
            assert status["desiredNumberScheduled"] == 4 and status["currentNumberScheduled"] == 4
            assert status["numberReady"] == 0
            first = h.objects("pods")[0]
            await h.mark_ready([first], node=first["spec"]["nodeName"])
            await h.settle()
            assert h.objects("daemonsets")[0]["status"]["numberReady"] == 1
            # a node that goes away takes its pod's place with it
            await h.client.delete(NODES + "/n4")
            await h.settle()
            assert placement(h) == ["n1", "n2", "n3"]
    asyncio.run(main())


def test_node_selector_and_taints_decide_where_pods_go():
    async def main() -> None:
        async with Harness(DaemonSetController) as h:
            await h.client.create(NODES, node("ssd", {"disk": "ssd"}))
            await h.client.create(NODES, node("hdd", {"disk": "hdd"}))
            await h.client.create(NODES, node("tainted", {"disk": "ssd"},
                                              [{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]))
            await h.client.create(DS, ds(nodeSelector={"disk": "ssd"}))
            await h.settle()
            assert placement(h) == ["ssd"]
            # relabelling a node moves the daemon off it
            await h.client.merge_patch(NODES + "/ssd", {"metadata": {"labels": {"disk": "hdd"}}})
            await h.settle()
            assert placement(h) == []
            assert h.objects("daemonsets")[0]["status"]["desiredNumberScheduled"] == 0
    asyncio.run(main())


def test_rolling_update_replaces_at_most_max_unavailable_and_on_delete_waits():
    async def main() -> None:
        async with Harness(DaemonSetController) as h:
            for n in ("n1", "n2", "n3"):
                await h.client.create(NODES, node(n))
            await h.client.create(DS, ds())
            await h.settle()
            for p in h.objects("pods"):
                await h.mark_ready([p], node=p["spec"]["nodeName"])
            await h.settle()
            await h.client.merge_patch(DS + "/agent", {"spec": {"template": {"spec": {"containers": [
                {"name": "c", "image": "busybox:2"}]}}}})
            await h.settle()
            images = sorted(p["spec"]["containers"][0]["image"] for p in h.objects("pods"))
            # one old pod replaced (maxUnavailable 1); the new one is not ready, so no further progress
            assert images == ["busybox:1", "busybox:1", "busybox:2"]
            new = [p for p in h.objects("pods") if p["spec"]["containers"][0]["image"] == "busybox:2"]
            await h.mark_ready(new, node=new[0]["spec"]["nodeName"])
            await h.settle()
            images = sorted(p["spec"]["containers"][0]["image"] for p in h.objects("pods"))
            assert images == ["busybox:1", "busybox:2", "busybox:2"]

            await h.client.merge_patch(DS + "/agent", {"spec": {"updateStrategy": {"type": "OnDelete"},
                                                                "template": {"spec": {"containers": [
                                                                    {"name": "c", "image": "busybox:3"}]}}}})
            await h.settle()
            assert "busybox:3" not in {p["spec"]["containers"][0]["image"] for p in h.objects("pods")}
    asyncio.run(main())


def test_should_run_rules():
    tainted = node("t", {}, [{"key": "k", "value": "v", "effect": "NoExecute"}])
    assert not should_run({}, tainted)
    assert should_run({"tolerations": [{"key": "k", "operator": "Exists"}]}, tainted)
    unschedulable = node("u", {}, [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}])
    assert should_run({}, unschedulable)  # the automatic toleration
    prefer = node("p", {}, [{"key": "k", "effect": "PreferNoSchedule"}])
    assert should_run({}, prefer)
    affinity = {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]}}}}
    assert should_run(affinity, node("a", {"zone": "a"})) and not should_run(affinity, node("b", {"zone": "b"}))
    assert daemonset.max_unavailable({"spec": {"updateStrategy": {"rollingUpdate": {"maxUnavailable": "50%"}}}},
                                     5) == 3
    assert daemonset.template_hash({"a": 1}) == daemonset.template_hash({"a": 1}) != daemonset.template_hash({})
