"""Pod-level cgroups, as the kubelet's cgroupfs driver lays them out, under the engine's prefix:
`/<prefix>/kubepods/pod<uid>` (Guaranteed), `.../kubepods/burstable/pod<uid>`,
`.../kubepods/besteffort/pod<uid>`. A pod's containers (and its sandbox) go under its cgroup
through the engine's HostConfig.CgroupParent, so the pod's summed limits bound them all and
BestEffort pods share the smallest CPU weight: QoS is enforced, not only reported."""

from __future__ import annotations

import contextlib
import logging

from skiff.cluster.kubelet.resources import (
    CFS_PERIOD_US,
    MIN_SHARES,
    _requests_limits,
    memory_bytes,
    milli_cpu,
    qos_class,
)

log = logging.getLogger("skiff.kubelet.cgroups")

QOS_DIRS = {"Guaranteed": "", "Burstable": "burstable", "BestEffort": "besteffort"}


def qos_parent(prefix: str, qos: str) -> str:
    sub = QOS_DIRS[qos]
    return f"/{prefix}/kubepods" + (f"/{sub}" if sub else "")


def pod_cgroup(prefix: str, pod: dict) -> str:
    return f"{qos_parent(prefix, qos_class(pod))}/pod{pod['metadata']['uid']}"


def pod_resources(pod: dict) -> dict:
    """The pod cgroup's OCI linux.resources (Kubernetes' ResourceConfigForPod): shares from the
    summed CPU requests; a CFS quota and a memory limit only when every app container has that
    limit (one unlimited container leaves the pod unlimited). Init containers run alone, so the
    largest of them counts when it is larger."""
    spec = pod.get("spec") or {}
    cpu_req = cpu_lim = mem_lim = 0
    all_cpu = all_mem = True
    for c in spec.get("containers") or []:
        requests, limits = _requests_limits(c)
        cpu_req += milli_cpu(requests.get("cpu"))
        cpu_lim += milli_cpu(limits.get("cpu"))
        mem_lim += memory_bytes(limits.get("memory"))
        all_cpu &= "cpu" in limits
        all_mem &= "memory" in limits
    for c in spec.get("initContainers") or []:
        requests, limits = _requests_limits(c)
        cpu_req = max(cpu_req, milli_cpu(requests.get("cpu")))
        cpu_lim = max(cpu_lim, milli_cpu(limits.get("cpu")))
        mem_lim = max(mem_lim, memory_bytes(limits.get("memory")))
    cpu: dict = {"shares": max(MIN_SHARES, cpu_req * 1024 // 1000)}
    if qos_class(pod) == "BestEffort":
        cpu = {"shares": MIN_SHARES}
    if all_cpu and cpu_lim and spec.get("containers"):
        cpu.update(period=CFS_PERIOD_US, quota=max(1000, cpu_lim * CFS_PERIOD_US // 1000))
    out: dict = {"cpu": cpu}
    if all_mem and mem_lim and spec.get("containers"):
        out["memory"] = {"limit": mem_lim}
    return out


class PodCgroups:
    """Creates and removes pod cgroups on this host (the engine's cgroup managers do the writing)."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.made: dict[str, str] = {}  # pod uid → its CgroupParent ("" when it could not be made)

    def parent(self, pod: dict) -> str:
        """The CgroupParent for the pod's containers (engine form: no leading slash)."""
        return pod_cgroup(self.prefix, pod).lstrip("/")

    def ensure(self, pod: dict) -> str:
        """Create the QoS parent and the pod cgroup with the pod's limits; the CgroupParent, or ""
        when the host will not have it (the containers then go where the engine puts them).
        Done once per pod (a few mkdirs and writes), remembered until remove()."""
        from skiff.engine.runtime.cgroups.base import manager_for

        uid = pod["metadata"]["uid"]
        if uid in self.made:
            return self.made[uid]
        self.made[uid] = ""
        try:
            qos = qos_class(pod)
            parent = manager_for(qos_parent(self.prefix, qos))
            parent.create()
            if qos == "BestEffort":
                parent.apply({"cpu": {"shares": MIN_SHARES}})
            mgr = manager_for(pod_cgroup(self.prefix, pod))
            mgr.create()
            mgr.apply(pod_resources(pod))
        except Exception as e:  # noqa: BLE001 - a pod without its own cgroup still runs
            log.warning("pod %s: no pod cgroup: %s", pod["metadata"].get("name"), e)
            return ""
        self.made[uid] = self.parent(pod)
        return self.made[uid]

    def remove(self, pod: dict) -> None:
        from skiff.engine.runtime.cgroups.base import manager_for

        self.made.pop(pod["metadata"]["uid"], None)
        with contextlib.suppress(Exception):  # busy or gone: the engine's prefix cleanup takes it later
            manager_for(pod_cgroup(self.prefix, pod)).destroy()
