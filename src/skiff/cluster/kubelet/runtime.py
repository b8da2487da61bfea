"""A CRI-shaped runtime over the engine's services, in process (what cri-dockerd is to dockerd).

Sandboxes are pause containers holding the pod's network, IPC and UTS namespaces; the pod's
containers join them with `container:<sandbox>` modes. Every object is found again from its
name and labels (see naming.py), so a restarted kubelet re-adopts what is running.

This is also the interface for the streaming subresources: `find_container(namespace, pod,
container)` gives the engine id of a pod's current container, and `logs` / `exec_create` /
`exec_start` go through the engine's ContainerService as the Docker API does.
"""

from __future__ import annotations

import builtins
import io
import logging
import tarfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skiff.cluster.kubelet import naming
from skiff.common.errors import NotFound, SkiffError

log = logging.getLogger(__name__)

PAUSE_IMAGE = "skiff/pause:3.10"


@dataclass
class RuntimeContainer:
    """One engine container of a pod, as the kubelet sees it."""
    id: str
    key: naming.ContainerKey
    labels: dict[str, str]
    status: str  # created | running | exited | ...
    exit_code: int
    oom_killed: bool
    started_at: str
    finished_at: str
    image: str
    image_id: str
    error: str

    @property
    def is_sandbox(self) -> bool:
        return self.labels.get(naming.CONTAINER_TYPE) == "podsandbox"

    @property
    def running(self) -> bool:
        return self.status in ("running", "paused", "restarting")


def _pause_layer(pause_bin: str) -> bytes:
    buf = io.BytesIO()
    data = Path(pause_bin).read_bytes()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        ti = tarfile.TarInfo("pause")
        ti.mode, ti.size, ti.mtime = 0o755, len(data), 1_700_000_000
        tar.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def host_ports(pod: dict) -> tuple[dict, dict]:
    """(ExposedPorts, PortBindings) for the containers' ports that ask for a hostPort."""
    exposed: dict = {}
    bindings: dict = {}
    for c in (pod.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            if not p.get("hostPort"):
                continue
            key = f"{p['containerPort']}/{(p.get('protocol') or 'TCP').lower()}"
            exposed[key] = {}
            bindings.setdefault(key, []).append({"HostIp": p.get("hostIP", ""), "HostPort": str(p["hostPort"])})
    return exposed, bindings


class Runtime:
    def __init__(self, engine: Any):
        self.engine = engine  # skiff.engine.api.context.EngineContext
        self.containers = engine.containers

    # images
    async def ensure_pause_image(self) -> None:
        try:
            self.engine.images.get(PAUSE_IMAGE)
            return
        except SkiffError:
            pass
        from skiff.engine.cbinary import ensure_built

        source = Path(__file__).with_name("pause.c")
        binary = ensure_built(source, Path(self.engine.data_root) / "bin", "skiff-pause", ["-O2", "-static"],
                              "skiff-pause")
        repo, tag = PAUSE_IMAGE.split(":")
        await self.engine.images.import_rootfs(io.BytesIO(_pause_layer(binary)), repo, tag,
                                               ['ENTRYPOINT ["/pause"]'], "skiff pod sandbox")

    def image_present(self, ref: str) -> str | None:
        try:
            return self.engine.images.get(ref).id
        except SkiffError:
            return None

    async def pull(self, ref: str, auth: Any = None) -> str:
        return await self.engine.registry.pull(ref, auth)

    # listing
    def list(self, uid: str | None = None) -> builtins.list[RuntimeContainer]:
        out = []
        for c in self.containers.store.all():
            key = naming.parse_name(c.name)
            labels = c.config.get("Labels") or {}
            if key is None or naming.POD_UID not in labels:
                continue
            if uid is not None and labels[naming.POD_UID] != uid:
                continue
            s = c.state
            out.append(RuntimeContainer(c.id, key, dict(labels), s.status, s.exit_code, s.oom_killed, s.started_at,
                                        s.finished_at, c.config.get("Image") or "", c.image_id, s.error))
        return out

    def find_container(self, namespace: str, pod: str, container: str, previous: bool = False) -> str:
        """The engine id of the pod's latest container `container` (or the one before it)."""
        matches = sorted((c for c in self.list() if not c.is_sandbox and c.key.namespace == namespace and
                          c.key.pod == pod and c.key.container == container), key=lambda c: c.key.attempt,
                         reverse=True)
        index = 1 if previous else 0
        if len(matches) <= index:
            what = "previous terminated container" if previous else "container"
            raise NotFound(f'{what} "{container}" in pod "{pod}" not found')
        return matches[index].id

    # sandboxes
    async def run_sandbox(self, pod: dict, attempt: int, host_network: bool, dns: builtins.list[str] | None = None,
                          cgroup_parent: str = "") -> str:
        meta = pod["metadata"]
        name = naming.container_name(naming.SANDBOX, meta["name"], meta.get("namespace", "default"), meta["uid"],
                                     attempt)
        hc: dict = {"NetworkMode": "host" if host_network else "bridge", "CpuShares": 2}
        if cgroup_parent:
            hc["CgroupParent"] = cgroup_parent
        if dns:
            hc["Dns"] = dns
        body = {"Image": PAUSE_IMAGE, "Hostname": "" if host_network else (pod["spec"].get("hostname") or meta["name"][:63]),
                "Labels": naming.sandbox_labels(pod), "HostConfig": hc}
        exposed, bindings = host_ports(pod)
        if bindings and not host_network:  # hostPort: published by the sandbox, which owns the pod's network
            body["ExposedPorts"] = exposed
            hc["PortBindings"] = bindings
        cid, _ = await self.containers.create(body, name)
        await self.containers.start(cid)
        return cid

    async def sandbox_ip(self, sandbox_id: str) -> str:
        info = await self.containers.inspect(sandbox_id)
        settings = info.get("NetworkSettings") or {}
        if settings.get("IPAddress"):
            return settings["IPAddress"]
        for net in (settings.get("Networks") or {}).values():
            if net.get("IPAddress"):
                return net["IPAddress"]
        return ""

    # containers
    async def create_container(self, name: str, body: dict) -> str:
        cid, _ = await self.containers.create(body, name)
        return cid

    async def start(self, cid: str) -> None:
        await self.containers.start(cid)

    async def stop(self, cid: str, grace: int) -> None:
        try:
            await self.containers.stop(cid, timeout=max(0, grace))
        except NotFound:
            pass
        except SkiffError as e:
            if e.status != 304:  # already stopped
                raise

    async def remove(self, cid: str) -> None:
        try:
            await self.containers.remove(cid, force=True, volumes=True)
        except NotFound:
            pass

    async def state(self, cid: str) -> RuntimeContainer | None:
        return next((c for c in self.list() if c.id == cid), None)

    # streaming, for the subresources
    async def logs(self, cid: str, **kw: Any) -> tuple[bool, AsyncIterator[tuple[int, bytes]]]:
        """(tty, chunks) as ContainerService.logs: stdout/stderr/follow/since/timestamps/tail."""
        return await self.containers.logs(cid, **kw)

    async def exec_create(self, cid: str, body: dict) -> str:
        return await self.containers.exec_create(cid, body)

    async def exec_start(self, exec_id: str, **kw: Any) -> Any:
        return await self.containers.exec_start(exec_id, **kw)

    async def exec_inspect(self, exec_id: str) -> dict:
        return await self.containers.exec_inspect(exec_id)

    def image_user(self, ref: str) -> str:
        try:
            return (self.engine.images.get(ref).container_config or {}).get("User") or ""
        except SkiffError:
            return ""
