"""Requests and limits: the pod's QoS class and each container's engine resources (cgroups).

Kubernetes' mapping (kuberuntime_container_linux.go): cpu.shares from the CPU request
(milli * 1024 / 1000, at least 2), a CFS quota from the CPU limit over a 100 ms period,
memory.limit from the memory limit; an unset request defaults to the limit.
"""

from __future__ import annotations

import math

from skiff.cluster.apimachinery.quantity import parse_quantity

CFS_PERIOD_US = 100_000
MIN_SHARES = 2


def _requests_limits(container: dict) -> tuple[dict, dict]:
    res = container.get("resources") or {}
    limits = dict(res.get("limits") or {})
    requests = {**limits, **(res.get("requests") or {})}  # a limit without a request is also the request
    return requests, limits


def qos_class(pod: dict) -> str:
    spec = pod.get("spec") or {}
    containers = (spec.get("initContainers") or []) + (spec.get("containers") or [])
    any_set = False
    guaranteed = True
    for c in containers:
        requests, limits = _requests_limits(c)
        if requests or limits:
            any_set = True
        for r in ("cpu", "memory"):
            if r not in limits or parse_quantity(requests.get(r, "0")) != parse_quantity(limits[r]):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def milli_cpu(text: str | None) -> int:
    return math.ceil(parse_quantity(text) * 1000) if text else 0


def memory_bytes(text: str | None) -> int:
    return math.ceil(parse_quantity(text)) if text else 0


def host_config(container: dict) -> dict:
    """The engine HostConfig fields for the container's requests and limits."""
    requests, limits = _requests_limits(container)
    hc: dict = {"CpuShares": max(MIN_SHARES, milli_cpu(requests.get("cpu")) * 1024 // 1000)}
    if "cpu" in limits:
        hc["CpuPeriod"] = CFS_PERIOD_US
        hc["CpuQuota"] = max(1000, milli_cpu(limits["cpu"]) * CFS_PERIOD_US // 1000)
    if "memory" in limits:
        hc["Memory"] = memory_bytes(limits["memory"])
    return hc


def pod_requests(pod: dict) -> tuple[int, int]:
    """(milli-CPU, memory bytes) the pod asks for: the larger of the sum over app containers and
    the largest init container, as the scheduler and kubelet admission count them."""
    spec = pod.get("spec") or {}
    cpu = mem = 0
    for c in spec.get("containers") or []:
        requests, _ = _requests_limits(c)
        cpu += milli_cpu(requests.get("cpu"))
        mem += memory_bytes(requests.get("memory"))
    for c in spec.get("initContainers") or []:
        requests, _ = _requests_limits(c)
        cpu = max(cpu, milli_cpu(requests.get("cpu")))
        mem = max(mem, memory_bytes(requests.get("memory")))
    return cpu, mem
