"""`kubectl port-forward`: local ports to a pod's ports, over the pods/portforward subresource
(SPDY/3.1 streams tunneled in a WebSocket, as kubectl 1.32 does): per local connection an
error stream and a data stream sharing a requestID."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from typing import Any

from skiff.cli.kubectl import options
from skiff.cli.kubectl.podtarget import pod_name
from skiff.cli.kubectl.session import CommandError, Session

HELP = """Forward one or more local ports to a pod.

Examples:
  kubectl port-forward pod/mypod 5000 6000
  kubectl port-forward mypod 8888:5000
  kubectl port-forward pod/mypod :5000
  kubectl port-forward --address 0.0.0.0 pod/mypod 8888:5000"""

TUNNEL_PROTOCOL = "SPDY/3.1+portforward.k8s.io"


def parse_ports(specs: list[str]) -> list[tuple[int, int]]:
    """`[LOCAL:]REMOTE` pairs; LOCAL 0 (or empty) picks a free port."""
    out = []
    for spec in specs:
        local, sep, remote = spec.rpartition(":")
        if not sep:
            local = remote
        try:
            pair = (int(local or 0), int(remote))
        except ValueError:
            raise CommandError(f'Error parsing port "{spec}": invalid syntax') from None
        if not 0 < pair[1] < 65536 or not 0 <= pair[0] < 65536:
            raise CommandError(f"Port {spec} is not valid")
        out.append(pair)
    return out


class Tunnel:
    def __init__(self, ws: Any):
        from skiff.cluster.kubelet.streaming import spdy

        self.spdy = spdy
        self.ws = ws
        self.codec = spdy.Codec()
        self.lock = asyncio.Lock()
        self.next_id = 1
        self.request_id = 0
        self.inbound: dict[int, asyncio.Queue] = {}

    async def send(self, make: Any) -> None:
        async with self.lock:  # compressed headers must leave in the order they were made
            await self.ws.send_bytes(make())

    async def read(self) -> None:
        import aiohttp

        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.BINARY:
                break
            for frame in self.codec.feed(msg.data):
                if frame.control and frame.kind == self.spdy.PING:
                    await self.send(lambda f=frame: self.codec.ping(f.value))
                elif frame.control and frame.kind == self.spdy.RST_STREAM:
                    queue = self.inbound.get(frame.stream_id)
                    if queue is not None:
                        queue.put_nowait(None)
                elif not frame.control:
                    queue = self.inbound.get(frame.stream_id)
                    if queue is not None:
                        if frame.payload:
                            queue.put_nowait(frame.payload)
                        if frame.fin:
                            queue.put_nowait(None)
        for queue in self.inbound.values():
            queue.put_nowait(None)

    async def connection(self, local: int, remote: int, reader: asyncio.StreamReader,
                         writer: asyncio.StreamWriter) -> None:
        print(f"Handling connection for {local}", flush=True)
        self.request_id += 1
        error_id, data_id = self.next_id, self.next_id + 2
        self.next_id += 4
        headers = {"port": str(remote), "requestID": str(self.request_id)}
        errors: asyncio.Queue = asyncio.Queue()
        data: asyncio.Queue = asyncio.Queue()
        self.inbound[error_id], self.inbound[data_id] = errors, data
        await self.send(lambda: self.codec.syn_stream(error_id, {"streamType": "error", **headers}, fin=True))
        await self.send(lambda: self.codec.syn_stream(data_id, {"streamType": "data", **headers}))

        async def upload() -> None:
            while chunk := await reader.read(32768):
                await self.send(lambda c=chunk: self.codec.data(data_id, c))
            await self.send(lambda: self.codec.data(data_id, b"", fin=True))

        up = asyncio.create_task(upload())
        try:
            while (chunk := await data.get()) is not None:
                writer.write(chunk)
                await writer.drain()
            message = b""
            while (part := await errors.get()) is not None:
                message += part
            if message:
                sys.stderr.write(f"error: an error occurred forwarding {local} -> {remote}: "
                                 f"{message.decode(errors='replace')}\n")
        except ConnectionError:
            pass
        finally:
            up.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await up
            writer.close()
            self.inbound.pop(error_id, None)
            self.inbound.pop(data_id, None)


def _handler(tunnel: Tunnel, local: list[int], remote: int) -> Any:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await tunnel.connection(local[0], remote, reader, writer)

    return handle


async def forward(session: Session, path: str, ports: list[tuple[int, int]], address: str) -> int:
    import aiohttp

    from skiff.cluster.client.rest import ssl_context

    client = session.client
    url = f"{'wss' if client.scheme == 'https' else 'ws'}://{client.host}:{client.port}{client.base}{path}"
    headers = {k: v for k, v in client._headers("*/*", None).items() if k != "Accept"}
    tls = ssl_context(session.connection) if client.scheme == "https" else True
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_connect=30)) as http:
        try:
            ws = await http.ws_connect(url, protocols=(TUNNEL_PROTOCOL,), ssl=tls, headers=headers, max_msg_size=0)
        except aiohttp.WSServerHandshakeError as e:
            raise CommandError(f"error upgrading connection: {e.message}") from None
        tunnel = Tunnel(ws)
        servers = []
        for local, remote in ports:
            shown = [local]  # the bound port once known (for port 0)
            server = await asyncio.start_server(_handler(tunnel, shown, remote), address, local)
            bound = shown[0] = server.sockets[0].getsockname()[1]
            servers.append(server)
            print(f"Forwarding from {address}:{bound} -> {remote}", flush=True)
        try:
            await tunnel.read()
        finally:
            for server in servers:
                server.close()
    sys.stderr.write("error: lost connection to pod\n")
    return 1


def run(word: str, argv: list[str]) -> int:
    p = options.parser("port-forward", HELP,
                       usage="kubectl port-forward TYPE/NAME [options] [LOCAL_PORT:]REMOTE_PORT [...]")
    p.add_argument("words", nargs="*", metavar="TYPE/NAME [LOCAL_PORT:]REMOTE_PORT")
    p.add_argument("--address", default="localhost", help="Addresses to listen on (default localhost)")
    opts = p.parse_intermixed_args(argv)
    if len(opts.words) < 2:
        raise CommandError("TYPE/NAME and list of ports are required for port-forward")
    ports = parse_ports(opts.words[1:])
    session = Session(opts)
    pods = session.resource("pods")
    name = pod_name(opts.words[0])
    pod = session.client.get(pods, name, session.namespace)
    phase = (pod.get("status") or {}).get("phase", "")
    if phase != "Running":
        raise CommandError(f"unable to forward port because pod is not running. Current status={phase}")
    from skiff.cluster.client.paths import path_for

    address = "127.0.0.1" if opts.address == "localhost" else opts.address
    try:
        return asyncio.run(forward(session, path_for(pods, session.namespace, name, "portforward"), ports, address))
    except KeyboardInterrupt:
        return 0
