"""Simulated nodes, as kwok does: Node objects without kubelets, whose pods a helper binds
(when no scheduler did), marks Running and Ready with a made-up pod IP, and finishes deleting.

`Kwok(server).start(["n1", "n2"])` runs in a thread of its own, talking HTTPS to the server
as its admin client; `stop()` ends it. `ready=False` leaves pods Running but not Ready
until `ready` is set again.

Like kubelets, the simulated nodes renew their Lease in kube-node-lease every `heartbeat`
seconds (0: never), so the node lifecycle controller keeps them Ready; `stop_heartbeat(name)`
simulates that node's kubelet dying (no renewals, its pods left alone) and `resume_heartbeat`
brings it back, reporting Ready again.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import threading
from datetime import UTC, datetime

from skiff.cluster.client.aio import AsyncClient, make_ssl
from skiff.cluster.client.errors import StatusError
from skiff.cluster.client.informers import Informer, object_key

PODS = "/api/v1/pods"
NODES = "/api/v1/nodes"
LEASES = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def node_object(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "type": "kwok"},
                         "annotations": {"kwok.x-k8s.io/node": "fake"}},
            "spec": {}}


def node_status(name: str, index: int) -> dict:
    capacity = {"cpu": "64", "memory": "256Gi", "pods": "1000"}
    return {"capacity": capacity, "allocatable": capacity, "phase": "Running",
            "addresses": [{"type": "InternalIP", "address": f"10.244.{index}.1"}, {"type": "Hostname", "address": name}],
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                            "message": "kwok: a simulated node", "lastHeartbeatTime": _now(),
                            "lastTransitionTime": _now()}],
            "nodeInfo": {"kubeletVersion": "v1.32.0-kwok", "containerRuntimeVersion": "kwok://0",
                         "architecture": "amd64", "operatingSystem": "linux", "osImage": "kwok",
                         "kernelVersion": "", "kubeProxyVersion": "", "machineID": "", "systemUUID": "",
                         "bootID": ""}}


class Kwok:
    def __init__(self, server, ready: bool = True, heartbeat: float = 10.0):
        self.server = server
        self.ready = ready
        self.heartbeat = heartbeat
        self.silent: set[str] = set()  # nodes whose simulated kubelet is dead
        self.nodes: list[str] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="kwok")
        self._task: concurrent.futures.Future | None = None
        self._ips = itertools.count(2)
        self._next_node = itertools.count()
        self.client: AsyncClient | None = None
        self.node_cache: Informer | None = None

    def start(self, nodes: list[str]) -> Kwok:
        self.nodes = list(nodes)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._create_nodes(), self.loop).result(30)
        self._task = asyncio.run_coroutine_threadsafe(self._run(), self.loop)
        return self

    def stop(self) -> None:
        if self._task is not None:
            self.loop.call_soon_threadsafe(self._task.cancel)
        if self.client is not None:
            asyncio.run_coroutine_threadsafe(self.client.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def set_ready(self, ready: bool) -> None:
        """Pods from now on become Ready (or stay unready); existing pods are updated too."""
        self.ready = ready
        asyncio.run_coroutine_threadsafe(self._refresh_all(), self.loop).result(30)

    def stop_heartbeat(self, name: str) -> None:
        """The node's kubelet dies: its Lease is no longer renewed and its pods are left alone."""
        self.silent.add(name)

    def resume_heartbeat(self, name: str) -> None:
        """The kubelet is back: renew at once, report Ready, and catch up with its pods."""
        self.silent.discard(name)
        asyncio.run_coroutine_threadsafe(self._beat(), self.loop).result(30)
        asyncio.run_coroutine_threadsafe(self._refresh_all(), self.loop).result(30)

    def add_node(self, name: str) -> None:
        """One more simulated node (a node joining the cluster)."""
        self.nodes.append(name)
        asyncio.run_coroutine_threadsafe(self._create_nodes(), self.loop).result(30)

    def finish(self, namespace: str, name: str, exit_code: int = 0) -> None:
        """The pod's containers exit: Succeeded with 0, Failed otherwise (as a kubelet reports it)."""
        asyncio.run_coroutine_threadsafe(self._finish(namespace, name, exit_code), self.loop).result(30)

    async def _finish(self, namespace: str, name: str, exit_code: int) -> None:
        client = await self._client()
        path = f"/api/v1/namespaces/{namespace}/pods/{name}"
        pod = await client.get(path)
        now = _now()
        containers = [{"name": c["name"], "image": c.get("image", ""), "imageID": "", "ready": False,
                       "restartCount": 0, "started": False,
                       "state": {"terminated": {"exitCode": exit_code, "startedAt": now, "finishedAt": now,
                                                "reason": "Completed" if exit_code == 0 else "Error"}}}
                      for c in (pod.get("spec") or {}).get("containers") or []]
        conditions = [{"type": t, "status": s, "lastTransitionTime": now}
                      for t, s in (("Initialized", "True"), ("Ready", "False"), ("ContainersReady", "False"),
                                   ("PodScheduled", "True"))]
        await client.merge_patch(path + "/status", {"status": {
            "phase": "Succeeded" if exit_code == 0 else "Failed", "conditions": conditions,
            "containerStatuses": containers}})

    async def _client(self) -> AsyncClient:
        if self.client is None:
            tls_dir = self.server.data_dir / "tls"
            tls = make_ssl(str(tls_dir / "server-ca.crt"), str(tls_dir / "client-admin.crt"),
                           str(tls_dir / "client-admin.key"))
            tls.check_hostname = False
            self.client = AsyncClient(self.server.url, tls=tls)
        return self.client

    async def _create_nodes(self) -> None:
        client = await self._client()
        for i, name in enumerate(self.nodes):
            try:
                await client.create("/api/v1/nodes", node_object(name))
            except StatusError as e:
                if e.code != 409:
                    raise
            await client.merge_patch(f"/api/v1/nodes/{name}/status", {"status": node_status(name, i + 1)})
        await self._beat()

    async def _beat(self) -> None:
        """Renew every live node's Lease; re-post the status of one not shown Ready (the controller
        set it Unknown while the node was silent)."""
        if not self.heartbeat:
            return
        client = await self._client()
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        for i, name in enumerate(list(self.nodes)):
            if name in self.silent:
                continue
            spec = {"holderIdentity": name, "leaseDurationSeconds": 40, "renewTime": stamp}
            try:
                await client.merge_patch(f"{LEASES}/{name}", {"spec": spec})
            except StatusError as e:
                if e.code != 404:
                    raise
                await client.create(LEASES, {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                                             "metadata": {"name": name, "namespace": "kube-node-lease"},
                                             "spec": spec})
            node = self.node_cache.get(name) if self.node_cache is not None else None
            conds = ((node or {}).get("status") or {}).get("conditions") or []
            if node is not None and not any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds):
                await client.merge_patch(f"{NODES}/{name}/status", {"status": node_status(name, i + 1)})

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat)
            try:
                await self._beat()
            except (StatusError, OSError):
                pass  # the server is busy or restarting: the next beat tries again

    async def _run(self) -> None:
        client = await self._client()
        self.pods = Informer(client, PODS)
        queue: asyncio.Queue[str] = asyncio.Queue()
        self.pods.add_handler(lambda p: queue.put_nowait(object_key(p)),
                              lambda old, new: queue.put_nowait(object_key(new)))
        watcher = asyncio.create_task(self.pods.run())
        self.node_cache = Informer(client, NODES)
        node_watcher = asyncio.create_task(self.node_cache.run())
        beats = asyncio.create_task(self._heartbeats()) if self.heartbeat else None
        try:
            while True:
                key = await queue.get()
                pod = self.pods.get(key)
                if pod is not None:
                    try:
                        await self._handle(pod)
                    except StatusError:
                        pass  # changed or gone meanwhile: a later event brings it back
        finally:
            watcher.cancel()
            node_watcher.cancel()
            if beats is not None:
                beats.cancel()

    async def _refresh_all(self) -> None:
        for pod in list(self.pods.cache.values()):
            try:
                await self._handle(pod)
            except StatusError:
                pass  # deleted (or changed) since the cache saw it, as in _run

    async def _handle(self, pod: dict) -> None:
        client = await self._client()
        meta, spec, status = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
        path = f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}"
        node = spec.get("nodeName")
        if node in self.silent:
            return  # its kubelet is dead
        if meta.get("deletionTimestamp"):
            if not node or node in self.nodes:
                await client.delete(path, {"gracePeriodSeconds": 0})
            return
        if not node:
            node = self.nodes[next(self._next_node) % len(self.nodes)]
            await client.create(path + "/binding", {"apiVersion": "v1", "kind": "Binding",
                                                    "metadata": {"name": meta["name"]},
                                                    "target": {"apiVersion": "v1", "kind": "Node", "name": node}})
            return  # the binding's event brings the pod back here
        if node not in self.nodes or status.get("phase") in ("Succeeded", "Failed"):
            return
        is_ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
        if status.get("phase") == "Running" and is_ready == self.ready:
            return
        await client.merge_patch(path + "/status", {"status": self._running_status(pod, node)})

    def _running_status(self, pod: dict, node: str) -> dict:
        now = _now()
        ready = "True" if self.ready else "False"
        n = next(self._ips)
        ip = (pod.get("status") or {}).get("podIP") or f"10.42.{n // 250}.{n % 250 + 2}"
        containers = [{"name": c["name"], "image": c.get("image", ""), "imageID": "", "ready": self.ready,
                       "restartCount": 0, "started": True, "state": {"running": {"startedAt": now}}}
                      for c in (pod.get("spec") or {}).get("containers") or []]
        return {"phase": "Running", "hostIP": f"10.244.{self.nodes.index(node) + 1}.1", "podIP": ip,
                "podIPs": [{"ip": ip}], "startTime": (pod.get("status") or {}).get("startTime") or now,
                "conditions": [{"type": t, "status": s, "lastTransitionTime": now}
                               for t, s in (("Initialized", "True"), ("Ready", ready), ("ContainersReady", ready),
                                            ("PodScheduled", "True"))],
                "containerStatuses": containers}
