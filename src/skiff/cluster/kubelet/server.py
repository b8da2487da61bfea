"""The kubelet's HTTPS server (port 10250): /containerLogs, /exec, /attach, /portForward, /stats/summary.

Only the API server calls it: a client certificate signed by the cluster CA is required (the CA
comes from the kube-root-ca.crt ConfigMap, read with the kubelet's own credentials). The serving
certificate is self-signed, as a kubelet without --tls-cert-file makes one.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import errno
import logging
import ssl
from pathlib import Path
from typing import Any

from aiohttp import web

from skiff.cluster.kubelet.stats import SummaryProvider
from skiff.cluster.kubelet.streaming import channels, logs, portforward
from skiff.cluster.kubelet.streaming.remotecommand import serve_session
from skiff.common.errors import NotFound, SkiffError

log = logging.getLogger(__name__)

DEFAULT_PORT = 10250
CA_CONFIGMAP = "/api/v1/namespaces/kube-system/configmaps/kube-root-ca.crt"


def _self_signed(directory: Path, host: str) -> tuple[Path, Path]:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    cert_path, key_path = directory / "kubelet.crt", directory / "kubelet.key"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{host}@kubelet")])
    now = datetime.datetime.now(datetime.UTC)
    sans: list[x509.GeneralName] = [x509.DNSName("localhost")]
    with contextlib.suppress(ValueError):
        sans.append(x509.IPAddress(ipaddress.ip_address(host)))
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False).sign(key, hashes.SHA256()))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def _status(code: int, message: str) -> web.Response:
    reason = {400: "BadRequest", 401: "Unauthorized", 404: "NotFound", 409: "Conflict"}.get(code, "InternalError")
    return web.json_response({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                              "message": message, "reason": reason, "code": code}, status=code)


class StreamingServer:
    def __init__(self, kubelet: Any, address: str, port: int, tls_dir: Path):
        self.kubelet = kubelet
        self.address = address
        self.requested_port = port
        self.port = port
        self.tls_dir = tls_dir
        self.tls: ssl.SSLContext | None = None
        self.ca_loaded = False
        self.runner: web.AppRunner | None = None
        self.task: asyncio.Task | None = None
        self.stats = SummaryProvider(kubelet)
        self.stats_task: asyncio.Task | None = None

    # ---- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> int:
        """Listen; returns the port (a free one for port 0, or when 10250 is taken by another node)."""
        cert, key = await asyncio.to_thread(_self_signed, self.tls_dir, self.address)
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.tls.load_cert_chain(cert, key)
        self.tls.verify_mode = ssl.CERT_OPTIONAL  # CERT_REQUIRED once the CA is known would be the same
        app = web.Application(middlewares=[self._authenticate])
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/pods", self.pods)
        app.router.add_get("/stats/summary", self.stats_summary)
        app.router.add_get("/containerLogs/{namespace}/{pod}/{container}", self.container_logs)
        for verb in ("exec", "attach"):
            app.router.add_route("*", f"/{verb}/{{namespace}}/{{pod}}/{{container}}", self.remote_command)
        app.router.add_route("*", "/portForward/{namespace}/{pod}", self.port_forward)
        self.runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5, handler_cancellation=True)
        await self.runner.setup()
        try:
            site = web.TCPSite(self.runner, self.address, self.port, ssl_context=self.tls, reuse_address=True)
            await site.start()
        except OSError as e:
            if e.errno != errno.EADDRINUSE or self.port != DEFAULT_PORT:
                raise
            log.warning("kubelet port %d is in use (another node on this host?): using a free port", self.port)
            site = web.TCPSite(self.runner, self.address, 0, ssl_context=self.tls)
            await site.start()
        self.port = self.runner.addresses[-1][1]  # the bound port (port 0 or the fallback)
        self.task = asyncio.create_task(self._load_ca(), name="kubelet-client-ca")
        self.stats_task = asyncio.create_task(self.stats.run(), name="kubelet-stats-housekeeping")
        return self.port

    async def stop(self) -> None:
        for task in (self.task, self.stats_task):
            if task:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self.runner:
            await self.runner.cleanup()

    async def _load_ca(self) -> None:
        """The cluster CA (to verify the API server's client certificate), once it is published."""
        while not self.ca_loaded:
            try:
                cm = await self.kubelet.client.get(CA_CONFIGMAP)
                pem = (cm.get("data") or {}).get("ca.crt") or ""
                if pem and self.tls is not None:
                    self.tls.load_verify_locations(cadata=pem)
                    self.ca_loaded = True
                    return
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - not published yet, or the server is away
                log.debug("cluster CA not available yet: %s", e)
            await asyncio.sleep(1)

    @web.middleware
    async def _authenticate(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path == "/healthz":
            return await handler(request)
        peer = request.transport.get_extra_info("peercert") if request.transport else None
        if not peer:
            return _status(401, "Unauthorized")
        return await handler(request)

    async def healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def pods(self, request: web.Request) -> web.Response:
        """The pods this kubelet runs, as the kubelet's /pods lists them."""
        items = [w.pod for w in list(self.kubelet.workers.values())]
        return web.json_response({"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items})

    async def stats_summary(self, request: web.Request) -> web.Response:
        """The Summary API: node, pod and container CPU and memory (see stats.py)."""
        return web.json_response(await self.stats.summary())

    # ---- handlers ------------------------------------------------------------------------------
    def _container(self, request: web.Request, previous: bool = False) -> str:
        m = request.match_info
        return self.kubelet.runtime.find_container(m["namespace"], m["pod"], m["container"], previous)

    async def container_logs(self, request: web.Request) -> web.StreamResponse:
        try:
            opts = logs.parse_options(request.query)
            cid = self._container(request, opts.previous)
            _, chunks = await self.kubelet.runtime.logs(cid, stdout=True, stderr=True, follow=opts.follow,
                                                        since=opts.since, timestamps=opts.timestamps,
                                                        tail=opts.tail)
        except ValueError as e:
            return _status(400, str(e))
        except NotFound as e:
            return _status(400 if opts.previous else 404, str(e))
        except SkiffError as e:
            return _status(e.status if e.status >= 400 else 500, str(e))
        resp = web.StreamResponse(headers={"Content-Type": "text/plain"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        limit = logs.ByteLimit(opts.limit_bytes)
        try:
            async for _, data in chunks:
                data = limit.take(data)
                if data:
                    await resp.write(data)
                if limit.done:
                    break
        except (ConnectionError, RuntimeError):  # the API server (its client) went away
            return resp
        finally:
            with contextlib.suppress(Exception):
                await chunks.aclose()  # type: ignore[attr-defined,unused-ignore]
        with contextlib.suppress(ConnectionError, RuntimeError):
            await resp.write_eof()
        return resp

    async def remote_command(self, request: web.Request) -> web.StreamResponse:
        is_exec = request.path.startswith("/exec/")
        try:
            opts = channels.parse_options(request.query, is_exec)
            cid = self._container(request)
        except ValueError as e:
            return _status(400, str(e))
        except NotFound as e:
            return _status(404, str(e))
        if not is_exec and not self.kubelet.runtime.containers.get(cid).state.running:
            # The engine's attach would wait for a next start that never comes (kubectl run -i
            # of a pod that already finished): refuse, and kubectl falls back to the logs.
            m = request.match_info
            return _status(409, f'container "{m["container"]}" in pod "{m["pod"]}" is not running')
        ws = web.WebSocketResponse(protocols=channels.PROTOCOLS, max_msg_size=0, autoping=True)
        if not ws.can_prepare(request).ok:
            return _status(400, "Upgrade request required: this kubelet speaks the "
                                f"{' and '.join(channels.PROTOCOLS)} WebSocket protocols")
        runtime = self.kubelet.runtime
        containers = runtime.containers
        try:
            if is_exec:
                exec_id = await runtime.exec_create(cid, {
                    "Cmd": list(opts.command), "AttachStdin": opts.stdin, "AttachStdout": opts.stdout,
                    "AttachStderr": opts.stderr, "Tty": opts.tty})
                session = await runtime.exec_start(exec_id, tty=opts.tty)
            else:
                session = await containers.attach(cid, stdin=opts.stdin, stdout=opts.stdout, stderr=opts.stderr)
        except SkiffError as e:
            return _status(e.status if e.status >= 400 else 500, str(e))
        await ws.prepare(request)

        if is_exec:
            async def resize(h: int, w: int) -> None:
                await containers.exec_resize(exec_id, h, w)

            async def final() -> bytes:
                # The output can end before the process does (it closed its stdout, or it is
                # being reaped): wait for the exit code, as the kubelet waits for the process.
                delay = 0.01
                while not ws.closed:
                    info = await runtime.exec_inspect(exec_id)
                    if not info.get("Running"):
                        return channels.exit_status(opts.command, int(info.get("ExitCode") or 0))
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 0.5)
                return channels.failure_status("the client went away before the command ended")
        else:
            async def resize(h: int, w: int) -> None:
                await containers.resize(cid, h, w)

            async def final() -> bytes:
                return channels.success_status()

        await serve_session(ws, session, resize, final)
        return ws

    async def pod_ip(self, namespace: str, pod: str) -> str:
        """The address of the pod's running sandbox (loopback for a host-network pod)."""
        runtime = self.kubelet.runtime
        for c in runtime.list():
            if c.is_sandbox and c.running and c.key.namespace == namespace and c.key.pod == pod:
                return await runtime.sandbox_ip(c.id) or "127.0.0.1"
        raise NotFound(f'pod "{pod}" in namespace "{namespace}" has no running sandbox')

    async def port_forward(self, request: web.Request) -> web.StreamResponse:
        m = request.match_info
        try:
            ip = await self.pod_ip(m["namespace"], m["pod"])
        except NotFound as e:
            return _status(404, str(e))
        return await portforward.serve(request, ip, m["pod"])
