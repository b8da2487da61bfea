"""An in-memory API client for unit tests of informers and controllers.

It answers the same calls as `aio.AsyncClient` (get/list, create, replace, merge_patch, delete,
watch) on the same paths, keeps objects with resourceVersions, uids, generations and
generateName like the API server does, honours `labelSelector` on lists and watches, keeps
the status subresource apart from the main resource, and records every write in `actions`
so tests can assert what a reconcile did. `expire(rv)` makes watches from older versions
fail with 410, and `fail(verb, path_prefix, code)` injects an error.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import re
from collections.abc import AsyncIterator
from typing import Any

from skiff.cluster.apimachinery.meta import generate_name, new_uid, now_rfc3339
from skiff.cluster.apimachinery.patch import json_merge_patch
from skiff.cluster.apimachinery.selectors import LabelSelector
from skiff.cluster.client.errors import StatusError

_PREFIX = re.compile(r"^(/api/v1|/apis/[^/]+/[^/]+)/(.*)$")
Key = tuple[str, str, str, str]  # (group-version prefix, plural, namespace, name)


def parse_path(path: str) -> tuple[str, str, str | None, str | None, str | None]:
    """(prefix, plural, namespace or None, name or None, subresource or None)."""
    m = _PREFIX.match(path.split("?", 1)[0])
    if not m:
        raise StatusError(404, _status(404, "NotFound", f"the server could not find the requested resource ({path})"))
    prefix, rest = m.group(1), [p for p in m.group(2).split("/") if p]
    ns = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        ns, rest = rest[1], rest[2:]
    plural = rest[0]
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else None
    return prefix, plural, ns, name, sub


def _status(code: int, reason: str, message: str) -> dict:
    return {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code, "reason": reason,
            "message": message}


class FakeClient:
    def __init__(self) -> None:
        self.objects: dict[Key, dict] = {}
        self.history: list[tuple[int, str, Key, dict]] = []
        self.revision = itertools.count(1)
        self.rv = 0
        self.compacted = 0
        self.actions: list[tuple[str, str]] = []
        self._errors: list[tuple[str, str, int]] = []
        self._changed = asyncio.Event()
        self.closed = False
        self._epoch = 0

    # --- test controls -----------------------------------------------------------------------
    def expire(self, before_rv: int | None = None) -> None:
        """Watches from versions before this one get 410 Gone (as after a compaction)."""
        self.compacted = self.rv if before_rv is None else before_rv
        self.end_watches()

    def end_watches(self) -> None:
        """Close every open watch stream (as a server restart does)."""
        self._epoch += 1
        self._wake()

    def fail(self, verb: str, path_prefix: str, code: int = 500) -> None:
        """The next `verb` on a path starting with `path_prefix` fails with `code`."""
        self._errors.append((verb, path_prefix, code))

    def writes(self, verb: str | None = None, plural: str | None = None) -> list[tuple[str, str]]:
        return [(v, p) for v, p in self.actions
                if (verb is None or v == verb) and (plural is None or parse_path(p)[1] == plural)]

    def seed(self, path: str, obj: dict) -> dict:
        """Store an object without recording an action (test set-up)."""
        out = self._create(path, obj)
        return out

    def stop(self) -> None:
        self.closed = True
        self._wake()

    # --- the client calls --------------------------------------------------------------------
    async def get(self, path: str, **query: Any) -> dict:
        self._maybe_fail("get", path)
        prefix, plural, ns, name, sub = parse_path(path)
        if name is None:
            return self._list(prefix, plural, ns, query.get("labelSelector") or "")
        return copy.deepcopy(self._existing(prefix, plural, ns, name))

    async def create(self, path: str, body: dict) -> dict:
        self._maybe_fail("create", path)
        self.actions.append(("create", path))
        return self._create(path, body)

    async def replace(self, path: str, body: dict) -> dict:
        self._maybe_fail("replace", path)
        self.actions.append(("replace", path))
        prefix, plural, ns, name, sub = parse_path(path)
        old = self._existing(prefix, plural, ns, name or "")
        want_rv = (body.get("metadata") or {}).get("resourceVersion")
        if want_rv and want_rv != old["metadata"]["resourceVersion"]:
            raise StatusError(409, _status(409, "Conflict", f'Operation cannot be fulfilled on {plural} "{name}": '
                                           "the object has been modified; please apply your changes to the "
                                           "latest version and try again"))
        return self._store_update(prefix, plural, ns, name or "", old, copy.deepcopy(body), sub)

    async def merge_patch(self, path: str, patch: dict) -> dict:
        self._maybe_fail("patch", path)
        self.actions.append(("patch", path))
        prefix, plural, ns, name, sub = parse_path(path)
        old = self._existing(prefix, plural, ns, name or "")
        new = json_merge_patch(copy.deepcopy(old), patch)
        return self._store_update(prefix, plural, ns, name or "", old, new, sub)

    async def delete(self, path: str, body: dict | None = None) -> dict:
        self._maybe_fail("delete", path)
        self.actions.append(("delete", path))
        prefix, plural, ns, name, _ = parse_path(path)
        old = self._existing(prefix, plural, ns, name or "")
        del self.objects[(prefix, plural, ns or "", name or "")]
        gone = copy.deepcopy(old)
        gone["metadata"]["resourceVersion"] = str(self._bump())
        self._record("DELETED", (prefix, plural, ns or "", name or ""), gone)
        return copy.deepcopy(gone)

    async def watch(self, path: str, **query: Any) -> AsyncIterator[dict]:
        prefix, plural, ns, _, _ = parse_path(path)
        selector = LabelSelector.parse(query.get("labelSelector") or "")
        since = int(query.get("resourceVersion") or 0)
        if since and since < self.compacted:
            yield {"type": "ERROR", "object": _status(410, "Expired", f"too old resource version: {since} "
                                                                       f"({self.compacted})")}
            return
        seen = since
        epoch = self._epoch
        while not self.closed and epoch == self._epoch:
            for rv, kind, key, obj in self.history:
                if rv <= seen:
                    continue
                seen = rv
                if key[:2] != (prefix, plural) or (ns is not None and key[2] != ns):
                    continue
                if selector.matches((obj.get("metadata") or {}).get("labels")):
                    yield {"type": kind, "object": copy.deepcopy(obj)}
            self._changed.clear()
            await self._changed.wait()

    async def close(self) -> None:
        self.stop()

    # --- storage -------------------------------------------------------------------------------
    def _maybe_fail(self, verb: str, path: str) -> None:
        for i, (v, prefix, code) in enumerate(self._errors):
            if v == verb and path.startswith(prefix):
                del self._errors[i]
                raise StatusError(code, _status(code, "InternalError" if code == 500 else "Injected",
                                                f"injected {verb} failure"))

    def _bump(self) -> int:
        self.rv = next(self.revision)
        return self.rv

    def _wake(self) -> None:
        self._changed.set()

    def _record(self, kind: str, key: Key, obj: dict) -> None:
        self.history.append((self.rv, kind, key, copy.deepcopy(obj)))
        self._wake()

    def _existing(self, prefix: str, plural: str, ns: str | None, name: str) -> dict:
        obj = self.objects.get((prefix, plural, ns or "", name))
        if obj is None:
            raise StatusError(404, _status(404, "NotFound", f'{plural} "{name}" not found'))
        return obj

    def _list(self, prefix: str, plural: str, ns: str | None, selector_text: str) -> dict:
        selector = LabelSelector.parse(selector_text)
        items = [copy.deepcopy(o) for k, o in sorted(self.objects.items())
                 if k[:2] == (prefix, plural) and (ns is None or k[2] == ns)
                 and selector.matches((o.get("metadata") or {}).get("labels"))]
        api_version = prefix.removeprefix("/api/").removeprefix("/apis/")
        kind = items[0].get("kind", "") if items else ""
        return {"kind": f"{kind}List" if kind else "List", "apiVersion": api_version,
                "metadata": {"resourceVersion": str(self.rv)}, "items": items}

    def _create(self, path: str, body: dict) -> dict:
        prefix, plural, ns, _, _ = parse_path(path)
        obj = copy.deepcopy(body)
        meta = obj.setdefault("metadata", {})
        if not meta.get("name"):
            if not meta.get("generateName"):
                raise StatusError(422, _status(422, "Invalid", "name or generateName is required"))
            meta["name"] = generate_name(meta["generateName"])
        if ns is not None:
            meta["namespace"] = ns
        key = (prefix, plural, ns or "", meta["name"])
        if key in self.objects:
            raise StatusError(409, _status(409, "AlreadyExists", f'{plural} "{meta["name"]}" already exists'))
        meta["uid"] = new_uid()
        meta["creationTimestamp"] = now_rfc3339()
        meta["generation"] = 1
        meta["resourceVersion"] = str(self._bump())
        self.objects[key] = obj
        self._record("ADDED", key, obj)
        return copy.deepcopy(obj)

    def _store_update(self, prefix: str, plural: str, ns: str | None, name: str, old: dict, new: dict,
                      sub: str | None) -> dict:
        if sub == "status":  # only status changes through the status subresource
            merged = copy.deepcopy(old)
            merged["status"] = new.get("status")
            new = merged
        elif "status" in old:  # and status does not change through the main resource
            new["status"] = copy.deepcopy(old["status"])
        meta = new.setdefault("metadata", {})
        for field in ("uid", "creationTimestamp", "namespace", "name"):
            if field in old["metadata"]:
                meta[field] = old["metadata"][field]
        meta["generation"] = old["metadata"].get("generation", 1) + (1 if new.get("spec") != old.get("spec") else 0)
        meta["resourceVersion"] = str(self._bump())
        key = (prefix, plural, ns or "", name)
        self.objects[key] = new
        self._record("MODIFIED", key, new)
        return copy.deepcopy(new)
