"""The kubelet: registers the node, watches the pods bound to it and runs one PodWorker per pod.

On start it re-adopts what the engine already runs: workers for pods still in the API find
their containers by labels and carry on without restarting them; containers of pods the API no
longer has are removed (orphans).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any

from skiff.cluster.client.errors import StatusError
from skiff.cluster.kubelet import resources
from skiff.cluster.kubelet.backoff import Backoff
from skiff.cluster.kubelet.images import ImagePuller
from skiff.cluster.kubelet.node import NodeRegistrar, capacity, host_facts
from skiff.cluster.kubelet.podcgroup import PodCgroups
from skiff.cluster.kubelet.poddns import PodDns
from skiff.cluster.kubelet.probes import ProbeManager
from skiff.cluster.kubelet.recorder import Recorder
from skiff.cluster.kubelet.runtime import Runtime
from skiff.cluster.kubelet.volumes import VolumeManager
from skiff.cluster.kubelet.worker import PodWorker

log = logging.getLogger(__name__)


class Kubelet:
    def __init__(self, client: Any, engine: Any, node_name: str, data_dir: Path, host_ip: str,
                 labels: dict[str, str] | None = None, taints: list[dict] | None = None, dns: list[str] | None = None,
                 manifest_path: str = "", kubelet_port: int = 10250):
        self.client = client
        self.engine = engine
        self.node_name = node_name
        self.host_ip = host_ip
        self.dns = dns or []
        self.runtime = Runtime(engine)
        self.pod_cgroups = PodCgroups(engine.containers.prefix)  # pod-level cgroups: QoS enforced
        self.recorder = Recorder(client, node_name)
        self.backoff = Backoff()
        self.images = ImagePuller(self.runtime)
        self.probes = ProbeManager(self.runtime)
        self.volumes = VolumeManager(self, Path(data_dir) / "pods")
        self.pod_dns = PodDns(Path(data_dir) / "pods")  # the agent sets --cluster-dns/--cluster-domain
        self.facts = host_facts(str(data_dir))
        self.allocatable = capacity(self.facts)
        self.node = NodeRegistrar(client, node_name, self.facts, host_ip, labels or {}, taints or [],
                                  self._image_list)
        from skiff.cluster.kubelet.server import StreamingServer

        self.streaming = StreamingServer(self, host_ip, kubelet_port, Path(data_dir) / "kubelet-tls")
        self.workers: dict[str, PodWorker] = {}
        self.tasks: list[asyncio.Task] = []
        self.synced = asyncio.Event()
        self.static = None
        if manifest_path:
            from skiff.cluster.kubelet.static import StaticPods

            self.static = StaticPods(self, Path(manifest_path))

    def _image_list(self) -> list[dict]:
        out = []
        for img in self.engine.images.images():
            names = [str(r) for r in getattr(img, "repo_tags", []) or []]
            if names:
                out.append({"names": names, "sizeBytes": int(getattr(img, "size", 0) or 0)})
        return out

    async def start(self) -> None:
        await self.runtime.ensure_pause_image()
        self.node.kubelet_port = await self.streaming.start()
        await self.node.register()
        if self.static is not None:  # before the pod watch, so their containers are not taken for orphans
            self.static.sync(await asyncio.to_thread(self.static.scan))
            self.tasks.append(asyncio.create_task(self.static.run(), name="static-pods"))
        self.tasks.append(asyncio.create_task(self.node.run(), name="node-status"))
        self.tasks.append(asyncio.create_task(self.watch_pods(), name="pod-watch"))
        self.tasks.append(asyncio.create_task(self.watch_engine(), name="engine-events"))

    async def stop(self) -> None:
        """Stop the kubelet; the pods' containers keep running for the next kubelet to re-adopt."""
        for t in self.tasks + [w.task for w in self.workers.values() if w.task]:
            t.cancel()
        for t in self.tasks + [w.task for w in self.workers.values() if w.task]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        await self.probes.close()
        await self.streaming.stop()

    # ---- pods ----------------------------------------------------------------------------------
    async def watch_pods(self) -> None:
        selector = f"spec.nodeName={self.node_name}"
        while True:
            try:
                listed = await self.client.get("/api/v1/pods", fieldSelector=selector)
                seen = set()
                for pod in listed.get("items") or []:
                    seen.add(pod["metadata"]["uid"])
                    self.on_pod(pod)
                for uid, known in list(self.workers.items()):
                    if uid not in seen and not known.static:
                        known.gone()
                await self.remove_orphans(seen)
                self.synced.set()
                rv = listed["metadata"].get("resourceVersion", "")
                async for ev in self.client.watch("/api/v1/pods", fieldSelector=selector, resourceVersion=rv):
                    kind, obj = ev.get("type"), ev.get("object") or {}
                    if kind in ("ADDED", "MODIFIED"):
                        self.on_pod(obj)
                    elif kind == "DELETED":
                        worker = self.workers.get(obj["metadata"]["uid"])
                        if worker is not None:
                            worker.update(obj)
                            worker.gone()
                    elif kind == "ERROR":
                        break  # 410 Gone and the like: list again
            except asyncio.CancelledError:
                raise
            except (StatusError, OSError, ValueError) as e:
                log.warning("pod watch: %s", e)
                await asyncio.sleep(1)
            except Exception:
                log.exception("pod watch failed")
                await asyncio.sleep(1)

    def on_pod(self, pod: dict) -> None:
        mirror_of = (pod["metadata"].get("annotations") or {}).get("kubernetes.io/config.mirror")
        if mirror_of:  # a mirror pod: its static worker owns it
            w = self.workers.get(mirror_of)
            if w is not None:
                w.wake.set()
            return
        uid = pod["metadata"]["uid"]
        w = self.workers.get(uid)
        if w is None:
            if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed") and \
                    not pod["metadata"].get("deletionTimestamp") and not self.runtime.list(uid):
                return  # finished before this kubelet started, nothing of it runs here
            w = PodWorker(self, pod)
            self.workers[uid] = w
            w.task = asyncio.create_task(w.run(), name=f"pod-{uid}")
        else:
            w.update(pod)

    def worker_done(self, uid: str) -> None:
        self.workers.pop(uid, None)

    async def remove_orphans(self, known: set[str]) -> None:
        """Containers of pods that are neither in the API nor being worked on."""
        for c in self.runtime.list():
            uid = c.labels.get("io.kubernetes.pod.uid", "")
            if uid not in known and uid not in self.workers:
                log.info("removing orphaned container %s", c.id[:12])
                await self.runtime.stop(c.id, 0)
                await self.runtime.remove(c.id)

    async def watch_engine(self) -> None:
        """Wake a pod's worker as soon as one of its containers exits."""
        async for ev in self.engine.events.subscribe():
            if ev.type != "container" or ev.action not in ("die", "oom"):
                continue
            uid = (ev.attributes or {}).get("io.kubernetes.pod.uid")
            w = self.workers.get(uid or "")
            if w is not None:
                w.wake.set()

    async def get_object(self, resource: str, namespace: str, name: str) -> dict | None:
        path = f"/api/v1/namespaces/{namespace}/{resource}/{name}" if namespace else f"/api/v1/{resource}/{name}"
        try:
            return await self.client.get(path)
        except StatusError as e:
            if e.code == 404:
                return None
            raise

    def admit(self, pod: dict) -> tuple[str, str] | None:
        """(reason, message) when the pod does not fit what the node has left, as the kubelet's
        admission refuses it; None when it fits."""
        cpu, mem = resources.pod_requests(pod)
        used_cpu = used_mem = 0
        for uid, w in self.workers.items():
            if uid != pod["metadata"]["uid"] and w.sent is not None and \
                    (w.pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
                c, m = resources.pod_requests(w.pod)
                used_cpu += c
                used_mem += m
        cap_cpu = resources.milli_cpu(self.allocatable["cpu"])
        cap_mem = resources.memory_bytes(self.allocatable["memory"])
        for name, want, used, cap in (("cpu", cpu, used_cpu, cap_cpu), ("memory", mem, used_mem, cap_mem)):
            if want and used + want > cap:
                return (f"OutOf{name}", f"Pod was rejected: Node didn't have enough resource: {name}, "
                        f"requested: {want}, used: {used}, capacity: {cap}")
        return None
