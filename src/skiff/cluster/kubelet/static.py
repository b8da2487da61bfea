"""Static pods from `--pod-manifest-path`: each manifest file is a pod this node runs whatever the
API says, with a mirror pod in the API showing it. Deleting the mirror pod does not stop it (the
mirror comes back); removing the file does. A changed file replaces the pod.

The pod's uid is derived from the file's content and the node, as the kubelet hashes it, so a
restarted kubelet finds the same containers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from pathlib import Path
from typing import Any

import yaml

from skiff.cluster.client.errors import StatusError
from skiff.cluster.kubelet.status import sent_form
from skiff.cluster.kubelet.worker import PodWorker

log = logging.getLogger(__name__)

SCAN_PERIOD = 2.0  # the kubelet's file source re-lists every 20 s and on inotify; we poll
CONFIG_SOURCE = "kubernetes.io/config.source"
CONFIG_HASH = "kubernetes.io/config.hash"
CONFIG_MIRROR = "kubernetes.io/config.mirror"


def load_manifest(text: str, node: str) -> dict | None:
    """The static pod of one file: named `<name>-<node>`, bound to this node, uid from its hash."""
    doc = yaml.safe_load(text)
    if not isinstance(doc, dict) or doc.get("kind") != "Pod":
        return None
    digest = hashlib.md5((text + node).encode()).hexdigest()  # noqa: S324 - an identity, not a secret
    meta = dict(doc.get("metadata") or {})
    meta["name"] = f"{meta.get('name', 'static')}-{node}"
    meta.setdefault("namespace", "default")
    meta["uid"] = digest
    meta["annotations"] = {**(meta.get("annotations") or {}), CONFIG_SOURCE: "file", CONFIG_HASH: digest,
                           CONFIG_MIRROR: digest}
    spec = dict(doc.get("spec") or {})
    spec["nodeName"] = node
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": {}}


class StaticWorker(PodWorker):
    """A pod worker whose pod comes from a file: status goes to the mirror pod, which it recreates."""

    def __init__(self, kubelet: Any, pod: dict):
        super().__init__(kubelet, pod)
        self.static = True
        self.file_removed = False
        self.mirror_uid = ""

    async def sync(self) -> float:
        if self.file_removed:
            self.removed = True
            await self.terminate()
            await self.delete_mirror()
            return 0
        self.removed = False
        await self.ensure_mirror()
        return await super().sync()

    async def ensure_mirror(self) -> None:
        path = f"/api/v1/namespaces/{self.ns}/pods/{self.name}"
        try:
            current = await self.kl.client.get(path)
            if (current["metadata"].get("annotations") or {}).get(CONFIG_MIRROR) == self.uid and \
                    not current["metadata"].get("deletionTimestamp"):
                self.mirror_uid = current["metadata"]["uid"]
                return
            await self.kl.client.delete(path, {"gracePeriodSeconds": 0})
        except StatusError as e:
            if e.code != 404:
                raise
        meta = {k: v for k, v in self.pod["metadata"].items() if k not in ("uid", "resourceVersion")}
        mirror = await self.kl.client.create(f"/api/v1/namespaces/{self.ns}/pods",
                                             {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
                                              "spec": self.pod["spec"]})
        self.mirror_uid = mirror["metadata"]["uid"]
        self.sent = None

    async def delete_mirror(self) -> None:
        """Delete our mirror only: after a file change the name may already hold the new pod's."""
        if not self.mirror_uid:
            return
        with contextlib.suppress(StatusError):
            await self.kl.client.delete(f"/api/v1/namespaces/{self.ns}/pods/{self.name}",
                                        {"gracePeriodSeconds": 0, "preconditions": {"uid": self.mirror_uid}})

    async def post_status(self, status: dict) -> None:
        comparable = sent_form(status)
        if comparable == self.sent:
            return
        try:
            await self.kl.client.merge_patch(f"/api/v1/namespaces/{self.ns}/pods/{self.name}/status",
                                             {"status": status})
        except StatusError as e:
            if e.code != 404:
                raise
            self.wake.set()  # the mirror went away: the next sync makes it again
            return
        self.sent = comparable

    def update(self, pod: dict) -> None:
        """Watch events are about the mirror: they only wake the worker (a deleted mirror is remade)."""
        self.wake.set()

    def gone(self) -> None:
        self.wake.set()


class StaticPods:
    def __init__(self, kubelet: Any, directory: Path):
        self.kl = kubelet
        self.dir = directory
        self.by_file: dict[str, StaticWorker] = {}

    def scan(self) -> dict[str, dict]:
        out: dict[str, dict] = {}
        if not self.dir.is_dir():
            return out
        for f in sorted(self.dir.iterdir()):
            if f.name.startswith(".") or not f.is_file():
                continue
            try:
                pod = load_manifest(f.read_text(), self.kl.node_name)
            except (OSError, yaml.YAMLError) as e:
                log.warning("static pod %s: %s", f, e)
                continue
            if pod is not None:
                out[str(f)] = pod
        return out

    async def run(self) -> None:
        while True:
            await asyncio.sleep(SCAN_PERIOD)
            self.sync(await asyncio.to_thread(self.scan))

    def sync(self, found: dict[str, dict]) -> None:
        """Start, replace and stop workers to match the files."""
        for path, pod in found.items():
            w = self.by_file.get(path)
            if w is not None and w.uid == pod["metadata"]["uid"]:
                continue
            if w is not None:
                w.file_removed = True
                w.wake.set()
            self.start(path, pod)
        for path in [p for p in self.by_file if p not in found]:
            w = self.by_file.pop(path)
            w.file_removed = True
            w.wake.set()

    def start(self, path: str, pod: dict) -> None:
        w = StaticWorker(self.kl, pod)
        self.by_file[path] = w
        self.kl.workers[w.uid] = w
        w.task = asyncio.create_task(w.run(), name=f"static-{w.uid}")
