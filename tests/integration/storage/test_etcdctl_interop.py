"""The etcd backend against etcd's own client: what one writes the other reads and watches."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess

import pytest

from skiff.cluster.storage import Compacted, open_store
from tests.integration.storage.watching import take
from tests.support.procs import ok

pytestmark = pytest.mark.interop


def etcdctl(endpoint: str, *args: str) -> str:
    env = {**os.environ, "ETCDCTL_API": "3"}
    return ok(subprocess.run(["etcdctl", "--endpoints", endpoint, *args], capture_output=True, env=env, timeout=30))


def test_etcdctl_and_skiff_see_the_same_keys_events_and_compaction(etcd_server):
    if shutil.which("etcdctl") is None:
        pytest.skip("etcd-client is not installed")
    ep = etcd_server.endpoint
    prefix = "/interop/etcdctl/"

    async def main() -> None:
        s = open_store(ep, "")
        kv = await s.create(prefix + "from-skiff", b'{"kind":"ConfigMap"}')
        out = etcdctl(ep, "get", prefix, "--prefix", "-w", "json")
        assert f'"mod_revision":{kv.mod_revision}' in out.replace(" ", "")
        assert etcdctl(ep, "get", prefix + "from-skiff", "--print-value-only").strip() == '{"kind":"ConfigMap"}'

        watch = s.watch(prefix, kv.mod_revision)
        await asyncio.to_thread(etcdctl, ep, "put", prefix + "from-etcdctl", "hello")
        await asyncio.to_thread(etcdctl, ep, "del", prefix + "from-skiff")
        added, deleted = await take(watch, 2)
        assert (added.type, added.kv.key, added.kv.value) == ("ADDED", prefix + "from-etcdctl", b"hello")
        assert (deleted.type, deleted.kv.key, deleted.kv.value) == ("DELETED", prefix + "from-skiff",
                                                                    b'{"kind":"ConfigMap"}')
        await watch.aclose()  # type: ignore[attr-defined]

        await asyncio.to_thread(etcdctl, ep, "compact", str(deleted.kv.mod_revision))
        with pytest.raises(Compacted):
            await s.list(prefix, revision=kv.mod_revision)
        assert [k.key for k in (await s.list(prefix)).items] == [prefix + "from-etcdctl"]
        await s.close()

    asyncio.run(asyncio.wait_for(main(), 60))
