"""The cluster DNS of one node agent: informers on Services and EndpointSlices feed the index,
the node's DNS server answers from it, and the node's EndpointSlice of kube-dns says it does."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any

from skiff.cluster.client.errors import StatusError
from skiff.cluster.client.informers import Informer
from skiff.cluster.dns import kubedns
from skiff.cluster.dns.flags import DnsOptions
from skiff.cluster.dns.index import ClusterIndex
from skiff.cluster.dns.resolver import Resolver
from skiff.cluster.dns.server import NodeDns, start_node_dns, stop_node_dns

log = logging.getLogger("skiff.dns")

SERVICES = "/api/v1/services"
ENDPOINTSLICES = "/apis/discovery.k8s.io/v1/endpointslices"
OWN_SLICES = f"/apis/discovery.k8s.io/v1/namespaces/{kubedns.NAMESPACE}/endpointslices"
SYNC_TIMEOUT = 30.0


def read_upstreams(path: str) -> list[str]:
    from skiff.engine.containers.etcfiles import upstreams

    try:
        return upstreams(Path(path).read_text())
    except OSError:
        log.warning("cannot read %s: names outside the cluster domain will not resolve", path)
        return []


class ClusterDns:
    def __init__(self, client: Any, opts: DnsOptions, node_name: str, node_ip: str, prefix: str):
        self.client, self.opts = client, opts
        self.node_name, self.node_ip, self.prefix = node_name, node_ip, prefix
        self.index = ClusterIndex(opts.cluster_domain)
        self.resolver = Resolver(self.index, opts.cluster_dns)
        self.services = Informer(client, SERVICES)
        self.slices = Informer(client, ENDPOINTSLICES)
        ix = self.index
        self.services.add_handler(ix.set_service, lambda old, new: ix.set_service(new), ix.delete_service)
        self.slices.add_handler(ix.set_slice, lambda old, new: ix.set_slice(new), ix.delete_slice)
        self.server: NodeDns | None = None
        self.tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        self.tasks = [asyncio.create_task(self.services.run(), name="dns services"),
                      asyncio.create_task(self.slices.run(), name="dns endpointslices")]
        with contextlib.suppress(asyncio.TimeoutError):  # answers fill in as the informers catch up
            await asyncio.wait_for(asyncio.gather(self.services.synced.wait(), self.slices.synced.wait()),
                                   SYNC_TIMEOUT)
        self.server = await start_node_dns(self.resolver, read_upstreams(self.opts.resolv_conf), self.prefix,
                                           self.opts.cluster_dns, self.node_ip)
        if self.server.addresses:
            await self._publish()
        log.info("cluster DNS for %s serving %s", self.opts.cluster_domain, ", ".join(self.server.addresses))

    async def _publish(self) -> None:
        body = kubedns.node_slice(self.node_name, kubedns.endpoint_address(self.node_ip, self.opts.cluster_dns))
        with contextlib.suppress(StatusError):  # owned by the Node: deleting the node deletes it too
            node = await self.client.get(f"/api/v1/nodes/{self.node_name}")
            body["metadata"]["ownerReferences"] = [{"apiVersion": "v1", "kind": "Node", "name": self.node_name,
                                                    "uid": node["metadata"]["uid"]}]
        try:
            await self.client.create(OWN_SLICES, body)
        except StatusError as e:
            if e.code != 409:
                log.warning("cannot publish the kube-dns endpoint of %s: %s", self.node_name, e)
                return
            path = f"{OWN_SLICES}/{body['metadata']['name']}"
            current = await self.client.get(path)
            body["metadata"]["resourceVersion"] = current["metadata"].get("resourceVersion", "")
            await self.client.replace(path, body)

    async def _unpublish(self) -> None:
        path = f"{OWN_SLICES}/{kubedns.slice_name(self.node_name)}"
        with contextlib.suppress(StatusError, OSError, asyncio.TimeoutError):
            await asyncio.wait_for(self.client.delete(path), 5)

    async def stop(self) -> None:
        if self.server is not None and self.server.addresses:
            await self._unpublish()
        for t in self.tasks:
            t.cancel()
        for t in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        if self.server is not None:
            await stop_node_dns(self.server, self.prefix)


def configure_kubelet(kubelet: Any, opts: DnsOptions) -> None:
    """Pods' resolv.conf name the cluster DNS and search the cluster domain."""
    kubelet.pod_dns.cluster_dns = [opts.cluster_dns] if opts.cluster_dns else []
    kubelet.pod_dns.cluster_domain = opts.cluster_domain
    kubelet.pod_dns.resolv_conf_path = opts.resolv_conf


async def start_cluster_dns(client: Any, opts: DnsOptions, node_name: str, node_ip: str,
                            prefix: str) -> ClusterDns | None:
    """The node's cluster DNS; None (logged) when it cannot run, as the node is still useful."""
    dns = ClusterDns(client, opts, node_name, node_ip, prefix)
    try:
        await dns.start()
    except Exception as e:  # noqa: BLE001 - no DNS is a degraded node, not a dead one
        log.warning("cluster DNS not started on %s: %s", node_name, getattr(e, "message", e))
        await dns.stop()
        return None
    except BaseException:  # stopped while starting: leave no link, socket or task behind
        await asyncio.shield(dns.stop())
        raise
    return dns
