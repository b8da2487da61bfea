"""The resource metrics API, metrics.k8s.io/v1beta1, served by the API server itself (what
metrics-server adds to a Kubernetes cluster): NodeMetrics and PodMetrics, read on request from
every node's kubelet summary endpoint.

The contract with the kubelet: `GET https://<node address>:<kubeletEndpoint port>/stats/summary`
answers the kubelet Summary API shape —
`{"node": {"nodeName", "cpu": {"time", "usageNanoCores"}, "memory": {"time", "workingSetBytes"}},
  "pods": [{"podRef": {"name", "namespace", "uid"}, "containers": [{"name", "cpu": {...},
  "memory": {...}}]}]}` — with the cgroup figures of the node and each container. A node whose
kubelet does not answer within a few seconds is left out, as metrics-server leaves it out.
Conversions are pure (`node_metrics`, `pod_metrics`); `kubectl top node|pod` and the HPA read
the result.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from datetime import UTC, datetime
from typing import Any

import aiohttp
import orjson
from aiohttp import web

from skiff.cluster.apimachinery.selectors import LabelSelector

log = logging.getLogger("skiff.apiserver.metrics")
GROUP, VERSION = "metrics.k8s.io", "v1beta1"
GV = f"{GROUP}/{VERSION}"
PREFIX = f"/apis/{GV}"
WINDOW = "10s"
SCRAPE_TIMEOUT = 5.0
Obj = dict[str, Any]


# --- discovery -----------------------------------------------------------------------------------
def resource_list() -> Obj:
    def entry(plural: str, kind: str, namespaced: bool) -> Obj:
        return {"name": plural, "singularName": "", "namespaced": namespaced, "kind": kind, "verbs": ["get", "list"]}
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": GV,
            "resources": [entry("nodes", "NodeMetrics", False), entry("pods", "PodMetrics", True)]}


def api_group() -> Obj:
    version = {"groupVersion": GV, "version": VERSION}
    return {"kind": "APIGroup", "apiVersion": "v1", "name": GROUP, "versions": [version],
            "preferredVersion": version}


def add_to_group_list(doc: Obj) -> Obj:
    group = api_group()
    del group["kind"], group["apiVersion"]
    doc.setdefault("groups", []).append(group)
    return doc


def add_to_aggregated(doc: Obj) -> Obj:
    def resource(plural: str, kind: str, scope: str) -> Obj:
        return {"resource": plural, "responseKind": {"group": GROUP, "version": VERSION, "kind": kind},
                "scope": scope, "singularResource": "", "verbs": ["get", "list"]}
    doc.setdefault("items", []).append({"metadata": {"name": GROUP}, "versions": [{
        "version": VERSION, "freshness": "Current",
        "resources": [resource("nodes", "NodeMetrics", "Cluster"), resource("pods", "PodMetrics", "Namespaced")]}]})
    return doc


# --- pure conversions ----------------------------------------------------------------------------
def cpu_quantity(nano_cores: float | int | None) -> str:
    return f"{int(nano_cores or 0)}n"


def memory_quantity(value: float | int | None) -> str:
    n = int(value or 0)
    return f"{n // 1024}Ki" if n and n % 1024 == 0 else str(n)


def _usage(stats: Obj) -> Obj:
    return {"cpu": cpu_quantity((stats.get("cpu") or {}).get("usageNanoCores")),
            "memory": memory_quantity((stats.get("memory") or {}).get("workingSetBytes"))}


def _stamp(stats: Obj, now: str) -> str:
    return str((stats.get("cpu") or {}).get("time") or (stats.get("memory") or {}).get("time") or now)


def node_metrics(node: Obj, summary: Obj, now: str) -> Obj:
    stats = summary.get("node") or {}
    meta = node["metadata"]
    return {"kind": "NodeMetrics", "apiVersion": GV,
            "metadata": {"name": meta["name"], "creationTimestamp": now, "labels": meta.get("labels") or {}},
            "timestamp": _stamp(stats, now), "window": WINDOW, "usage": _usage(stats)}


def pod_metrics(pod_stats: Obj, pod: Obj | None, now: str) -> Obj:
    ref = pod_stats.get("podRef") or {}
    containers = [{"name": c.get("name", ""), "usage": _usage(c)} for c in pod_stats.get("containers") or []]
    stamp = _stamp((pod_stats.get("containers") or [{}])[0], now) if containers else now
    return {"kind": "PodMetrics", "apiVersion": GV,
            "metadata": {"name": ref.get("name", ""), "namespace": ref.get("namespace", ""),
                         "creationTimestamp": now,
                         "labels": ((pod or {}).get("metadata") or {}).get("labels") or {}},
            "timestamp": stamp, "window": WINDOW, "containers": containers}


def kubelet_url(node: Obj) -> str | None:
    status = node.get("status") or {}
    addresses = status.get("addresses") or []
    preferred = ("InternalIP", "ExternalIP", "Hostname")
    ordered = sorted(addresses, key=lambda a: preferred.index(a.get("type")) if a.get("type") in preferred else 9)
    if not ordered:
        return None
    port = ((status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}).get("Port") or 10250
    host = ordered[0]["address"]
    host = f"[{host}]" if ":" in host else host
    return f"https://{host}:{port}/stats/summary"


# --- serving -------------------------------------------------------------------------------------
class MetricsApi:
    def __init__(self, ctx: Any):
        self.ctx = ctx

    def _tls(self) -> ssl.SSLContext:
        """As for the pods/log proxy: our client certificate, the kubelet's self-signed one unchecked."""
        tls = ssl.create_default_context()
        tls.check_hostname = False
        tls.verify_mode = ssl.CERT_NONE
        settings = self.ctx.settings
        if getattr(settings, "kubelet_client_cert", ""):
            tls.load_cert_chain(settings.kubelet_client_cert, settings.kubelet_client_key or None)
        return tls

    async def _summaries(self) -> list[tuple[Obj, Obj]]:
        nodes = await self.ctx.list_objects("", "nodes")
        tls = self._tls()
        timeout = aiohttp.ClientTimeout(total=SCRAPE_TIMEOUT)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async def scrape(node: Obj) -> tuple[Obj, Obj] | None:
                url = kubelet_url(node)
                if url is None:
                    return None
                try:
                    async with session.get(url, ssl=tls) as resp:
                        if resp.status != 200:
                            return None
                        return node, orjson.loads(await resp.read())
                except (TimeoutError, aiohttp.ClientError, ValueError, OSError) as e:
                    log.debug("metrics: node %s: %s", node["metadata"]["name"], e)
                    return None
            results = await asyncio.gather(*(scrape(n) for n in nodes))
        return [r for r in results if r is not None]

    async def nodes(self, request: web.Request) -> web.Response:
        now = _now()
        name = request.match_info.get("name")
        selector = LabelSelector.parse(request.query.get("labelSelector", ""))
        items = [node_metrics(node, summary, now) for node, summary in await self._summaries()
                 if (name is None or node["metadata"]["name"] == name)
                 and selector.matches(node["metadata"].get("labels"))]
        return self._answer(items, name, "NodeMetricsList", "nodes", "NodeMetrics")

    async def pods(self, request: web.Request) -> web.Response:
        now = _now()
        namespace, name = request.match_info.get("namespace", ""), request.match_info.get("name")
        selector = LabelSelector.parse(request.query.get("labelSelector", ""))
        known = {(p["metadata"].get("namespace"), p["metadata"]["name"]): p
                 for p in await self.ctx.list_objects("", "pods", namespace)}
        items = []
        for _, summary in await self._summaries():
            for stats in summary.get("pods") or []:
                ref = stats.get("podRef") or {}
                pod = known.get((ref.get("namespace"), ref.get("name")))
                if pod is None or (name is not None and ref.get("name") != name):
                    continue  # metrics only for pods the API knows, as metrics-server reports them
                if selector.matches(pod["metadata"].get("labels")):
                    items.append(pod_metrics(stats, pod, now))
        items.sort(key=lambda m: (m["metadata"]["namespace"], m["metadata"]["name"]))
        return self._answer(items, name, "PodMetricsList", "pods", "PodMetrics")

    def _answer(self, items: list[Obj], name: str | None, list_kind: str, plural: str, kind: str) -> web.Response:
        if name is not None:
            if not items:
                body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                        "message": f'{plural}.{GROUP} "{name}" not found', "reason": "NotFound",
                        "details": {"name": name, "group": GROUP, "kind": plural}, "code": 404}
                return _json(404, body)
            return _json(200, items[0])
        return _json(200, {"kind": list_kind, "apiVersion": GV, "metadata": {}, "items": items})


def _json(status: int, body: Obj) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json",
                        headers={"Cache-Control": "no-cache, private"})


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def add_routes(router: web.UrlDispatcher, ctx: Any) -> None:
    """Registered before the generic resource routes, so these paths are ours."""
    api = MetricsApi(ctx)

    async def group(_: web.Request) -> web.Response:
        return _json(200, api_group())

    async def resources(_: web.Request) -> web.Response:
        return _json(200, resource_list())

    router.add_get(f"/apis/{GROUP}", group)
    router.add_get(PREFIX, resources)
    router.add_get(f"{PREFIX}/nodes", api.nodes)
    router.add_get(f"{PREFIX}/nodes/{{name}}", api.nodes)
    router.add_get(f"{PREFIX}/pods", api.pods)
    router.add_get(f"{PREFIX}/namespaces/{{namespace}}/pods", api.pods)
    router.add_get(f"{PREFIX}/namespaces/{{namespace}}/pods/{{name}}", api.pods)
