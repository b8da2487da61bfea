"""`type: LoadBalancer` without a cloud, as k3s's ServiceLB does at its simplest: the Service's
status.loadBalancer.ingress lists the Ready nodes' InternalIPs, and every node's proxy accepts the
service port on those addresses (`rules`: load-balancer IPs are routed like externalIPs).

Every agent computes the same answer from the same Nodes; only the Ready node first by name
writes it, so agents do not race each other, and another takes over when that one goes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from skiff.cluster.nodenet.routes import internal_ip

log = logging.getLogger("skiff.proxy")

NODES = "/api/v1/nodes"
Obj = dict[str, Any]


def is_ready(node: Obj) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (node.get("status") or {}).get("conditions") or [])


def ingress_for(nodes: list[Obj]) -> list[Obj]:
    """Ready nodes' IPv4 InternalIPs; a loopback one (a one-host test node) reaches nothing."""
    ips = sorted({ip for n in nodes if is_ready(n) and (ip := internal_ip(n)) and ":" not in ip
                  and not ip.startswith("127.")})
    return [{"ip": ip} for ip in ips]


def writer(nodes: list[Obj]) -> str:
    """The node whose agent writes load-balancer statuses: the first Ready one by name."""
    return min((n["metadata"]["name"] for n in nodes if is_ready(n)), default="")


def status_patches(services: list[Obj], nodes: list[Obj]) -> list[tuple[str, Obj]]:
    """(status path, merge patch) for each Service whose load-balancer status is not what it should
    be: the nodes' addresses for type LoadBalancer, nothing for the other types."""
    ingress = ingress_for(nodes)
    out = []
    for svc in services:
        meta, spec = svc.get("metadata") or {}, svc.get("spec") or {}
        have = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        want = ingress if spec.get("type") == "LoadBalancer" else []
        if have != want:
            path = f"/api/v1/namespaces/{meta.get('namespace', 'default')}/services/{meta['name']}/status"
            out.append((path, {"status": {"loadBalancer": {"ingress": want or None}}}))
    return out


class ServiceLB:
    def __init__(self, client: Any, factory: Any, node_name: str):
        self.client = client
        self.node_name = node_name
        self.services = factory.informer("/api/v1/services")
        self.nodes = factory.informer(NODES)
        self._dirty = asyncio.Event()
        for inf in (self.services, self.nodes):
            inf.add_handler(self._changed, lambda _old, _new: self._changed(), self._changed)
        self._task: asyncio.Task | None = None

    def _changed(self, *_: Any) -> None:
        self._dirty.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="service lb")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            await self._dirty.wait()
            await asyncio.sleep(0.1)
            self._dirty.clear()
            nodes = self.nodes.list()
            if writer(nodes) != self.node_name:
                continue
            for path, patch in status_patches(self.services.list(), nodes):
                try:
                    await self.client.merge_patch(path, patch)
                except asyncio.CancelledError:
                    raise
                except Exception as e:  # noqa: BLE001 - gone meanwhile, or the server away: the next event retries
                    log.debug("load balancer status %s: %s", path, e)
