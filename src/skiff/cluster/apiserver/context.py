"""What every handler of the API server reaches: storage, metrics, admission, settings.

Built once by `app.build_context` and handed to handlers through the aiohttp app; nothing
reaches for a global.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from skiff.cluster.apiserver.metrics import Metrics
from skiff.cluster.apiserver.objects import ObjectStore, decode, list_prefix, object_key
from skiff.cluster.storage.interface import KeyNotFound

if TYPE_CHECKING:
    from skiff.cluster.apiserver.admission import AdmissionChain
    from skiff.cluster.apiserver.authn import Authenticator
    from skiff.cluster.apiserver.authz.authorizer import Authorizer


@dataclass
class Settings:
    bookmark_interval: float = 60.0  # seconds between watch bookmarks (kube-apiserver: about a minute)
    max_body: int = 3 * 1024 * 1024  # 3 MiB, kube-apiserver's limit for one object
    min_watch_timeout: int = 1800  # a watch without timeoutSeconds ends after 30-60 minutes
    service_cidr: str = "10.43.0.0/16"
    cluster_cidr: str = "10.42.0.0/16"
    advertise_address: str = "127.0.0.1"  # where the `kubernetes` Service's endpoints point
    https_port: int = 6443
    ca_pem: str = ""  # the cluster CA, published to every namespace as kube-root-ca.crt
    kubelet_client_cert: str = ""  # what the server shows kubelets for logs/exec/attach/port-forward
    kubelet_client_key: str = ""


@dataclass
class ApiContext:
    objects: ObjectStore
    metrics: Metrics
    authenticator: Authenticator
    admission: AdmissionChain
    settings: Settings = field(default_factory=Settings)
    authorizer: Authorizer | None = None  # None: every authenticated user may do everything (AlwaysAllow)
    ready: bool = False
    # Serialized watch events shared by every watcher that sends them unchanged (see watch.py).
    event_lines: OrderedDict[tuple[str, str, int, str], bytes] = field(default_factory=OrderedDict)
    service_lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # ClusterIP/NodePort allocation
    # Per namespace, held from ResourceQuota admission to the stored create: racing creates count one by one.
    quota_locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    watch_wakers: set[asyncio.Event] = field(default_factory=set)  # one per open watch
    stopping: bool = False

    def stop_watches(self) -> None:
        """End every open watch (at shutdown): each sees `stopping` when woken."""
        self.stopping = True
        for wake in self.watch_wakers:
            wake.set()

    async def get_object(self, group: str, resource: str, namespace: str, name: str,
                         fresh: bool = False) -> dict[str, Any] | None:
        """One object for admission and internal loops: from the watch cache (which may lag a
        write by a moment, as upstream's informers do), or from storage when `fresh`."""
        key = object_key(group, resource, namespace, name)
        try:
            return decode(await (self.objects.get(key) if fresh else self.objects.get_cached(key)))
        except KeyNotFound:
            return None

    async def list_objects(self, group: str, resource: str, namespace: str = "",
                           fresh: bool = False) -> list[dict[str, Any]]:
        """Objects from the watch cache, or with `fresh` from storage (every acknowledged write)."""
        prefix = list_prefix(group, resource, namespace)
        result = await (self.objects.store.list(prefix) if fresh else self.objects.list(prefix, min_revision=0))
        return [decode(kv) for kv in result.items]

    def quota_lock(self, namespace: str) -> asyncio.Lock:
        lock = self.quota_locks.get(namespace)
        if lock is None:
            lock = self.quota_locks[namespace] = asyncio.Lock()
        return lock
