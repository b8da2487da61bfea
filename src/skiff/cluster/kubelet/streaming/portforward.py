"""Port forwarding: kubectl's SPDY port-forward protocol, tunneled in a WebSocket.

For every local connection kubectl opens two streams sharing a `requestID`: an error stream
(it reads error text from it until the stream ends) and a data stream (the connection's bytes
both ways), both naming the pod `port`. Each pair becomes a TCP connection to the pod's address.
When the pod's side ends, the data stream and then the error stream are finished, which is what
kubectl waits for before it closes the local connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from aiohttp import WSMsgType, web

from skiff.cluster.kubelet.streaming import spdy

log = logging.getLogger(__name__)

TUNNEL_PROTOCOL = "SPDY/3.1+portforward.k8s.io"
CONNECT_TIMEOUT = 10.0
CHUNK = 32 * 1024


@dataclass
class Pair:
    request_id: str
    port: int = 0
    error_id: int = 0
    data_id: int = 0
    inbound: asyncio.Queue = field(default_factory=asyncio.Queue)  # client bytes; None is FIN
    task: asyncio.Task | None = None


def parse_port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise ValueError(f'unable to parse "{text}" as a port: invalid syntax') from None
    if not 0 < port < 65536:
        raise ValueError(f'port "{text}" must be > 0 and < 65536')
    return port


class Session:
    def __init__(self, ws: web.WebSocketResponse, pod_ip: str, pod: str):
        self.ws = ws
        self.pod_ip = pod_ip
        self.pod = pod
        self.codec = spdy.Codec()
        self.pairs: dict[str, Pair] = {}
        self.by_stream: dict[int, Pair] = {}
        self.lock = asyncio.Lock()

    async def send(self, data: bytes) -> None:
        async with self.lock:  # header compression is stateful: frames go out in the order they were made
            if not self.ws.closed:
                await self.ws.send_bytes(data)

    async def run(self) -> None:
        try:
            async for msg in self.ws:
                if msg.type != WSMsgType.BINARY:
                    break
                for frame in self.codec.feed(msg.data):
                    await self.handle(frame)
        except spdy.ProtocolError as e:
            log.info("port-forward to %s: %s", self.pod, e)
        finally:
            for pair in self.pairs.values():
                if pair.task:
                    pair.task.cancel()
            for pair in self.pairs.values():
                if pair.task:
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await pair.task

    async def handle(self, frame: spdy.Frame) -> None:
        if not frame.control:
            pair = self.by_stream.get(frame.stream_id)
            if pair is not None and frame.stream_id == pair.data_id:
                if frame.payload:
                    pair.inbound.put_nowait(frame.payload)
                if frame.fin:
                    pair.inbound.put_nowait(None)
            return
        if frame.kind == spdy.SYN_STREAM:
            await self.open_stream(frame)
        elif frame.kind == spdy.PING:
            await self.send(self.codec.ping(frame.value))
        elif frame.kind == spdy.RST_STREAM:
            pair = self.by_stream.get(frame.stream_id)
            if pair is not None and pair.task:
                pair.task.cancel()
        elif frame.kind == spdy.GOAWAY:
            await self.ws.close()

    async def open_stream(self, frame: spdy.Frame) -> None:
        h = frame.headers
        kind, request_id = h.get("streamtype", ""), h.get("requestid", "")
        if kind not in ("error", "data"):
            await self.send(self.codec.rst_stream(frame.stream_id, spdy.RST_PROTOCOL_ERROR))
            return
        async with self.lock:
            await self.ws.send_bytes(self.codec.syn_reply(frame.stream_id))
        pair = self.pairs.setdefault(request_id, Pair(request_id))
        self.by_stream[frame.stream_id] = pair
        if kind == "error":
            pair.error_id = frame.stream_id
        else:
            pair.data_id = frame.stream_id
        try:
            pair.port = parse_port(h.get("port", ""))
        except ValueError as e:
            if pair.error_id:
                await self.send(self.codec.data(pair.error_id, str(e).encode(), fin=True))
            return
        if pair.error_id and pair.data_id and pair.task is None:
            pair.task = asyncio.create_task(self.forward(pair))

    async def forward(self, pair: Pair) -> None:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(self.pod_ip, pair.port), CONNECT_TIMEOUT)
        except OSError as e:  # TimeoutError included
            message = (f"error forwarding port {pair.port} to pod {self.pod}: failed to connect to "
                       f"{self.pod_ip}:{pair.port}: {e}")
            await self.send(self.codec.data(pair.error_id, message.encode(), fin=True))
            await self.send(self.codec.data(pair.data_id, b"", fin=True))
            return
        upstream = asyncio.create_task(self._to_pod(pair, writer))
        try:
            while data := await reader.read(CHUNK):
                await self.send(self.codec.data(pair.data_id, data))
            await self.send(self.codec.data(pair.data_id, b"", fin=True))
            await self.send(self.codec.data(pair.error_id, b"", fin=True))
        except (ConnectionError, RuntimeError) as e:
            log.debug("port-forward %s:%d ended: %s", self.pod_ip, pair.port, e)
        finally:
            upstream.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await upstream
            writer.close()
            self.pairs.pop(pair.request_id, None)
            self.by_stream.pop(pair.data_id, None)
            self.by_stream.pop(pair.error_id, None)

    @staticmethod
    async def _to_pod(pair: Pair, writer: asyncio.StreamWriter) -> None:
        while (data := await pair.inbound.get()) is not None:
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()


async def serve(request: web.Request, pod_ip: str, pod: str) -> web.StreamResponse:
    ws = web.WebSocketResponse(protocols=(TUNNEL_PROTOCOL,), max_msg_size=0)
    if not ws.can_prepare(request).ok or ws.can_prepare(request).protocol != TUNNEL_PROTOCOL:
        return web.json_response({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                  "message": f"Upgrade request required: this kubelet forwards ports over the "
                                             f"{TUNNEL_PROTOCOL} WebSocket protocol", "reason": "BadRequest",
                                  "code": 400}, status=400)
    await ws.prepare(request)
    try:
        await Session(ws, pod_ip, pod).run()
    finally:
        await ws.close()
    return ws
