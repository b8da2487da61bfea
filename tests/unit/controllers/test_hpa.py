"""The HPA arithmetic (pure) and the controller against the fake client with injected metrics."""

from __future__ import annotations

import asyncio

from skiff.cluster.controllers import hpascale
from skiff.cluster.controllers.hpa import HorizontalPodAutoscalerController
from skiff.cluster.controllers.hpascale import PodUsage
from tests.unit.controllers.harness import Harness

DEPLOY = "/apis/apps/v1/namespaces/default/deployments"
HPAS = "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers"
PODS = "/api/v1/namespaces/default/pods"


def pods(n: int, cpu: float, request: float = 0.2) -> list[PodUsage]:
    return [PodUsage(f"p{i}", {"cpu": cpu}, {"cpu": request}) for i in range(n)]


def test_proposal_follows_utilization_with_a_tolerance():
    assert hpascale.proposal(2, pods(2, 0.2), "cpu", "Utilization", 50) == (4, 100.0)  # 100% of 50% → double
    assert hpascale.proposal(4, pods(4, 0.105), "cpu", "Utilization", 50)[0] == 4  # 52.5%: within 10%
    assert hpascale.proposal(4, pods(4, 0.02), "cpu", "Utilization", 50)[0] == 1
    assert hpascale.proposal(3, [], "cpu", "Utilization", 50)[0] == 3  # no metrics: no change
    mem = [PodUsage("m", {"memory": 300.0}, {})]
    assert hpascale.proposal(1, mem, "memory", "AverageValue", 100)[0] == 3


def test_targets_from_v1_and_v2():
    v1 = {"apiVersion": "autoscaling/v1", "spec": {"targetCPUUtilizationPercentage": 60}}
    assert hpascale.resource_targets(v1) == [("cpu", "Utilization", 60.0)]
    v2 = {"apiVersion": "autoscaling/v2", "spec": {"metrics": [
        {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue",
                                                                       "averageValue": "64Mi"}}}]}}
    assert hpascale.resource_targets(v2) == [("memory", "AverageValue", 64 * 1024 * 1024.0)]


def test_scale_down_is_stabilized_over_the_window_and_up_is_not():
    history = [(0.0, 10), (100.0, 6), (200.0, 4)]
    assert hpascale.stabilize(history, 200.0, 4, 8, 0, 300) == 8  # highest in the window, not above current
    assert hpascale.stabilize(history, 350.0, 4, 8, 0, 300) == 6  # the 10 has left the window
    assert hpascale.stabilize([(0.0, 2), (10.0, 9)], 10.0, 9, 3, 0, 300) == 9


def test_rate_policies_bound_one_step():
    up = hpascale.behavior_of({"spec": {}}, True)
    assert hpascale.rate_limit(2, 20, [], 0.0, up, True) == 6  # max(100% → 4, +4 pods → 6)
    assert hpascale.rate_limit(10, 50, [], 0.0, up, True) == 20
    assert hpascale.rate_limit(20, 50, [(0.0, 10)], 5.0, up, True) == 20  # already doubled in this period
    assert hpascale.rate_limit(20, 50, [(0.0, 10)], 16.0, up, True) == 40  # a new period
    down = {"selectPolicy": "Max", "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}
    assert hpascale.rate_limit(5, 1, [], 0.0, down, False) == 4
    assert hpascale.rate_limit(5, 1, [], 0.0, {"selectPolicy": "Disabled"}, False) == 5


def deployment(replicas: int) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c"}]}}}}


def hpa(**spec) -> dict:
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "web"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                     "minReplicas": 1, "maxReplicas": 10, "metrics": [{"type": "Resource", "resource": {
                         "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}], **spec}}


def test_controller_scales_the_target_up_then_down_after_the_window():
    async def main() -> None:
        usage = {"cpu": 0.2}
        clock = [1000.0]

        async def metrics(namespace: str, selector: str) -> dict:
            return {p["metadata"]["name"]: dict(usage) for p in h.objects("pods")}

        h = Harness(HorizontalPodAutoscalerController, metrics=metrics, clock=lambda: clock[0])
        async with h:
            await h.client.create(DEPLOY, deployment(2))
            for i in range(2):
                await h.client.create(PODS, {"apiVersion": "v1", "kind": "Pod", "metadata": {
                    "name": f"web-{i}", "labels": {"app": "web"}}, "spec": {"containers": [
                        {"name": "c", "resources": {"requests": {"cpu": "200m"}}}]}})
            await h.client.create(HPAS, hpa())
            await h.settle()
            assert h.objects("deployments")[0]["spec"]["replicas"] == 4  # 100% against 50%
            status = h.objects("horizontalpodautoscalers")[0]["status"]
            assert status["desiredReplicas"] == 4 and status["currentMetrics"][0]["resource"]["current"] == {
                "averageUtilization": 100}
            assert {c["type"]: c["status"] for c in status["conditions"]} == {"AbleToScale": "True",
                                                                             "ScalingActive": "True"}
            usage["cpu"] = 0.01  # idle: wants 1, but the 300 s window holds the 4
            clock[0] += 60
            h.ctrl.queue.add("default/web")
            await h.settle()
            assert h.objects("deployments")[0]["spec"]["replicas"] == 4
            clock[0] += 301
            h.ctrl.queue.add("default/web")
            await h.settle()
            assert h.objects("deployments")[0]["spec"]["replicas"] == 1
    asyncio.run(main())
