"""Watch: a chunked stream of JSON lines `{"type": ..., "object": ...}`.

Starts from a resourceVersion (events after it), or for "" / "0" with the current objects as
ADDED events first. Selectors turn MODIFIED into ADDED or DELETED when an object enters or
leaves the selection, as the watch cache does. Bookmarks carry the last revision sent; a
compacted start revision ends the stream with an ERROR event holding a 410 Status.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
from aiohttp import web

from skiff.cluster.apimachinery.errors import ApiError, bad_request, expired
from skiff.cluster.apiserver import views
from skiff.cluster.apiserver.call import Call
from skiff.cluster.apiserver.filtering import Predicate, predicate
from skiff.cluster.apiserver.objects import decode
from skiff.cluster.apiserver.reads import parse_rv
from skiff.cluster.storage.interface import ADDED, DELETED, MODIFIED, Compacted, Event

ALIVE_CHECK = 5.0  # seconds between checks that a quiet watcher is still connected
SHARED_LINES = 8192  # serialized events kept for other watchers of the same resource
MAX_BUFFERED = 50_000  # events a watcher may fall behind before its stream is ended


def classify(ev: Event, pred: Predicate) -> tuple[str, dict[str, Any]] | None:
    """The event a watcher with this selection sees, or None."""
    obj = decode(ev.kv)
    if pred.everything:
        return ev.type, obj
    now = pred.matches(obj)
    if ev.type == DELETED:
        return (DELETED, obj) if now else None
    before = ev.prev is not None and ev.type == MODIFIED and pred.matches(decode(ev.prev))
    if now and before:
        return MODIFIED, obj
    if now:
        return ADDED, obj
    if before:
        return DELETED, obj
    return None


class Watcher:
    def __init__(self, call: Call, request: web.Request):
        self.call = call
        self.request = request
        self.pred = predicate(call.res, call.query.get("labelSelector", ""), call.query.get("fieldSelector", ""))
        if call.info.name:  # a watch on one object's path (the deprecated /watch/ form's equivalent)
            self.pred = predicate(call.res, call.query.get("labelSelector", ""),
                                  ",".join(filter(None, [call.query.get("fieldSelector", ""),
                                                          f"metadata.name={call.info.name}"])))
        self.bookmarks = call.query.get("allowWatchBookmarks", "") in ("true", "1")
        timeout = call.int_param("timeoutSeconds")
        floor = call.ctx.settings.min_watch_timeout
        self.timeout = float(timeout) if timeout and timeout > 0 else float(random.randint(floor, 2 * floor))
        self.last_rv = 0
        self.resp: web.StreamResponse | None = None
        self.sent_columns = False
        self.own_bookmarks = False  # True when the store sends no progress events of its own
        self.version = call.res.group_version  # part of the shared-line key, asked per event

    async def _send(self, type_: str, obj: dict[str, Any]) -> None:
        assert self.resp is not None
        await self.resp.write(orjson.dumps({"type": type_, "object": obj}) + b"\n")

    def _obj_line(self, type_: str, obj: dict[str, Any]) -> bytes:
        rendered = views.render_one(self.call, obj)
        if rendered.get("kind") == "Table" and self.sent_columns:
            rendered["columnDefinitions"] = []  # upstream sends the columns once per watch
        self.sent_columns = True
        return orjson.dumps({"type": type_, "object": rendered}) + b"\n"

    def _bookmark_line(self, annotations: dict[str, str] | None = None) -> bytes:
        meta: dict[str, Any] = {"resourceVersion": str(self.last_rv)}
        if annotations:
            meta["annotations"] = annotations
        return orjson.dumps({"type": "BOOKMARK", "object": {
            "kind": self.call.res.kind, "apiVersion": self.call.res.group_version, "metadata": meta}}) + b"\n"

    async def _start(self) -> tuple[list[dict[str, Any]], int]:
        """Initial objects to send as ADDED, and the revision to watch from."""
        rv_text = self.call.query.get("resourceVersion", "")
        send_initial = self.call.query.get("sendInitialEvents", "")
        if send_initial == "true" and rv_text not in ("", "0") and \
                self.call.query.get("resourceVersionMatch", "") != "NotOlderThan":
            raise bad_request("sendInitialEvents=true requires resourceVersionMatch=NotOlderThan")
        if rv_text not in ("", "0") and send_initial != "true":
            return [], parse_rv(rv_text)
        if send_initial == "false":
            return [], await self.call.ctx.objects.current_revision()
        result = await self.call.ctx.objects.list(self.call.prefix, min_revision=0 if rv_text == "0" else None)
        objs = [o for o in (decode(kv) for kv in result.items) if self.pred.everything or self.pred.matches(o)]
        return objs, result.revision

    async def serve(self) -> web.StreamResponse:
        ctx = self.call.ctx
        initial, from_rev = await self._start()
        self.resp = web.StreamResponse(status=200, headers={"Content-Type": "application/json",
                                                            "Cache-Control": "no-cache, private"})
        self.resp.enable_chunked_encoding()
        await self.resp.prepare(self.request)
        ctx.metrics.watch_opened(self.call.res.group, self.call.res.plural)
        interval = ctx.settings.bookmark_interval if self.bookmarks else 0.0
        events = ctx.objects.watch_batches(self.call.prefix, from_rev, interval)
        self.own_bookmarks = self.bookmarks and not ctx.objects.cached
        try:
            self.last_rv = from_rev
            first = [self._obj_line(ADDED, obj) for obj in initial]
            if self.call.query.get("sendInitialEvents") == "true" and self.bookmarks:
                first.append(self._bookmark_line({"k8s.io/initial-events-end": "true"}))
            await self._write(first)
            await self._follow(events)
        except Compacted as e:
            await self._send("ERROR", expired(f"too old resource version: {from_rev} ({e.compact_revision})")
                             .status())
        except ApiError as e:
            await self._send("ERROR", e.status())
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            ctx.metrics.watch_closed(self.call.res.group, self.call.res.plural)
            await _close(events)
        return self.resp

    async def _follow(self, events: AsyncIterator[list[Event]]) -> None:
        """Send events until the timeout, the client leaves, or the store ends the stream.

        One pump task per watcher reads the store's events into a buffer; this loop sends what
        has gathered as one write, so a burst costs one write per watcher, not one per event."""
        deadline = time.monotonic() + self.timeout
        interval = self.call.ctx.settings.bookmark_interval
        next_bookmark = time.monotonic() + interval
        buf: list[Event] = []
        wake = asyncio.Event()
        failed: list[BaseException] = []

        async def pump() -> None:
            try:
                async for batch in events:
                    buf.extend(batch)
                    wake.set()
            except Exception as e:  # Compacted, a closed store: reported after what came before
                failed.append(e)
            finally:
                failed.append(StopAsyncIteration())
                wake.set()

        pumping = asyncio.ensure_future(pump())
        ctx = self.call.ctx
        ctx.watch_wakers.add(wake)
        try:
            while True:
                now = time.monotonic()
                if now >= deadline or self._gone() or ctx.stopping:
                    return
                if not buf and not failed:
                    wake.clear()
                    until = min(deadline, next_bookmark if self.own_bookmarks else deadline)
                    try:
                        async with asyncio.timeout(max(0.0, min(until - now, ALIVE_CHECK))):
                            await wake.wait()
                    except TimeoutError:
                        if self.own_bookmarks and time.monotonic() >= next_bookmark:
                            await self._write([self._bookmark_line()])
                            next_bookmark = time.monotonic() + interval
                        continue
                if len(buf) > MAX_BUFFERED:
                    return  # a client this far behind re-lists, as upstream ends a slow watcher
                batch = buf[:]
                del buf[:]
                await self._write(self._lines(batch))
                if failed and not buf:
                    if not isinstance(failed[0], StopAsyncIteration):
                        raise failed[0]
                    return
        finally:
            ctx.watch_wakers.discard(wake)
            pumping.cancel()

    def _lines(self, batch: list[Event]) -> list[bytes]:
        out: list[bytes] = []
        plain = self.plain  # once per batch: it is asked for every event of every watcher
        for ev in batch:
            self.last_rv = max(self.last_rv, ev.revision)
            if ev.type == "BOOKMARK":
                if self.bookmarks:
                    out.append(self._bookmark_line())
            elif plain:
                out.append(self._line(ev))
            else:
                seen = classify(ev, self.pred)
                if seen is not None:
                    out.append(self._obj_line(*seen))
        return out

    async def _write(self, lines: list[bytes]) -> None:
        if lines:
            assert self.resp is not None
            await self.resp.write(b"".join(lines))

    @property
    def plain(self) -> bool:
        """Every event, as stored: the same bytes for every such watcher, serialized once."""
        return self.pred.everything and not self.call.wanted.as_kind

    def _line(self, ev: Event) -> bytes:
        lines = self.call.ctx.event_lines
        key = (ev.type, ev.kv.key, ev.kv.mod_revision, self.version)
        line = lines.get(key)
        if line is None:
            obj = self.call.stamp(decode(ev.kv))
            line = lines[key] = orjson.dumps({"type": ev.type, "object": obj}) + b"\n"
            if len(lines) > SHARED_LINES:
                lines.popitem(last=False)
        return line

    def _gone(self) -> bool:
        transport = self.request.transport
        return transport is None or transport.is_closing()


async def _close(events: AsyncIterator[Any]) -> None:
    aclose = getattr(events, "aclose", None)
    if aclose is not None:
        try:
            await aclose()
        except (RuntimeError, Exception):  # a generator cancelled mid-step may refuse to close twice
            pass


async def watch(call: Call, request: web.Request) -> web.StreamResponse:
    return await Watcher(call, request).serve()
