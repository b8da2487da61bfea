"""Shared informers: a local cache of one resource kept current by list + watch.

An informer lists the collection (paged), then watches from the list's resourceVersion,
resuming a dropped stream from the last resourceVersion it saw (bookmarks included) and
relisting when the server says that version is gone (410 Expired). Each change is applied to
the cache first and then handed to the registered handlers, synchronously (handlers only
enqueue keys). Every `resync` seconds each cached object is handed to `on_update` again so
controllers get a periodic second look. A `SharedInformerFactory` gives every controller the
same informer per resource, so N controllers cost one watch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from skiff.cluster.apimachinery.selectors import LabelSelector
from skiff.cluster.client.errors import StatusError

log = logging.getLogger("skiff.informers")

Obj = dict[str, Any]
WATCH_TIMEOUT_SECONDS = 300  # each watch request ends after this; the informer resumes it


class ApiClient(Protocol):
    """What informers and controllers need of a client: `aio.AsyncClient` and `fake.FakeClient`."""

    async def get(self, path: str, **query: Any) -> dict: ...
    async def create(self, path: str, body: dict) -> dict: ...
    async def replace(self, path: str, body: dict) -> dict: ...
    async def merge_patch(self, path: str, patch: dict) -> dict: ...
    async def delete(self, path: str, body: dict | None = None) -> dict: ...
    def watch(self, path: str, **query: Any) -> Any: ...


def object_key(obj: Obj) -> str:
    """`namespace/name`, or `name` for cluster-scoped objects (client-go's MetaNamespaceKeyFunc)."""
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace") or ""
    return f"{ns}/{meta.get('name', '')}" if ns else meta.get("name", "")


def split_key(key: str) -> tuple[str, str]:
    ns, _, name = key.rpartition("/")
    return ns, name


@dataclass
class Handler:
    on_add: Callable[[Obj], None] | None = None
    on_update: Callable[[Obj, Obj], None] | None = None
    on_delete: Callable[[Obj], None] | None = None


class Informer:
    def __init__(self, client: ApiClient, path: str, resync: float = 0.0, label_selector: str = "",
                 page_size: int = 500):
        self.client = client
        self.path = path
        self.resync = resync
        self.label_selector = label_selector
        self.page_size = page_size
        self.cache: dict[str, Obj] = {}
        self.handlers: list[Handler] = []
        self.synced = asyncio.Event()
        self.resource_version = ""
        self.lists = 0  # how many times it listed (1 + relists), for tests and metrics

    # --- reading the cache ---------------------------------------------------------------
    def get(self, key: str) -> Obj | None:
        return self.cache.get(key)

    def list(self, namespace: str | None = None, selector: LabelSelector | None = None) -> list[Obj]:
        out = []
        for obj in self.cache.values():
            meta = obj.get("metadata") or {}
            if namespace is not None and meta.get("namespace", "") != namespace:
                continue
            if selector is not None and not selector.matches(meta.get("labels")):
                continue
            out.append(obj)
        return out

    def add_handler(self, on_add: Callable[[Obj], None] | None = None,
                    on_update: Callable[[Obj, Obj], None] | None = None,
                    on_delete: Callable[[Obj], None] | None = None) -> None:
        handler = Handler(on_add, on_update, on_delete)
        self.handlers.append(handler)
        for obj in list(self.cache.values()):  # a late handler sees what is already there
            if handler.on_add:
                handler.on_add(obj)

    # --- keeping it current ----------------------------------------------------------------
    async def run(self) -> None:
        resync = asyncio.create_task(self._resync_loop()) if self.resync > 0 else None
        delay = 0.2
        try:
            while True:
                try:
                    if not self.resource_version:
                        await self._list()
                    delay = 0.2
                    await self._watch()  # returns when the version is gone
                    self.resource_version = ""
                except asyncio.CancelledError:
                    raise
                except Exception as e:  # server down or restarting: back off, then resume the watch
                    log.debug("informer %s: %s; retrying in %.1fs", self.path, e, delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 10.0)
        finally:
            if resync is not None:
                resync.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await resync

    async def _list(self) -> None:
        items: list[Obj] = []
        token = ""
        while True:
            query: dict[str, Any] = {"limit": self.page_size}
            if token:
                query["continue"] = token
            if self.label_selector:
                query["labelSelector"] = self.label_selector
            page = await self.client.get(self.path, **query)
            items.extend(page.get("items") or [])
            token = (page.get("metadata") or {}).get("continue") or ""
            if not token:
                break
        self.lists += 1
        self.resource_version = (page.get("metadata") or {}).get("resourceVersion", "")
        kind = (page.get("kind") or "").removesuffix("List")
        fresh = {}
        for obj in items:
            if kind and "kind" not in obj:  # list items come without kind/apiVersion
                obj["kind"] = kind
                obj["apiVersion"] = page.get("apiVersion", "")
            fresh[object_key(obj)] = obj
        old = self.cache
        self.cache = fresh
        for key, obj in fresh.items():
            if key in old:
                self._dispatch_update(old[key], obj)
            else:
                self._dispatch_add(obj)
        for key, obj in old.items():
            if key not in fresh:
                self._dispatch_delete(obj)
        self.synced.set()

    async def _watch(self) -> None:
        """Watch until the server says our resourceVersion is gone (then return, to relist)."""
        while True:
            query: dict[str, Any] = {"resourceVersion": self.resource_version,
                                     "timeoutSeconds": WATCH_TIMEOUT_SECONDS}
            if self.label_selector:
                query["labelSelector"] = self.label_selector
            try:
                async for event in self.client.watch(self.path, **query):
                    if not self._apply(event):
                        return
            except StatusError as e:
                if e.code == 410:
                    return
                raise

    def _apply(self, event: dict) -> bool:
        kind, obj = event.get("type"), event.get("object") or {}
        if kind == "ERROR":
            if obj.get("code") == 410:
                log.debug("informer %s: %s; relisting", self.path, obj.get("message"))
                return False
            raise StatusError(int(obj.get("code") or 500), obj)
        rv = (obj.get("metadata") or {}).get("resourceVersion")
        if rv:
            self.resource_version = rv
        if kind == "BOOKMARK":
            return True
        key = object_key(obj)
        if kind == "DELETED":
            self.cache.pop(key, None)
            self._dispatch_delete(obj)
        else:
            old = self.cache.get(key)
            self.cache[key] = obj
            if old is None:
                self._dispatch_add(obj)
            else:
                self._dispatch_update(old, obj)
        return True

    async def _resync_loop(self) -> None:
        while True:
            await asyncio.sleep(self.resync)
            for obj in list(self.cache.values()):
                self._dispatch_update(obj, obj)

    def _dispatch_add(self, obj: Obj) -> None:
        for h in self.handlers:
            if h.on_add:
                _safely(h.on_add, obj)

    def _dispatch_update(self, old: Obj, new: Obj) -> None:
        for h in self.handlers:
            if h.on_update:
                _safely(h.on_update, old, new)

    def _dispatch_delete(self, obj: Obj) -> None:
        for h in self.handlers:
            if h.on_delete:
                _safely(h.on_delete, obj)


def _safely(fn: Callable[..., None], *args: Obj) -> None:
    try:
        fn(*args)
    except Exception:  # one broken handler must not stop the informer
        log.exception("informer handler failed")


class SharedInformerFactory:
    """One informer per resource path for all the controllers of a process."""

    def __init__(self, client: ApiClient, resync: float = 0.0):
        self.client = client
        self.resync = resync
        self.informers: dict[str, Informer] = {}
        self._tasks: list[asyncio.Task] = []

    def informer(self, path: str) -> Informer:
        if path not in self.informers:
            self.informers[path] = Informer(self.client, path, self.resync)
            if self._tasks:  # the factory already runs: start this one too
                self._tasks.append(asyncio.create_task(self.informers[path].run(), name=f"informer {path}"))
        return self.informers[path]

    def start(self) -> None:
        running = {t.get_name() for t in self._tasks}
        for path, inf in self.informers.items():
            if f"informer {path}" not in running:
                self._tasks.append(asyncio.create_task(inf.run(), name=f"informer {path}"))

    async def wait_for_sync(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(asyncio.gather(*(i.synced.wait() for i in self.informers.values())), timeout)

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self._tasks.clear()
