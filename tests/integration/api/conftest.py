"""A `FakeEngine`: the real API app over in-memory services, served on a temp unix socket
from a background thread."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest
from aiohttp import web

from skiff.engine.api.app import build_app
from skiff.engine.api.context import EngineContext
from skiff.engine.events import EventBus
from tests.integration.api.fakes import FakeContainers, FakeImages, FakeVolumes
from tests.support.engine import docker_env, request


class FakeEngine:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="skiff-api-"))
        self.socket = str(self.root / "api.sock")
        self.host = "unix://" + self.socket
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.ctx: EngineContext | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        self._ready.set()
        self.loop.run_forever()

    async def _start(self) -> None:
        events = EventBus()
        images = FakeImages()
        self.ctx = EngineContext(images=images, containers=FakeContainers(images, events), volumes=FakeVolumes(),
                                 events=events, data_root=str(self.root / "data"), engine_id="fake")
        self.runner = web.AppRunner(build_app(self.ctx), access_log=None, handler_cancellation=True,
                                    shutdown_timeout=0.5)
        await self.runner.setup()
        await web.UnixSite(self.runner, self.socket).start()

    def start(self) -> FakeEngine:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        shutil.rmtree(self.root, ignore_errors=True)

    @property
    def env(self) -> dict[str, str]:
        return docker_env(self.host, self.root)

    def docker(self, *args: str, input: bytes | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
        return subprocess.run(["docker", *args], env=self.env, input=input, capture_output=True, timeout=timeout)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        return request(self.socket, method, path, body, headers)


@pytest.fixture
def api():
    eng = FakeEngine().start()
    yield eng
    eng.stop()
