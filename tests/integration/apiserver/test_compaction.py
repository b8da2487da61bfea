"""410 Gone after compaction, served in-process (memory store, no watch cache) so the test can compact."""

from __future__ import annotations

import asyncio
import json

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from skiff.cluster.apiserver import lifecycle
from skiff.cluster.apiserver.app import make_app
from skiff.cluster.server import build_context
from skiff.cluster.serverflags import ServerOptions
from skiff.cluster.storage import open_store

AUTH = {"Authorization": "Bearer test-token"}


async def _scenario() -> dict:
    store = open_store("memory://", "")
    ctx = build_context(ServerOptions(token="test-token"), store)
    await lifecycle.bootstrap(ctx)
    server = TestServer(make_app(ctx))
    await server.start_server()
    base = str(server.make_url("/api/v1/namespaces/default/configmaps"))
    out: dict = {}
    try:
        async with ClientSession(headers=AUTH) as http:
            start = await store.current_revision()
            for i in range(4):
                body = {"metadata": {"name": f"c{i}"}, "data": {"i": str(i)}}
                async with http.post(base, json=body) as r:
                    assert r.status == 201, await r.text()
            async with http.get(base, params={"limit": "2"}) as r:
                token = (await r.json())["metadata"]["continue"]
            async with http.post(base, json={"metadata": {"name": "late"}}) as r:
                assert r.status == 201
            await store.compact(await store.current_revision())
            async with http.get(base, params={"watch": "1", "resourceVersion": str(start)}) as r:
                out["watch_status"] = r.status
                out["watch_events"] = [json.loads(line) for line in (await r.text()).splitlines() if line]
            async with http.get(base, params={"limit": "2", "continue": token}) as r:
                out["continue"] = (r.status, await r.json())
            async with http.get(base, params={"resourceVersion": str(start), "resourceVersionMatch": "Exact"}) as r:
                out["exact"] = (r.status, await r.json())
            async with http.get(base) as r:
                out["after"] = (r.status, len((await r.json())["items"]))
    finally:
        await server.close()
        await store.close()
    return out


def test_compacted_revisions_answer_410():
    out = asyncio.run(_scenario())
    assert out["watch_status"] == 200
    error = out["watch_events"][-1]
    assert error["type"] == "ERROR"
    assert error["object"]["code"] == 410 and error["object"]["reason"] == "Expired"
    assert "too old resource version" in error["object"]["message"]
    status, body = out["continue"]
    assert status == 410 and "continue parameter is too old" in body["message"]
    status, body = out["exact"]
    assert status == 410 and body["reason"] == "Expired"
    assert out["after"] == (200, 5)
