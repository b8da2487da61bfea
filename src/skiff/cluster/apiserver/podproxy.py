"""pods/NAME/proxy/PATH and services/NAME/proxy/PATH: HTTP relayed to a pod, as `kubectl proxy`
users reach them (`/api/v1/namespaces/NS/services/web:http/proxy/`).

The name part is `[scheme:]name[:port]` as upstream parses it. A pod is reached at its
status.podIP (the port a number, a container port's name, or 80); a service at one ready
address of its Endpoints, the port picked by the service port's name or number. Unlike
kube-apiserver, loopback addresses are not refused: pods here may be host-network processes.
"""

from __future__ import annotations

import random
from typing import Any

from aiohttp import web

from skiff.cluster.apimachinery.errors import ApiError, bad_request, not_found
from skiff.cluster.apiserver.call import Call
from skiff.cluster.apiserver.nodeproxy import relay

Obj = dict[str, Any]


def split_name(raw: str) -> tuple[str, str, str]:
    """`https:web:443` → (https, web, 443); `web:http` → ("", web, http); `web` → ("", web, "")."""
    parts = raw.split(":")
    if len(parts) == 3:
        scheme, name, port = parts
    elif len(parts) == 2:
        scheme, name, port = "", parts[0], parts[1]
    elif len(parts) == 1:
        scheme, name, port = "", parts[0], ""
    else:
        raise bad_request(f"invalid service request {raw!r}")
    if scheme not in ("", "http", "https"):
        raise bad_request(f"invalid scheme {scheme!r}")
    return scheme or "http", name, port


def pod_port(pod: Obj, port: str) -> int:
    """A number, a named container port, or 80."""
    if not port:
        return 80
    if port.isdigit():
        return int(port)
    for c in (pod.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("name") == port:
                return int(p["containerPort"])
    raise bad_request(f"no such port {port!r} on pod {pod['metadata']['name']}")


def endpoint(service: Obj, endpoints: Obj | None, port: str, pick: Any = random.choice) -> tuple[str, int]:
    """(address, port) of one ready endpoint for the service port named (or numbered) `port`."""
    name = service["metadata"]["name"]
    ports = (service.get("spec") or {}).get("ports") or []
    port_name: str | None = None
    if not port:
        port_name = ports[0].get("name", "") if len(ports) == 1 else None
        if port_name is None:
            raise bad_request(f'service "{name}" has several ports: name one ({name}:PORT)')
    elif port.isdigit():
        port_name = next((p.get("name", "") for p in ports if str(p.get("port")) == port), None)
    else:
        port_name = port if any(p.get("name") == port for p in ports) else None
    if port_name is None:
        raise bad_request(f'no service port {port!r} found for service "{name}"')
    choices = []
    for subset in (endpoints or {}).get("subsets") or []:
        for p in subset.get("ports") or []:
            if p.get("name", "") == port_name:
                choices += [(a["ip"], int(p["port"])) for a in subset.get("addresses") or [] if a.get("ip")]
    if not choices:
        raise ApiError(503, "ServiceUnavailable", f'no endpoints available for service "{name}"', {})
    return pick(choices)


def _base(scheme: str, host: str, port: int) -> str:
    return f"{scheme}://{host}:{port}" if ":" not in host else f"{scheme}://[{host}]:{port}"


async def serve(call: Call, request: web.Request) -> web.StreamResponse:
    scheme, name, port = split_name(call.info.name)
    ns = call.info.namespace
    if call.res.kind == "Pod":
        pod = await call.ctx.get_object("", "pods", ns, name, fresh=True)
        if pod is None:
            raise not_found("pods", name)
        ip = (pod.get("status") or {}).get("podIP")
        if not ip:
            raise ApiError(503, "ServiceUnavailable", f'pod "{name}" has no IP address yet', {})
        return await relay(call, request, _base(scheme, ip, pod_port(pod, port)), False)
    service = await call.ctx.get_object("", "services", ns, name, fresh=True)
    if service is None:
        raise not_found("services", name)
    host, target = endpoint(service, await call.ctx.get_object("", "endpoints", ns, name, fresh=True), port)
    return await relay(call, request, _base(scheme, host, target), False)
