"""The shape every controller has: informers feed keys into a rate-limited queue, workers
call `reconcile(key)` for each key, a failure re-queues the key with backoff.

A controller subclass sets `name`, wires its informers' handlers in `__init__` (calling
`self.enqueue(obj)` or `self.queue.add(key)`), and implements `reconcile(key)`: read the
object from the informer cache, compare with the world, write through `self.client`.
Reconcile must be idempotent; it is called again on every change and on resync.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from skiff.cluster.client.informers import ApiClient, Informer, SharedInformerFactory, object_key
from skiff.cluster.client.paths import resource_path
from skiff.cluster.client.workqueue import WorkQueue
from skiff.cluster.controllers.events import EventRecorder

log = logging.getLogger("skiff.controllers")

# resource paths of the collections the controllers watch (all namespaces)
PODS = "/api/v1/pods"
NODES = "/api/v1/nodes"
SERVICES = "/api/v1/services"
ENDPOINTS = "/api/v1/endpoints"
NAMESPACES = "/api/v1/namespaces"
REPLICATIONCONTROLLERS = "/api/v1/replicationcontrollers"
REPLICASETS = "/apis/apps/v1/replicasets"
DEPLOYMENTS = "/apis/apps/v1/deployments"
ENDPOINTSLICES = "/apis/discovery.k8s.io/v1/endpointslices"


def object_path(collection: str, namespace: str, name: str | None, subresource: str | None = None) -> str:
    """`/apis/apps/v1/namespaces/ns/replicasets/web[/status]` from a collection path like REPLICASETS."""
    parts = collection.strip("/").split("/")
    group, version = ("", parts[1]) if parts[0] == "api" else (parts[1], parts[2])
    return resource_path(group, version, parts[-1], namespace or None, name, subresource)


@dataclass
class ControllerContext:
    """What the controller manager gives every controller."""

    client: ApiClient
    informers: SharedInformerFactory
    options: dict[str, Any] = field(default_factory=dict)  # per-controller settings (e.g. concurrent syncs)
    recorder: EventRecorder | None = None  # None: events are not posted (unit tests)


class Controller:
    name = "controller"
    workers = 1

    def __init__(self, ctx: ControllerContext):
        self.ctx = ctx
        self.client = ctx.client
        self.queue = WorkQueue(self.name)
        self.workers = int(ctx.options.get(f"{self.name}.workers", self.workers))

    def informer(self, path: str) -> Informer:
        return self.ctx.informers.informer(path)

    def event(self, obj: dict, kind: str, reason: str, message: str) -> None:
        """Post an Event about obj (Normal or Warning), as `kubectl describe` shows them; best effort."""
        if self.ctx.recorder is not None:
            self.ctx.recorder.record(obj, kind, reason, message, self.component)

    @property
    def component(self) -> str:
        """The Event source: kube's controller names (`replicaset-controller`, ...)."""
        return self.name

    def enqueue(self, obj: dict) -> None:
        self.queue.add(object_key(obj))

    async def reconcile(self, key: str) -> None:
        raise NotImplementedError

    async def process_next(self) -> bool:
        """Take one key, reconcile it, re-queue it with backoff on failure; False once shut down."""
        key = await self.queue.get()
        if key is None:
            return False
        try:
            await self.reconcile(key)
            self.queue.forget(key)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            log.warning("%s: syncing %r failed (retry %d): %s", self.name, key, self.queue.num_requeues(key), e)
            self.queue.add_rate_limited(key)
        finally:
            self.queue.done(key)
        return True

    async def run(self) -> None:
        """Workers until cancelled; the manager starts and syncs informers first."""
        async def worker() -> None:
            while await self.process_next():
                pass

        tasks = [asyncio.create_task(worker(), name=f"{self.name} worker {i}") for i in range(self.workers)]
        try:
            await asyncio.gather(*tasks)
        finally:
            self.queue.shutdown()
            for t in tasks:
                t.cancel()

    async def drain(self, limit: int = 1000) -> int:
        """Reconcile queued keys until none is ready (tests); returns how many were handled."""
        handled = 0
        while len(self.queue) and handled < limit:
            await self.process_next()
            handled += 1
        return handled
