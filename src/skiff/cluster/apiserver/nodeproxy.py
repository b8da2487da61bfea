"""nodes/NAME/proxy/PATH: any request relayed to the node's kubelet (`kubectl get --raw
/api/v1/nodes/N/proxy/healthz`, `/pods`, `/containerLogs/...`), its answer passed back."""

from __future__ import annotations

import ssl
from urllib.parse import quote

import aiohttp
from aiohttp import web

from skiff.cluster.apimachinery.errors import ApiError
from skiff.cluster.apiserver.call import Call
from skiff.cluster.apiserver.podstreams import client_tls, kubelet_location, unreachable

HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "upgrade", "content-length", "content-encoding"}


def target_path(subresource: str) -> str:
    """`proxy/a/b` → `/a/b`; `proxy` → `/`."""
    rest = subresource.split("/", 1)[1] if "/" in subresource else ""
    return "/" + quote(rest, safe="/:@-._~!$&'()*+,;=")


async def serve(call: Call, request: web.Request) -> web.StreamResponse:
    node = await call.ctx.get_object("", "nodes", "", call.info.name, fresh=True)
    if node is None:
        raise ApiError(404, "NotFound", f'nodes "{call.info.name}" not found',
                       {"name": call.info.name, "kind": "nodes"})
    host, port = kubelet_location(node)
    base = f"https://{host}:{port}" if ":" not in host else f"https://[{host}]:{port}"
    return await relay(call, request, base, client_tls(call))


async def relay(call: Call, request: web.Request, base: str, tls: ssl.SSLContext | bool) -> web.StreamResponse:
    """The request's method, body and `proxy/PATH?query` sent to `base`; the answer streamed back."""
    url = base + target_path(call.info.subresource) + (f"?{request.query_string}" if request.query_string else "")
    headers = {k: v for k, v in request.headers.items() if k.lower() in ("accept", "content-type")}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_connect=10)) as session:
        try:
            upstream = await session.request(request.method, url, data=call.body or None, headers=headers,
                                             ssl=tls, allow_redirects=False)
        except (aiohttp.ClientError, OSError) as e:
            raise unreachable(e) from None
        resp = web.StreamResponse(status=upstream.status, headers={
            k: v for k, v in upstream.headers.items() if k.lower() not in HOP_HEADERS})
        await resp.prepare(request)
        async for data in upstream.content.iter_any():
            await resp.write(data)
        await resp.write_eof()
        return resp
