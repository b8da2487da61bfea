"""The etcd v3 Store, over etcd's gRPC-gateway JSON API (`/v3/kv/*`, `/v3/watch`).

Talking JSON over HTTP with aiohttp needs no generated protobuf code and no gRPC wheel,
and etcd ships the gateway on its client port (3.4 and later). Keys and values travel
base64-encoded; 64-bit numbers come back as strings. Compare-and-swap is a txn comparing
the key's mod_revision (or create_revision for creates), as the Kubernetes apiserver does.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson

from skiff.cluster.storage.cas import guaranteed_update
from skiff.cluster.storage.interface import (
    ADDED,
    DELETED,
    MODIFIED,
    Compacted,
    Event,
    FutureRevision,
    KeyExists,
    KeyNotFound,
    KeyValue,
    ListResult,
    RevisionConflict,
    StorageError,
    StoreClosed,
    UpdateFn,
)
from skiff.cluster.storage.keys import prefix_end_bytes

COMPACTED_MSG = "required revision has been compacted"
FUTURE_MSG = "required revision is a future revision"
# a request etcd has not answered by then fails (a watch has no limit: it waits for events)
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=30, connect=5)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _key(key: str) -> str:
    return _b64(key.encode())


def _kv(raw: dict[str, Any]) -> KeyValue:
    return KeyValue(
        base64.b64decode(raw["key"]).decode(),
        base64.b64decode(raw.get("value", "")),
        int(raw.get("create_revision", 0)),
        int(raw.get("mod_revision", 0)),
    )


def _exists(key: str) -> dict[str, Any]:
    return {"key": _key(key), "target": "CREATE", "result": "GREATER", "create_revision": "0"}


def _mod_is(key: str, rev: int) -> dict[str, Any]:
    return {"key": _key(key), "target": "MOD", "result": "EQUAL", "mod_revision": str(rev)}


class EtcdStore:
    def __init__(self, endpoints: list[str]):
        self._endpoints = [e.rstrip("/") for e in endpoints if e]
        if not self._endpoints:
            raise StorageError("no etcd endpoints")
        self._current = 0
        self._seen = 0  # the newest revision any response carried
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    def _http(self) -> aiohttp.ClientSession:
        if self._closed:
            raise StoreClosed()
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=None, connect=5, sock_read=None),
                connector=aiohttp.TCPConnector(limit=256),
            )
        return self._session

    async def _open(self, path: str, body: dict[str, Any],
                    timeout: aiohttp.ClientTimeout | None = None) -> aiohttp.ClientResponse:
        """POST to the first endpoint that accepts a connection."""
        last: Exception | None = None
        for i in range(len(self._endpoints)):
            idx = (self._current + i) % len(self._endpoints)
            try:
                resp = await self._http().post(self._endpoints[idx] + path, data=orjson.dumps(body),
                                               headers={"Content-Type": "application/json"},
                                               timeout=timeout or aiohttp.ClientTimeout(total=None, connect=5))
            except aiohttp.ClientConnectorError as e:  # nothing was sent: safe to try the next one
                last = e
                continue
            self._current = idx
            return resp
        raise StorageError(f"etcd unreachable at {', '.join(self._endpoints)}: {last}")

    async def _call(self, path: str, body: dict[str, Any], revision: int = 0) -> dict[str, Any]:
        try:
            async with await self._open(path, body, REQUEST_TIMEOUT) as resp:
                data = await resp.read()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as e:
            raise StorageError(f"etcd: {e or type(e).__name__}") from e
        out: dict[str, Any] = orjson.loads(data) if data else {}
        seen = int(out.get("header", {}).get("revision", 0))
        if seen > self._seen:
            self._seen = seen
        if status != 200:
            msg = str(out.get("message") or out.get("error") or data[:200])
            if COMPACTED_MSG in msg:
                raise Compacted(revision, revision + 1)
            if FUTURE_MSG in msg:
                raise FutureRevision(revision, 0)
            raise StorageError(f"etcd: {msg}")
        return out

    async def _txn(self, compare: list[dict[str, Any]], success: dict[str, Any], key: str) -> tuple[bool, dict[str, Any], Any]:
        """One compare-then-op txn; on failure the key's current value comes back."""
        out = await self._call("/v3/kv/txn", {
            "compare": compare,
            "success": [success],
            "failure": [{"request_range": {"key": _key(key)}}],
        })
        resp = out.get("responses", [{}])[0]
        return bool(out.get("succeeded")), out, resp

    # reads

    async def get(self, key: str, revision: int = 0) -> KeyValue:
        body: dict[str, Any] = {"key": _key(key)}
        if revision > 0:
            body["revision"] = str(revision)
        out = await self._call("/v3/kv/range", body, revision)
        kvs = out.get("kvs")
        if not kvs:
            raise KeyNotFound(key)
        return _kv(kvs[0])

    async def list(self, prefix: str, *, revision: int = 0, limit: int = 0, start_after: str = "") -> ListResult:
        start = (start_after + "\0").encode() if start_after and start_after >= prefix else (prefix.encode() or b"\0")
        body: dict[str, Any] = {"key": _b64(start), "range_end": _b64(prefix_end_bytes(prefix.encode()))}
        if revision > 0:
            body["revision"] = str(revision)
        if limit:
            body["limit"] = str(limit)
        out = await self._call("/v3/kv/range", body, revision)
        rev = revision if revision > 0 else int(out["header"]["revision"])
        return ListResult([_kv(k) for k in out.get("kvs", [])], rev, bool(out.get("more")))

    async def count(self, prefix: str) -> int:
        body = {"key": _b64(prefix.encode() or b"\0"), "range_end": _b64(prefix_end_bytes(prefix.encode())),
                "count_only": True}
        out = await self._call("/v3/kv/range", body)
        return int(out.get("count", 0))

    async def current_revision(self) -> int:
        out = await self._call("/v3/kv/range", {"key": _b64(b"\0"), "count_only": True})
        return int(out["header"]["revision"])

    # writes

    async def create(self, key: str, value: bytes) -> KeyValue:
        compare = [{"key": _key(key), "target": "CREATE", "result": "EQUAL", "create_revision": "0"}]
        ok, out, _ = await self._txn(compare, {"request_put": {"key": _key(key), "value": _b64(value)}}, key)
        if not ok:
            raise KeyExists(key)
        rev = int(out["header"]["revision"])
        return KeyValue(key, bytes(value), rev, rev)

    async def update(self, key: str, value: bytes, expected_mod_revision: int) -> KeyValue:
        put = {"request_put": {"key": _key(key), "value": _b64(value), "prev_kv": True}}
        ok, out, resp = await self._txn([_exists(key), _mod_is(key, expected_mod_revision)], put, key)
        if not ok:
            self._raise_failed(key, expected_mod_revision, resp)
        prev = _kv(resp["response_put"]["prev_kv"])
        return KeyValue(key, bytes(value), prev.create_revision, int(out["header"]["revision"]))

    async def guaranteed_update(self, key: str, fn: UpdateFn, *, ignore_not_found: bool = False) -> KeyValue:
        return await guaranteed_update(self, key, fn, ignore_not_found=ignore_not_found)

    async def delete(self, key: str, expected_mod_revision: int = 0) -> KeyValue:
        compare = [_exists(key)]
        if expected_mod_revision:
            compare.append(_mod_is(key, expected_mod_revision))
        op = {"request_delete_range": {"key": _key(key), "prev_kv": True}}
        ok, out, resp = await self._txn(compare, op, key)
        if not ok:
            self._raise_failed(key, expected_mod_revision, resp)
        prev = _kv(resp["response_delete_range"]["prev_kvs"][0])
        return KeyValue(key, prev.value, prev.create_revision, int(out["header"]["revision"]))

    @staticmethod
    def _raise_failed(key: str, expected: int, resp: dict[str, Any]) -> None:
        kvs = resp.get("response_range", {}).get("kvs")
        if not kvs:
            raise KeyNotFound(key)
        raise RevisionConflict(key, expected, _kv(kvs[0]))

    async def compact(self, revision: int) -> None:
        revision = min(revision, await self.current_revision())
        try:
            await self._call("/v3/kv/compaction", {"revision": str(revision), "physical": True}, revision)
        except Compacted:
            pass  # already compacted at or past this revision

    # watch

    def watch(self, prefix: str, from_revision: int) -> AsyncIterator[Event]:
        # "now" is the newest revision this client has seen, fixed when watch() is called
        return self._watch(prefix, from_revision if from_revision > 0 else self._seen)

    async def _watch(self, prefix: str, from_revision: int) -> AsyncIterator[Event]:
        if from_revision <= 0:
            from_revision = await self.current_revision()
        req = {"create_request": {
            "key": _b64(prefix.encode() or b"\0"),
            "range_end": _b64(prefix_end_bytes(prefix.encode())),
            "start_revision": str(from_revision + 1),
            "prev_kv": True,
        }}
        resp = await self._open("/v3/watch", req)
        try:
            if resp.status != 200:
                raise StorageError(f"etcd watch: {(await resp.read())[:200]!r}")
            async for msg in _json_lines(resp):
                if "error" in msg:
                    raise StorageError(f"etcd watch: {msg['error']}")
                result = msg.get("result", {})
                compact_rev = int(result.get("compact_revision", 0))
                if compact_rev:
                    raise Compacted(from_revision, compact_rev)
                if result.get("canceled"):
                    raise StorageError(f"etcd watch canceled: {result.get('cancel_reason', '')}")
                for raw in result.get("events", ()):
                    yield _event(raw)
            raise StorageError("etcd watch stream ended")
        except aiohttp.ClientError as e:  # etcd went away mid-stream: the caller resumes or gives up
            if self._closed:
                raise StoreClosed() from e
            raise StorageError(f"etcd watch: {e}") from e
        finally:
            resp.close()

    async def close(self) -> None:
        self._closed = True
        if self._session is not None:
            await self._session.close()
            self._session = None


async def _json_lines(resp: aiohttp.ClientResponse) -> AsyncIterator[dict[str, Any]]:
    """The gateway's stream: one JSON object per line, lines of any length."""
    buf = b""
    async for chunk in resp.content.iter_any():
        buf += chunk
        while (nl := buf.find(b"\n")) >= 0:
            line, buf = buf[:nl], buf[nl + 1:]
            if line.strip():
                yield orjson.loads(line)


def _event(raw: dict[str, Any]) -> Event:
    kv = _kv(raw["kv"])
    prev = _kv(raw["prev_kv"]) if raw.get("prev_kv") else None
    if raw.get("type") == "DELETE":
        last = prev or kv
        return Event(DELETED, KeyValue(kv.key, last.value, last.create_revision, kv.mod_revision), prev)
    if kv.create_revision == kv.mod_revision:
        return Event(ADDED, kv, None)
    return Event(MODIFIED, kv, prev)
