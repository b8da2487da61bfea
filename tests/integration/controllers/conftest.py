"""A `skiff server` (its controller manager in process) with simulated kwok nodes, per module."""

from __future__ import annotations

import json
import os
import shutil
import time

import pytest

from tests.support.kwok import Kwok
from tests.support.server import Server


class Cluster:
    def __init__(self, server: Server, kwok: Kwok):
        self.server = server
        self.kwok = kwok

    def kubectl(self, *args: str, input: str | None = None, check: bool = True):
        r = self.server.kubectl(*args, input=input)
        if check:
            assert r.returncode == 0, (args, r.stdout.decode(), r.stderr.decode())
        return r

    def get(self, *args: str) -> dict:
        return json.loads(self.kubectl("get", *args, "-o", "json").stdout)

    def pods(self, namespace: str, selector: str) -> list[dict]:
        """The pods that count: not being deleted."""
        items = self.get("pods", "-n", namespace, "-l", selector)["items"]
        return [p for p in items if not p["metadata"].get("deletionTimestamp")]

    def wait(self, what, timeout: float = 60.0, interval: float = 0.2):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = what()
            if last:
                return last
            time.sleep(interval)
        raise AssertionError(f"timed out; last: {last!r}\n{self.server.log()[-3000:]}")


@pytest.fixture(scope="module")
def cluster():
    if not shutil.which("kubectl"):
        pytest.skip("kubectl is not installed")
    server = Server().start()
    kwok = Kwok(server).start([f"kwok-{os.getpid()}-{i}" for i in range(3)])
    try:
        yield Cluster(server, kwok)
    finally:  # the server goes even when kwok's stop fails: a leaked one would load the rest of the run
        try:
            kwok.stop()
        finally:
            server.cleanup()


@pytest.fixture
def ns(cluster, request):
    name = "c-" + "".join(c for c in request.node.name.lower().replace("_", "-") if c.isalnum() or c == "-")[:40]
    name = name.strip("-") + "-" + os.urandom(2).hex()
    cluster.kubectl("create", "namespace", name)
    cluster.server.wait_for(f"/api/v1/namespaces/{name}/serviceaccounts/default")  # pods' admission needs it
    yield name
    cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)
