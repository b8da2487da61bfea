"""Port forwarding (placeholder until the SPDY tunnel lands)."""

from __future__ import annotations

from aiohttp import web


async def serve(request: web.Request, pod_ip: str) -> web.StreamResponse:
    return web.json_response({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                              "message": "port forwarding is not supported by this kubelet yet",
                              "reason": "BadRequest", "code": 400}, status=400)
