"""create, update and patch: body → checks → defaults → admission → validation → storage."""

from __future__ import annotations

import copy
import re
from collections.abc import Awaitable, Callable
from typing import Any

from skiff.cluster.api import schema, strategy
from skiff.cluster.apimachinery.errors import (
    ApiError,
    already_exists,
    bad_request,
    conflict,
    invalid,
    not_found,
    unsupported_media_type,
)
from skiff.cluster.apimachinery.fieldschema import SchemaNode
from skiff.cluster.apiserver import objectmeta, services, views
from skiff.cluster.apiserver.admission import Attributes
from skiff.cluster.apiserver.call import Call
from skiff.cluster.apiserver.negotiation import PATCH_TYPES, decode_body, media_type, require_object
from skiff.cluster.apiserver.objects import decode, encode, list_prefix
from skiff.cluster.apiserver.versions import to_storage
from skiff.cluster.storage.interface import KeyExists, KeyNotFound, RevisionConflict

MAX_RETRIES = 16


def _managed(old: dict[str, Any] | None, new: dict[str, Any], manager: str, operation: str,
             subresource: str = "") -> None:
    from skiff.cluster.apimachinery import apply  # imported on first write: keeps start-up fast

    # an entry per (manager, operation, subresource), as upstream: `kubectl scale` owns
    # spec.replicas "with subresource scale", and apply conflicts name it so
    apply.update_managed_fields(old, new, manager, operation, subresource=subresource)


Compute = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


def kind_schema(call: Call) -> SchemaNode:
    """Merge keys and strategies of the kind, for strategic merge patch and apply."""
    return schema.node_for(call.res.definition)


def check_fields(call: Call, obj: dict[str, Any]) -> None:
    """Types, and fieldValidation: Strict refuses unknown fields, Warn reports them in Warning headers.
    Either way an unknown field is then dropped, as decoding into the Go type drops it."""
    mode = call.field_validation
    warnings = strategy.decode_check(call.res, obj, mode)
    for text in warnings:
        call.warn(text)
    if warnings or mode == "Ignore":  # Strict raised already; Warn with no warnings found nothing
        for path in strategy.unknown_fields(call.res, obj):
            drop_path(obj, path)


_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def drop_path(obj: Any, path: str) -> None:
    """Remove the field at 'spec.containers[0].containersPort' (a path as unknown_fields gives it)."""
    steps: list[str | int] = [int(i) if i else name for name, i in _STEP.findall(path.lstrip("."))]
    node = obj
    for step in steps[:-1]:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return
    if isinstance(node, dict) and isinstance(steps[-1], str):
        node.pop(steps[-1], None)


def _validate(call: Call, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
    causes = strategy.validate(call.res, obj, old)
    if causes:
        raise invalid(call.res.kind, (obj.get("metadata") or {}).get("name", ""), causes, call.res.group)


def _attrs(call: Call, operation: str, obj: dict[str, Any], old: dict[str, Any] | None) -> Attributes:
    return Attributes(operation, call.res, call.info.subresource, call.namespace,
                      (obj.get("metadata") or {}).get("name", ""), obj, old, call.dry_run, call.user)


async def create(call: Call) -> tuple[int, dict[str, Any]]:
    obj = require_object(decode_body(call.body, call.content_type, call.res.kind), call.res.kind)
    objectmeta.check_type(call.res, obj)
    check_fields(call, obj)
    return await create_object(call, obj, managed=True)


async def create_object(call: Call, obj: dict[str, Any], managed: bool) -> tuple[int, dict[str, Any]]:
    """Store a new object (the body of a POST, or the result of an apply to a missing object)."""
    res = call.res
    objectmeta.check_namespace(res, obj, call.info.namespace)
    objectmeta.fill_on_create(res, obj)
    strategy.prepare_for_create(res, obj)
    await call.ctx.admission.admit(_attrs(call, "CREATE", obj, None))
    if not _is_service(call):
        return await _store_new(call, obj, managed)
    async with call.ctx.service_lock:  # allocate-and-store as one step: no address handed out twice
        listed = await call.ctx.objects.list(list_prefix("", "services", ""))
        used_ips, used_ports = services.taken([decode(kv) for kv in listed.items])
        services.allocate(obj, call.ctx.settings.service_cidr, used_ips, used_ports)
        return await _store_new(call, obj, managed)


def _is_service(call: Call) -> bool:
    return call.res.group == "" and call.res.kind == "Service"


async def _store_new(call: Call, obj: dict[str, Any], managed: bool) -> tuple[int, dict[str, Any]]:
    _validate(call, obj, None)
    namespace = obj["metadata"].get("namespace", "") if call.res.namespaced else ""
    if namespace and not call.dry_run and await call.ctx.list_objects("", "resourcequotas", namespace):
        async with call.ctx.quota_lock(namespace):  # quota admission counts what is stored: one at a time
            return await _admit_and_store(call, obj, managed)
    return await _admit_and_store(call, obj, managed)


async def _admit_and_store(call: Call, obj: dict[str, Any], managed: bool) -> tuple[int, dict[str, Any]]:
    res = call.res
    await call.ctx.admission.validate(_attrs(call, "CREATE", obj, None))
    if managed:
        _managed(None, obj, call.field_manager, "Update")
    name = obj["metadata"]["name"]
    if call.dry_run:
        return 201, views.render_one(call, obj)
    try:
        key = call.key_for(obj["metadata"].get("namespace", ""), name)
        stored = to_storage(res, obj)
        kv = await call.ctx.objects.create(key, encode(stored))
    except KeyExists:
        raise already_exists(res.plural, name, res.group) from None
    if stored is obj:  # no conversion: what was stored is obj itself, no need to decode it again
        obj["metadata"]["resourceVersion"] = str(kv.mod_revision)
        return 201, views.render_one(call, obj)
    return 201, views.render_one(call, decode(kv))


async def commit_update(call: Call, compute: Compute, *, precondition: str = "", subresource: str = "",
                        managed_op: str = "Update", view: Callable[[dict[str, Any]], dict[str, Any]] | None = None
                        ) -> tuple[int, dict[str, Any]]:
    """Read, compute the new object, check and write it with compare-and-swap. `precondition` is
    the resourceVersion the client sent (in the body or the patch): then a stale read is 409
    Conflict; without one a lost race is retried with the fresh object, as upstream."""
    if _is_service(call) and not subresource:
        async with call.ctx.service_lock:  # a new port may need a node port: allocate-and-store
            return await _commit_update(call, compute, precondition, subresource, managed_op, view)
    return await _commit_update(call, compute, precondition, subresource, managed_op, view)


def patch_precondition(kind: str, data: Any) -> str:
    """The resourceVersion a patch itself sets, which makes it conditional."""
    if isinstance(data, dict):
        return str((data.get("metadata") or {}).get("resourceVersion") or "")
    if isinstance(data, list):
        for op in data:
            if isinstance(op, dict) and op.get("path") == "/metadata/resourceVersion" and \
                    op.get("op") in ("add", "replace", "test"):
                return str(op.get("value") or "")
    return ""


def body_precondition(body: dict[str, Any]) -> str:
    return str((body.get("metadata") or {}).get("resourceVersion") or "")


async def _service_allocations(call: Call, new: dict[str, Any], old: dict[str, Any]) -> None:
    services.carry_on_update(new, old)
    listed = await call.ctx.objects.list(list_prefix("", "services", ""))
    used_ips, used_ports = services.taken([decode(kv) for kv in listed.items if kv.key != call.key])
    services.allocate(new, call.ctx.settings.service_cidr, used_ips, used_ports)


async def _commit_update(call: Call, compute: Compute, precondition: str, subresource: str, managed_op: str,
                         view: Callable[[dict[str, Any]], dict[str, Any]] | None) -> tuple[int, dict[str, Any]]:
    res, ctx = call.res, call.ctx
    render = view or (lambda obj: views.render_one(call, obj))
    for _ in range(MAX_RETRIES):
        try:
            kv = await ctx.objects.get(call.key)
        except KeyNotFound:
            raise not_found(res.plural, call.info.name, res.group) from None
        old = call.stamp(decode(kv))  # patches, admission and validation see the request's version
        new = await compute(copy.deepcopy(old))
        new_meta = new.setdefault("metadata", {})
        wanted_rv = precondition
        if wanted_rv and wanted_rv != str(kv.mod_revision):
            raise conflict(res.plural, call.info.name, group=res.group)
        objectmeta.check_type(res, new)
        objectmeta.check_namespace(res, new, old["metadata"].get("namespace", ""))
        objectmeta.carry_on_update(res, new, old)
        if not subresource:
            strategy.prepare_for_update(res, new, old)
            if _is_service(call):
                await _service_allocations(call, new, old)
        await ctx.admission.admit(_attrs(call, "UPDATE", new, old))
        _validate(call, new, old)
        await ctx.admission.validate(_attrs(call, "UPDATE", new, old))
        new_meta["resourceVersion"] = old["metadata"]["resourceVersion"]
        if new == old:
            return 200, render(old)  # a no-op writes nothing, as upstream
        if managed_op:
            _managed(old, new, call.field_manager, managed_op, subresource)
        if call.dry_run:
            return 200, render(new)
        try:
            if objectmeta.finished_deleting(new):
                gone = await ctx.objects.delete(call.key, kv.mod_revision)
                return 200, render(decode(gone))
            stored = await ctx.objects.store.update(call.key, encode(to_storage(res, new)), kv.mod_revision)
        except (RevisionConflict, KeyNotFound):
            if wanted_rv:
                raise conflict(res.plural, call.info.name, group=res.group) from None
            continue
        return 200, render(decode(stored))
    raise conflict(res.plural, call.info.name, "too many concurrent updates, try again", res.group)


async def update(call: Call) -> tuple[int, dict[str, Any]]:
    body = require_object(decode_body(call.body, call.content_type, call.res.kind), call.res.kind)
    objectmeta.check_type(call.res, body)
    check_fields(call, body)
    if (body.get("metadata") or {}).get("name") != call.info.name:
        raise bad_request(f'the name of the object ({(body.get("metadata") or {}).get("name", "")}) does not '
                          f"match the name on the URL ({call.info.name})")
    sub = call.info.subresource

    async def compute(old: dict[str, Any]) -> dict[str, Any]:
        new = copy.deepcopy(body)
        return _status_only(call, new, old) if sub == "status" else new

    return await commit_update(call, compute, precondition=body_precondition(body), subresource=sub)


def _status_only(call: Call, new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    strategy.prepare_for_status_update(call.res, new, old)
    return new


def patched(call: Call, kind: str, old: dict[str, Any], data: Any) -> dict[str, Any]:
    from skiff.cluster.apimachinery import patch

    if kind == "application/json-patch+json":
        if not isinstance(data, list):
            raise bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
        return patch.json_patch(old, data)
    if not isinstance(data, dict):
        raise bad_request("json: cannot unmarshal array into Go value of type map[string]interface {}")
    if kind == "application/merge-patch+json":
        return patch.json_merge_patch(old, data)
    return patch.strategic_merge_patch(old, data, kind_schema(call))


async def patch_(call: Call) -> tuple[int, dict[str, Any]]:
    kind = media_type(call.content_type)
    if kind not in PATCH_TYPES:
        raise unsupported_media_type()
    data = decode_body(call.body, kind, call.res.kind)
    sub = call.info.subresource
    if kind == "application/apply-patch+yaml":
        return await _apply(call, require_object(data, call.res.kind))

    async def compute(old: dict[str, Any]) -> dict[str, Any]:
        new = patched(call, kind, old, data)
        if not isinstance(new, dict):
            raise bad_request("the patch produced something that is not an object")
        check_fields(call, new)
        return _status_only(call, new, old) if sub == "status" else new

    return await commit_update(call, compute, precondition=patch_precondition(kind, data), subresource=sub)


async def _apply(call: Call, applied: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    from skiff.cluster.apimachinery import apply

    manager = call.query.get("fieldManager", "")
    if not manager:
        raise bad_request("PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: "
                          "is required for apply patch")
    force = call.query.get("force", "") == "true"
    objectmeta.check_type(call.res, applied)
    check_fields(call, applied)
    name = (applied.get("metadata") or {}).get("name")
    if name and name != call.info.name:
        raise bad_request(f"the name of the object ({name}) does not match the name on the URL "
                          f"({call.info.name})")
    schema_ = kind_schema(call)
    sub = call.info.subresource

    async def compute(old: dict[str, Any]) -> dict[str, Any]:
        new = apply.server_side_apply(old, copy.deepcopy(applied), manager, force, schema_, sub)
        return _status_only(call, new, old) if sub == "status" else new

    try:
        return await commit_update(call, compute, precondition=body_precondition(applied), subresource=sub,
                                   managed_op="")
    except ApiError as e:
        if e.code != 404 or sub:
            raise
    obj = apply.server_side_apply(None, copy.deepcopy(applied), manager, force, schema_)
    obj.setdefault("metadata", {})["name"] = call.info.name
    return await create_object(call, obj, managed=False)
