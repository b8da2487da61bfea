"""Pods and nodes parsed once into what the plugins read, so a cycle never re-parses JSON.

Resource amounts are ints: cpu in millicores, everything else in its base unit (bytes, count).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import orjson

from skiff.cluster.apimachinery.quantity import parse

CPU, MEMORY, PODS, EPHEMERAL = "cpu", "memory", "pods", "ephemeral-storage"
# What a container without requests counts as when scoring (kube-scheduler's non-zero defaults).
DEFAULT_MILLI_CPU = 100
DEFAULT_MEMORY = 200 * 1024 * 1024
# Generations come from one counter, so a node deleted and re-added never repeats one (memo keys).
_generations = itertools.count(1)


_amounts: dict[tuple[str, Any], int] = {}


def amount(name: str, value: Any) -> int:
    """A quantity as an int (milli-units for cpu); the same few strings recur in every pod."""
    key = (name, value)
    try:
        return _amounts[key]
    except KeyError:
        pass
    except TypeError:  # not hashable: parse() explains what is wrong with it
        key = None  # type: ignore[assignment]
    q = parse(value)
    n = q.milli_value() if name == CPU else q.int_value()
    if key is not None and len(_amounts) < 10_000:
        _amounts[key] = n
    return n


def resource_list(obj: dict[str, Any] | None) -> dict[str, int]:
    return {k: amount(k, v) for k, v in (obj or {}).items()}


def _add(total: dict[str, int], more: dict[str, int]) -> None:
    for k, v in more.items():
        total[k] = total.get(k, 0) + v


def _max(total: dict[str, int], other: dict[str, int]) -> None:
    for k, v in other.items():
        if v > total.get(k, 0):
            total[k] = v


def pod_requests(spec: dict[str, Any]) -> dict[str, int]:
    """Sum over app containers, at least the largest init container, plus the pod's overhead."""
    total: dict[str, int] = {}
    for c in spec.get("containers") or []:
        _add(total, resource_list((c.get("resources") or {}).get("requests")))
    for c in spec.get("initContainers") or []:
        _max(total, resource_list((c.get("resources") or {}).get("requests")))
    _add(total, resource_list(spec.get("overhead")))
    return total


def non_zero_requests(spec: dict[str, Any]) -> tuple[int, int]:
    """(milli-cpu, memory) for scoring: unset requests count as the defaults, per container."""
    cpu = mem = 0
    for c in spec.get("containers") or []:
        req = (c.get("resources") or {}).get("requests") or {}
        cpu += amount(CPU, req[CPU]) if CPU in req else DEFAULT_MILLI_CPU
        mem += amount(MEMORY, req[MEMORY]) if MEMORY in req else DEFAULT_MEMORY
    for c in spec.get("initContainers") or []:
        req = (c.get("resources") or {}).get("requests") or {}
        cpu = max(cpu, amount(CPU, req[CPU]) if CPU in req else DEFAULT_MILLI_CPU)
        mem = max(mem, amount(MEMORY, req[MEMORY]) if MEMORY in req else DEFAULT_MEMORY)
    overhead = resource_list(spec.get("overhead"))
    return cpu + overhead.get(CPU, 0), mem + overhead.get(MEMORY, 0)


def normalize_image(image: str) -> str:
    """An image reference with docker.io/library/ and :latest made explicit (digests dropped)."""
    name = image.split("@", 1)[0]
    if ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    first = name.split("/", 1)[0]
    if "/" not in name:
        name = "docker.io/library/" + name
    elif "." not in first and ":" not in first and first != "localhost":
        name = "docker.io/" + name
    return name


def host_ports(spec: dict[str, Any]) -> list[tuple[str, str, int]]:
    """(hostIP, protocol, hostPort) of every container port that asks for a host port."""
    out = []
    for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        for p in c.get("ports") or []:
            if p.get("hostPort"):
                out.append((p.get("hostIP") or "0.0.0.0", p.get("protocol") or "TCP", int(p["hostPort"])))
    return out


@dataclass(eq=False)
class PodInfo:
    """A pod as the scheduler reads it."""

    obj: dict[str, Any]
    key: str
    uid: str
    namespace: str
    name: str
    labels: dict[str, str]
    spec: dict[str, Any]
    priority: int
    requests: dict[str, int]
    non_zero: tuple[int, int]
    ports: list[tuple[str, str, int]]
    created: str
    _signature: bytes | None = None

    @classmethod
    def from_object(cls, obj: dict[str, Any]) -> PodInfo:
        meta = obj.get("metadata") or {}
        spec = obj.get("spec") or {}
        ns, name = meta.get("namespace") or "default", meta.get("name") or ""
        return cls(obj, f"{ns}/{name}", meta.get("uid") or "", ns, name, dict(meta.get("labels") or {}), spec,
                   int(spec.get("priority") or 0), pod_requests(spec), non_zero_requests(spec), host_ports(spec),
                   meta.get("creationTimestamp") or "")

    @property
    def signature(self) -> bytes:
        """What node-local plugins read of the pod: pods with equal signatures get equal answers
        from them on a node of one generation."""
        if self._signature is None:
            spec = self.spec
            self._signature = orjson.dumps([self.requests, self.non_zero, self.ports, spec.get("nodeName"),
                                            spec.get("nodeSelector"), (self.affinity.get("nodeAffinity")),
                                            spec.get("tolerations"),
                                            [c.get("image") for c in spec.get("containers") or []]],
                                           option=orjson.OPT_SORT_KEYS)
        return self._signature

    @property
    def node_name(self) -> str:
        return self.spec.get("nodeName") or ""

    @property
    def affinity(self) -> dict[str, Any]:
        return self.spec.get("affinity") or {}

    @property
    def has_pod_affinity(self) -> bool:
        a = self.affinity
        return bool(a.get("podAffinity") or a.get("podAntiAffinity"))

    @property
    def terminating(self) -> bool:
        return bool((self.obj.get("metadata") or {}).get("deletionTimestamp"))


@dataclass(eq=False)
class NodeInfo:
    """A node and the pods on it (bound or assumed), with their totals kept up to date."""

    obj: dict[str, Any]
    name: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    allocatable: dict[str, int] = field(default_factory=dict)
    taints: list[dict[str, Any]] = field(default_factory=list)
    unschedulable: bool = False
    images: dict[str, int] = field(default_factory=dict)  # image name -> size in bytes
    pods: dict[str, PodInfo] = field(default_factory=dict)
    requested: dict[str, int] = field(default_factory=dict)
    non_zero_cpu: int = 0
    non_zero_mem: int = 0
    used_ports: dict[tuple[str, int], set[str]] = field(default_factory=dict)  # (proto, port) -> host IPs
    affinity_pods: dict[str, PodInfo] = field(default_factory=dict)  # pods with pod (anti-)affinity terms
    generation: int = 0

    @classmethod
    def from_object(cls, obj: dict[str, Any]) -> NodeInfo:
        info = cls(obj)
        info.set_node(obj)
        return info

    def set_node(self, obj: dict[str, Any]) -> None:
        meta, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
        self.obj = obj
        self.name = meta.get("name") or ""
        self.labels = dict(meta.get("labels") or {})
        self.allocatable = resource_list(status.get("allocatable") or status.get("capacity"))
        self.taints = list(spec.get("taints") or [])
        self.unschedulable = bool(spec.get("unschedulable"))
        self.images = {}
        for image in status.get("images") or []:
            for n in image.get("names") or []:
                self.images[normalize_image(n)] = int(image.get("sizeBytes") or 0)
        self.generation = next(_generations)

    def add_pod(self, pod: PodInfo) -> None:
        if pod.key in self.pods:
            self.remove_pod(pod.key)
        self.pods[pod.key] = pod
        if pod.has_pod_affinity:
            self.affinity_pods[pod.key] = pod
        _add(self.requested, pod.requests)
        self.non_zero_cpu += pod.non_zero[0]
        self.non_zero_mem += pod.non_zero[1]
        for ip, proto, port in pod.ports:
            self.used_ports.setdefault((proto, port), set()).add(ip)
        self.generation = next(_generations)

    def remove_pod(self, key: str) -> PodInfo | None:
        pod = self.pods.pop(key, None)
        if pod is None:
            return None
        self.affinity_pods.pop(pod.key, None)
        for k, v in pod.requests.items():
            self.requested[k] = self.requested.get(k, 0) - v
        self.non_zero_cpu -= pod.non_zero[0]
        self.non_zero_mem -= pod.non_zero[1]
        for ip, proto, port in pod.ports:
            ips = self.used_ports.get((proto, port))
            if ips is not None:
                ips.discard(ip)
                if not ips:
                    del self.used_ports[(proto, port)]
        self.generation = next(_generations)
        return pod

    def clone(self) -> NodeInfo:
        """A copy whose pod set can change without touching this one (preemption's what-ifs)."""
        copy = NodeInfo(self.obj, self.name, self.labels, self.allocatable, self.taints, self.unschedulable,
                        self.images)
        for pod in self.pods.values():
            copy.add_pod(pod)
        return copy
