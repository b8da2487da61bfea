"""A stand-in kubelet that only answers the Summary API (`/stats/summary`) over HTTPS, with
usage figures a test sets: the injected metrics behind metrics.k8s.io, `kubectl top` and the
HPA. `register(server)` makes a Node whose kubelet endpoint is this server (127.0.0.1:port).
"""

from __future__ import annotations

import asyncio
import json
import ssl
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from tests.support.registry import free_port, self_signed_cert


class KubeletStats:
    def __init__(self, node_name: str):
        self.node_name = node_name
        self.node_usage = (250_000_000, 512 * 1024 * 1024)  # nano-cores, bytes
        self.pods: dict[tuple[str, str], dict[str, tuple[int, int]]] = {}  # (ns, pod) → container → usage
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="kubelet-stats")
        self.tmp = tempfile.TemporaryDirectory(prefix="skiff-stats-")
        self.runner: web.AppRunner | None = None

    def set_pod(self, namespace: str, name: str, containers: dict[str, tuple[int, int]]) -> None:
        self.pods[(namespace, name)] = containers

    def clear(self) -> None:
        self.pods.clear()

    def summary(self) -> dict:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        cpu, mem = self.node_usage
        return {"node": {"nodeName": self.node_name, "cpu": {"time": now, "usageNanoCores": cpu},
                         "memory": {"time": now, "workingSetBytes": mem}},
                "pods": [{"podRef": {"namespace": ns, "name": name, "uid": ""},
                          "containers": [{"name": c, "cpu": {"time": now, "usageNanoCores": u[0]},
                                          "memory": {"time": now, "workingSetBytes": u[1]}}
                                         for c, u in containers.items()]}
                         for (ns, name), containers in sorted(self.pods.items())]}

    def start(self) -> KubeletStats:
        cert, key = self_signed_cert(Path(self.tmp.name))
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(str(cert), str(key))

        async def summary(_: web.Request) -> web.Response:
            return web.json_response(self.summary())

        async def serve() -> None:
            app = web.Application()
            app.router.add_get("/stats/summary", summary)
            self.runner = web.AppRunner(app)
            await self.runner.setup()
            await web.TCPSite(self.runner, "127.0.0.1", self.port, ssl_context=tls).start()

        self.thread.start()
        asyncio.run_coroutine_threadsafe(serve(), self.loop).result(10)
        return self

    def stop(self) -> None:
        if self.runner is not None:
            asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.tmp.cleanup()

    def register(self, server) -> None:
        """A Node object for this kubelet, unschedulable so nothing is placed on it."""
        node = {"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": self.node_name, "labels": {"kubernetes.io/hostname": self.node_name}},
                "spec": {"unschedulable": True,
                         "taints": [{"key": "skiff.test/stats-only", "effect": "NoSchedule"}]}}
        r = server.kubectl("create", "-f", "-", input=json.dumps(node))
        assert r.returncode == 0, r.stderr.decode()
        status = {"status": {"addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
                             "daemonEndpoints": {"kubeletEndpoint": {"Port": self.port}},
                             "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
                             "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}}}
        r = server.kubectl("patch", "node", self.node_name, "--subresource=status", "--type=merge",
                           "-p", json.dumps(status))
        assert r.returncode == 0, r.stderr.decode()
