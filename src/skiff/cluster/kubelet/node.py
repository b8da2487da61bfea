"""The Node object: registration, status heartbeats and the Lease in kube-node-lease.

`node_object` and `node_status` are pure (given the facts `host_facts` gathers), so the shapes are
unit-tested without a server.
"""

from __future__ import annotations

import asyncio
import logging
import os
import platform
import shutil
import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import skiff
from skiff.cluster.client.errors import StatusError
from skiff.cluster.kubelet.clock import now, now_micro

log = logging.getLogger(__name__)

STATUS_PERIOD = 10.0  # nodeStatusUpdateFrequency
LEASE_DURATION = 40
MAX_PODS = 110
KUBELET_VERSION = "v1.32.0"


@dataclass
class HostFacts:
    cpus: int
    memory_ki: int
    storage_bytes: int
    kernel: str
    os_image: str
    machine_id: str
    boot_id: str
    arch: str
    hostname: str
    extra: dict = field(default_factory=dict)
    data_dir: str = "/"


@dataclass(frozen=True)
class Pressure:
    """What the kubelet's default hard eviction thresholds look at."""
    memory_available: int  # bytes (MemAvailable)
    disk_available_ratio: float  # free share of the data dir's filesystem
    pids_available_ratio: float  # free share of kernel.pid_max


MEMORY_AVAILABLE_MIN = 100 * 1024 * 1024  # memory.available<100Mi
DISK_AVAILABLE_MIN = 0.10  # nodefs.available<10%
PIDS_AVAILABLE_MIN = 0.10


def measure_pressure(data_dir: str) -> Pressure:
    mem = next((int(line.split()[1]) * 1024 for line in _read("/proc/meminfo").splitlines()
                if line.startswith("MemAvailable:")), MEMORY_AVAILABLE_MIN * 10)
    try:
        st = os.statvfs(data_dir)
        disk = st.f_bavail / st.f_blocks if st.f_blocks else 1.0
    except OSError:
        disk = 1.0
    pid_max = int(_read("/proc/sys/kernel/pid_max") or 32768)
    try:
        used = sum(1 for d in os.listdir("/proc") if d.isdigit())
    except OSError:
        used = 0
    return Pressure(mem, disk, 1 - used / pid_max)


def pressure_conditions(p: Pressure) -> list[tuple[str, bool, str, str]]:
    """(type, under pressure, reason, message) for the three pressure conditions, in the kubelet's words."""
    memory = p.memory_available < MEMORY_AVAILABLE_MIN
    disk = p.disk_available_ratio < DISK_AVAILABLE_MIN
    pids = p.pids_available_ratio < PIDS_AVAILABLE_MIN
    return [
        ("MemoryPressure", memory, "KubeletHasInsufficientMemory" if memory else "KubeletHasSufficientMemory",
         f"kubelet has {'insufficient' if memory else 'sufficient'} memory available"),
        ("DiskPressure", disk, "KubeletHasDiskPressure" if disk else "KubeletHasNoDiskPressure",
         "kubelet has disk pressure" if disk else "kubelet has no disk pressure"),
        ("PIDPressure", pids, "KubeletHasInsufficientPID" if pids else "KubeletHasSufficientPID",
         f"kubelet has {'insufficient' if pids else 'sufficient'} PID available")]


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""


def host_facts(data_dir: str) -> HostFacts:
    mem = next((int(line.split()[1]) for line in _read("/proc/meminfo").splitlines() if line.startswith("MemTotal:")),
               0)
    os_image = next((line.split("=", 1)[1].strip('"') for line in _read("/etc/os-release").splitlines()
                     if line.startswith("PRETTY_NAME=")), "Linux")
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    return HostFacts(os.cpu_count() or 1, mem, shutil.disk_usage(data_dir).total, platform.release(), os_image,
                     _read("/etc/machine-id"), _read("/proc/sys/kernel/random/boot_id"), arch, socket.gethostname(),
                     data_dir=data_dir)


def host_ip_for(server: str) -> str:
    """The address this host reaches the server from (the kubelet's default node IP)."""
    host = urlsplit(server).hostname or "127.0.0.1"
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect((host, 443))
            return s.getsockname()[0]
    except OSError:
        return "127.0.0.1"


def default_gateway(proc_net_route: str) -> str | None:
    """The IPv4 default route's gateway from /proc/net/route's text ("0.0.0.0" for a route
    straight out of a link), or None when there is no default route (pure)."""
    best: tuple[int, str] | None = None
    for line in proc_net_route.splitlines()[1:]:
        cols = line.split()
        if len(cols) < 8 or cols[1] != "00000000" or cols[7] != "00000000":
            continue
        flags, metric = int(cols[3], 16), int(cols[6])
        if not flags & 0x1:  # RTF_UP
            continue
        gateway = socket.inet_ntoa(bytes.fromhex(cols[2])[::-1])  # little-endian hex
        if best is None or metric < best[0]:
            best = (metric, gateway)
    return best[1] if best else None


def primary_ipv4() -> str:
    """The host's primary IPv4, as k3s picks its default node IP: the source address of the
    default route; 127.0.0.1 when there is none (an isolated host)."""
    gateway = default_gateway(_read("/proc/net/route"))
    if gateway is None:
        return "127.0.0.1"
    # a connected UDP socket sends nothing; the kernel just picks the route and its source. A
    # default route without a gateway (a point-to-point link): any off-link address takes it.
    return host_ip_for(f"https://{gateway if gateway != '0.0.0.0' else '192.0.2.1'}")


def parse_taint(text: str) -> dict:
    """`key=value:Effect` or `key:Effect`, as --register-with-taints takes them."""
    kv, sep, effect = text.rpartition(":")
    if not sep or effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
        raise ValueError(f"invalid taint {text!r}: want key[=value]:NoSchedule|PreferNoSchedule|NoExecute")
    key, _, value = kv.partition("=")
    taint = {"key": key, "effect": effect}
    if value:
        taint["value"] = value
    return taint


def capacity(f: HostFacts) -> dict[str, str]:
    return {"cpu": str(f.cpus), "memory": f"{f.memory_ki}Ki", "pods": str(MAX_PODS),
            "ephemeral-storage": f"{f.storage_bytes // 1024}Ki", "hugepages-2Mi": "0", "hugepages-1Gi": "0"}


def node_object(name: str, f: HostFacts, labels: dict[str, str], taints: list[dict]) -> dict:
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                                  "kubernetes.io/arch": f.arch, "beta.kubernetes.io/os": "linux",
                                                  "beta.kubernetes.io/arch": f.arch, **labels},
                         "annotations": {"node.alpha.kubernetes.io/ttl": "0",
                                         "volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
            "spec": {"taints": taints} if taints else {}}


def _condition(kind: str, status: str, reason: str, message: str, now: str, prev: dict[str, dict]) -> dict:
    old = prev.get(kind) or {}
    return {"type": kind, "status": status, "lastHeartbeatTime": now,
            "lastTransitionTime": old["lastTransitionTime"] if old.get("status") == status and
            old.get("lastTransitionTime") else now, "reason": reason, "message": message}


def node_status(f: HostFacts, host_ip: str, name: str, previous: list[dict], images: list[dict],
                kubelet_port: int = 10250, pressure: Pressure | None = None) -> dict:
    now_ = now()
    prev = {c["type"]: c for c in previous or []}
    cap = capacity(f)
    pressure = pressure or Pressure(MEMORY_AVAILABLE_MIN * 10, 1.0, 1.0)
    conditions = [_condition(kind, "True" if under else "False", reason, message, now_, prev)
                  for kind, under, reason, message in pressure_conditions(pressure)]
    return {"capacity": cap, "allocatable": dict(cap),
            "conditions": [
                *conditions,
                _condition("Ready", "True", "KubeletReady", "kubelet is posting ready status", now_, prev)],
            "addresses": [{"type": "InternalIP", "address": host_ip}, {"type": "Hostname", "address": name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": kubelet_port}},
            "nodeInfo": {"machineID": f.machine_id, "systemUUID": f.machine_id, "bootID": f.boot_id,
                         "kernelVersion": f.kernel, "osImage": f.os_image,
                         "containerRuntimeVersion": f"skiff://{skiff.__version__}",
                         "kubeletVersion": KUBELET_VERSION, "kubeProxyVersion": KUBELET_VERSION,
                         "operatingSystem": "linux", "architecture": f.arch},
            "images": images}


class NodeRegistrar:
    def __init__(self, client: Any, name: str, facts: HostFacts, host_ip: str, labels: dict[str, str],
                 taints: list[dict], images: Any):
        self.client = client
        self.name = name
        self.facts = facts
        self.host_ip = host_ip
        self.labels = labels
        self.taints = taints
        self.images = images  # () → the node's image list for status.images
        self.uid = ""
        self.kubelet_port = 10250  # where the streaming server listens (set before register)
        self.pod_cidr = ""  # the engine bridge's subnet, published as spec.podCIDR (set before register)

    async def register(self) -> None:
        """Create the Node, or take over an existing one of this name (labels and taints merged in)."""
        body = node_object(self.name, self.facts, self.labels, self.taints)
        if self.pod_cidr:
            body["spec"].update(podCIDR=self.pod_cidr, podCIDRs=[self.pod_cidr])
        try:
            node = await self.client.create("/api/v1/nodes", body)
        except StatusError as e:
            if e.code != 409:
                raise
            patch: dict = {"metadata": {"labels": body["metadata"]["labels"]}}
            if self.taints:
                patch["spec"] = {"taints": self.taints}
            if self.pod_cidr:
                old = await self.client.get(f"/api/v1/nodes/{self.name}")
                if not (old.get("spec") or {}).get("podCIDR"):  # set once, as Kubernetes allows
                    patch.setdefault("spec", {}).update(podCIDR=self.pod_cidr, podCIDRs=[self.pod_cidr])
            node = await self.client.merge_patch(f"/api/v1/nodes/{self.name}", patch)
        self.uid = node["metadata"]["uid"]
        await self.post_status()
        log.info("node %s registered", self.name)

    async def post_status(self) -> None:
        current = await self.client.get(f"/api/v1/nodes/{self.name}")
        status = node_status(self.facts, self.host_ip, self.name, (current.get("status") or {}).get("conditions") or [],
                             self.images(), self.kubelet_port,
                             await asyncio.to_thread(measure_pressure, self.facts.data_dir))
        await self.client.merge_patch(f"/api/v1/nodes/{self.name}/status", {"status": status})

    async def renew_lease(self) -> None:
        path = f"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{self.name}"
        spec = {"holderIdentity": self.name, "leaseDurationSeconds": LEASE_DURATION, "renewTime": now_micro()}
        try:
            await self.client.merge_patch(path, {"spec": spec})
        except StatusError as e:
            if e.code != 404:
                raise
            await self.client.create("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", {
                "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                "metadata": {"name": self.name, "namespace": "kube-node-lease",
                             "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": self.name,
                                                  "uid": self.uid}]},
                "spec": spec})

    async def run(self) -> None:
        while True:
            for step in (self.renew_lease, self.post_status):
                try:
                    await step()
                except (StatusError, OSError) as e:
                    log.warning("node %s: %s failed: %s", self.name, step.__name__, e)
                    if isinstance(e, StatusError) and e.code == 404 and step is self.post_status:
                        await self.register()  # someone deleted our Node: register again
            await asyncio.sleep(STATUS_PERIOD)

