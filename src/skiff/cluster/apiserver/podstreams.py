"""pods/log, pods/exec, pods/attach and pods/portforward: proxied to the kubelet of the pod's node.

The node's address is its status.addresses (InternalIP first) and its port
status.daemonEndpoints.kubeletEndpoint.Port; the server authenticates with its client
certificate and does not verify the kubelet's self-signed one (kube-apiserver without
--kubelet-certificate-authority). Logs stream through as chunked text; exec, attach and
port-forward are WebSockets relayed message by message with the subprotocol the kubelet chose.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
from aiohttp import WSMsgType, web

from skiff.cluster.apimachinery.errors import ApiError, bad_request
from skiff.cluster.apiserver.call import Call
from skiff.cluster.apiserver.reads import read_object

STREAMED = frozenset({"log", "exec", "attach", "portforward"})
LOG_PARAMS = ("follow", "previous", "timestamps", "tailLines", "sinceSeconds", "sinceTime", "limitBytes")
COMMAND_PARAMS = ("command", "stdin", "stdout", "stderr", "tty")


def container_names(spec: dict) -> tuple[list[str], list[str]]:
    return ([c["name"] for c in spec.get("containers") or []], [c["name"] for c in spec.get("initContainers") or []])


def pick_container(pod: dict, wanted: str) -> str:
    """The container a request means: the one named, or the pod's only one (kube-apiserver's words)."""
    name = pod["metadata"]["name"]
    apps, inits = container_names(pod.get("spec") or {})
    ephemeral = [c["name"] for c in (pod.get("spec") or {}).get("ephemeralContainers") or []]
    if not wanted:
        if len(apps) == 1:
            return apps[0]
        message = f"a container name must be specified for pod {name}, choose one of: [{' '.join(apps)}]"
        if inits:
            message += f" or one of the init containers: [{' '.join(inits)}]"
        raise bad_request(message)
    if wanted not in apps + inits + ephemeral:
        raise bad_request(f"container {wanted} is not valid for pod {name}")
    return wanted


def check_log_state(pod: dict, container: str, previous: bool) -> None:
    """A container that never ran has no logs: say why, as kube-apiserver does."""
    if previous:
        return
    status = pod.get("status") or {}
    for cs in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or []):
        if cs.get("name") != container:
            continue
        waiting = (cs.get("state") or {}).get("waiting")
        if waiting and not (cs.get("lastState") or {}).get("terminated"):
            raise bad_request(f'container "{container}" in pod "{pod["metadata"]["name"]}" is waiting to start: '
                              f'{waiting.get("reason") or "ContainerCreating"}')
        return
    if not status.get("containerStatuses"):
        raise bad_request(f'container "{container}" in pod "{pod["metadata"]["name"]}" is waiting to start: '
                          "ContainerCreating")


def check_running(pod: dict) -> None:
    phase = (pod.get("status") or {}).get("phase", "")
    if phase in ("Succeeded", "Failed"):
        raise bad_request(f"cannot exec into a container in a completed pod; current phase is {phase}")


def kubelet_location(node: dict) -> tuple[str, int]:
    status = node.get("status") or {}
    addresses = status.get("addresses") or []
    preferred = ("InternalIP", "ExternalIP", "Hostname")
    ordered = sorted(addresses, key=lambda a: preferred.index(a.get("type")) if a.get("type") in preferred else 9)
    if not ordered:
        raise ApiError(500, "InternalError", f"node {node['metadata']['name']} has no addresses")
    port = ((status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}).get("Port") or 10250
    return ordered[0]["address"], int(port)


def forwarded_query(query: Any, names: tuple[str, ...]) -> str:
    return urlencode([(k, v) for k in names for v in query.getall(k, [])])


def client_tls(call: Call) -> ssl.SSLContext:
    tls = ssl.create_default_context()
    tls.check_hostname = False
    tls.verify_mode = ssl.CERT_NONE  # kubelets serve self-signed certificates
    settings = call.ctx.settings
    if settings.kubelet_client_cert:
        tls.load_cert_chain(settings.kubelet_client_cert, settings.kubelet_client_key or None)
    return tls


async def serve(call: Call, request: web.Request) -> web.StreamResponse:
    sub = call.info.subresource
    if call.res.plural != "pods" or call.res.group:
        raise bad_request(f"{call.res.plural}/{sub} is not served")
    if sub == "log" and call.info.verb != "get":
        from skiff.cluster.apimachinery.errors import method_not_supported

        raise method_not_supported("pods/log", call.info.verb)
    pod = await read_object(call)
    node_name = (pod.get("spec") or {}).get("nodeName")
    if not node_name:
        raise bad_request(f"pod {call.info.name} does not have a host assigned")
    node = await call.ctx.get_object("", "nodes", "", node_name, fresh=True)
    if node is None:
        raise ApiError(404, "NotFound", f'nodes "{node_name}" not found',
                       {"name": node_name, "kind": "nodes"})
    host, port = kubelet_location(node)
    base = f"https://{host}:{port}" if ":" not in host else f"https://[{host}]:{port}"
    ns, name = quote(call.info.namespace), quote(call.info.name)
    if sub == "portforward":
        return await relay_websocket(call, request, f"{base}/portForward/{ns}/{name}?"
                                     + forwarded_query(request.query, ("port",)))
    container = pick_container(pod, request.query.get("container", ""))
    if sub == "log":
        previous = request.query.get("previous", "") in ("1", "true")
        check_log_state(pod, container, previous)
        url = f"{base}/containerLogs/{ns}/{name}/{quote(container)}?" + forwarded_query(request.query, LOG_PARAMS)
        return await relay_logs(call, request, url)
    check_running(pod)
    url = f"{base}/{sub}/{ns}/{name}/{quote(container)}?" + forwarded_query(request.query, COMMAND_PARAMS)
    return await relay_websocket(call, request, url)


def _kubelet_error(status: int, body: bytes) -> ApiError:
    import orjson

    try:
        doc = orjson.loads(body)
        return ApiError(status, doc.get("reason") or "InternalError", doc.get("message") or body.decode())
    except (ValueError, AttributeError):
        return ApiError(status, "InternalError", body.decode(errors="replace").strip())


def unreachable(e: Exception) -> ApiError:
    return ApiError(502, "InternalError", f"error dialing backend: {e}")


async def relay_logs(call: Call, request: web.Request, url: str) -> web.StreamResponse:
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_connect=10))
    try:
        try:
            upstream = await session.get(url, ssl=client_tls(call))
        except (aiohttp.ClientError, OSError) as e:
            raise unreachable(e) from None
        if upstream.status != 200:
            raise _kubelet_error(upstream.status, await upstream.read())
        resp = web.StreamResponse(headers={"Content-Type": "text/plain", "Cache-Control": "no-cache, private"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        with contextlib.suppress(aiohttp.ClientError, ConnectionError, asyncio.TimeoutError):
            async for data in upstream.content.iter_any():
                await resp.write(data)
        with contextlib.suppress(ConnectionError, RuntimeError):
            await resp.write_eof()
        return resp
    finally:
        await session.close()


async def relay_websocket(call: Call, request: web.Request, url: str) -> web.StreamResponse:
    offered = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",") if p.strip()]
    probe = web.WebSocketResponse(protocols=offered)
    if not probe.can_prepare(request).ok:
        # kubectl retries with SPDY when the WebSocket upgrade is refused (the kubelet found no
        # such container, say): give it the kubelet's refusal, as kube-apiserver relays it, as
        # plain text, which kubectl shows as "unable to upgrade connection: <text>".
        refusal = await _kubelet_refusal(call, url)
        if refusal is not None:
            return refusal
        raise bad_request("Upgrade request required: this server speaks Kubernetes' WebSocket streaming "
                          "protocols (v5.channel.k8s.io, v4.channel.k8s.io, SPDY/3.1+portforward.k8s.io)")
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_connect=10))
    try:
        try:
            upstream = await session.ws_connect(url.replace("https://", "wss://", 1), protocols=offered,
                                                ssl=client_tls(call), max_msg_size=0, autoping=True)
        except aiohttp.WSServerHandshakeError as e:
            raise ApiError(e.status if e.status >= 400 else 500, "BadRequest" if e.status == 400 else "InternalError",
                           f"error from the kubelet: {e.message}") from None
        except (aiohttp.ClientError, OSError) as e:
            raise unreachable(e) from None
        ws = web.WebSocketResponse(protocols=[upstream.protocol] if upstream.protocol else [], max_msg_size=0)
        await ws.prepare(request)
        await _pump_both(ws, upstream)
        return ws
    finally:
        await session.close()


async def _kubelet_refusal(call: Call, url: str) -> web.Response | None:
    """The kubelet's 404 (no such container) or 409 (not running) for a plain request to a
    streaming URL (it checks the container before the upgrade), as a plain-text response;
    None when it has no such complaint."""
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
    try:
        async with session.get(url, ssl=client_tls(call)) as upstream:
            if upstream.status not in (404, 409):
                return None
            error = _kubelet_error(upstream.status, await upstream.read())
    except (TimeoutError, aiohttp.ClientError, OSError):
        return None
    finally:
        await session.close()
    return web.Response(status=error.code, text=error.message, content_type="text/plain")


async def _copy(source: Any, sink: Any) -> None:
    async for msg in source:
        if msg.type == WSMsgType.BINARY:
            await sink.send_bytes(msg.data)
        elif msg.type == WSMsgType.TEXT:
            await sink.send_str(msg.data)
        else:
            break


async def _pump_both(client: web.WebSocketResponse, upstream: aiohttp.ClientWebSocketResponse) -> None:
    tasks = [asyncio.create_task(_copy(client, upstream)), asyncio.create_task(_copy(upstream, client))]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        with contextlib.suppress(Exception):
            await upstream.close()
        with contextlib.suppress(Exception):
            await client.close()
