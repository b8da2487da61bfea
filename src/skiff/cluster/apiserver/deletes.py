"""delete and deletecollection: preconditions, propagation policy finalizers, graceful deletion.

An object with finalizers (or whose propagation policy adds one) is only marked: it gets
deletionTimestamp and stays until its finalizers are removed by an update. A pod bound to a
node with a grace period is marked the same way, for its kubelet to finish. Anything else is
removed from storage at once.
"""

from __future__ import annotations

import copy
from typing import Any

from skiff.cluster.apimachinery.errors import ApiError, bad_request, conflict, not_found
from skiff.cluster.apimachinery.meta import now_rfc3339
from skiff.cluster.apiserver import views
from skiff.cluster.apiserver.admission import Attributes
from skiff.cluster.apiserver.call import Call
from skiff.cluster.apiserver.filtering import predicate
from skiff.cluster.apiserver.negotiation import decode_body
from skiff.cluster.apiserver.objectmeta import precondition_error
from skiff.cluster.apiserver.objects import decode, encode
from skiff.cluster.storage.interface import KeyNotFound, RevisionConflict

ORPHAN, FOREGROUND = "orphan", "foregroundDeletion"
POLICIES = ("Orphan", "Background", "Foreground")
DEFAULT_POD_GRACE = 30
MAX_RETRIES = 16


def delete_options(call: Call) -> dict[str, Any]:
    """DeleteOptions from the body (if any) with query parameters taking precedence, as upstream."""
    opts: dict[str, Any] = {}
    if call.body.strip():
        body = decode_body(call.body, call.content_type or "application/json", "DeleteOptions")
        if not isinstance(body, dict):
            raise bad_request("the body of a delete must be a DeleteOptions object")
        opts.update(body)
    grace = call.int_param("gracePeriodSeconds")
    if grace is not None:
        opts["gracePeriodSeconds"] = grace
    if call.query.get("propagationPolicy"):
        opts["propagationPolicy"] = call.query["propagationPolicy"]
    if call.query.get("orphanDependents"):
        opts["orphanDependents"] = call.query["orphanDependents"] == "true"
    policy = opts.get("propagationPolicy")
    if policy is not None and policy not in POLICIES:
        raise bad_request(f'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: '
                          f'"{policy}": supported values: "Foreground", "Background", "Orphan", "nil"')
    if policy is not None and opts.get("orphanDependents") is not None:
        raise bad_request('DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Invalid value: '
                          f'"{policy}": orphanDependents and deletionPropagation cannot be both set')
    return opts


def _finalizers_for(meta: dict[str, Any], opts: dict[str, Any]) -> list[str]:
    """The finalizers after applying the propagation policy (as the generic registry updates them)."""
    finalizers = list(meta.get("finalizers") or [])
    policy = opts.get("propagationPolicy")
    if policy is None and opts.get("orphanDependents") is not None:
        policy = "Orphan" if opts["orphanDependents"] else "Background"
    if policy == "Orphan":
        finalizers = [f for f in finalizers if f != FOREGROUND] + ([ORPHAN] if ORPHAN not in finalizers else [])
    elif policy == "Foreground":
        finalizers = [f for f in finalizers if f != ORPHAN] + ([FOREGROUND] if FOREGROUND not in finalizers else [])
    elif policy == "Background":
        finalizers = [f for f in finalizers if f not in (ORPHAN, FOREGROUND)]
    return finalizers


def _grace(call: Call, obj: dict[str, Any], opts: dict[str, Any]) -> int:
    """Seconds of graceful deletion; 0 deletes at once. Only pods on a node wait for their kubelet."""
    if call.res.kind != "Pod" or call.res.group:
        return 0
    spec = obj.get("spec") or {}
    grace = opts.get("gracePeriodSeconds")
    if grace is None:
        grace = spec.get("terminationGracePeriodSeconds", DEFAULT_POD_GRACE)
    if not spec.get("nodeName") or (obj.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        return 0
    return max(int(grace), 0)


def _check_preconditions(call: Call, obj: dict[str, Any], opts: dict[str, Any]) -> None:
    pre = opts.get("preconditions") or {}
    meta = obj["metadata"]
    if pre.get("uid") and pre["uid"] != meta.get("uid"):
        raise precondition_error(call.res, call.info.name, "uid", pre["uid"], meta.get("uid", ""))
    if pre.get("resourceVersion") and pre["resourceVersion"] != meta.get("resourceVersion"):
        raise precondition_error(call.res, call.info.name, "resourceVersion", pre["resourceVersion"],
                                 meta.get("resourceVersion", ""))


def _success(call: Call, obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    details: dict[str, Any] = {"name": meta.get("name", "")}
    if call.res.group:
        details["group"] = call.res.group
    details.update({"kind": call.res.plural, "uid": meta.get("uid", "")})
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}


async def delete_one(call: Call, key: str, name: str, opts: dict[str, Any]) -> tuple[int, dict[str, Any], bool]:
    """(status, body, removed now) for deleting one object."""
    res, ctx = call.res, call.ctx
    for _ in range(MAX_RETRIES):
        try:
            kv = await ctx.objects.get(key)
        except KeyNotFound:
            raise not_found(res.plural, name, res.group) from None
        obj = decode(kv)
        _check_preconditions(call, obj, opts)
        await ctx.admission.validate(Attributes("DELETE", res, "", call.namespace, name, obj, obj, call.dry_run,
                                                call.user, opts))
        meta = obj["metadata"]
        finalizers = _finalizers_for(meta, opts)
        grace = _grace(call, obj, opts)
        marked = bool(finalizers) or grace > 0 or res.kind == "Namespace"
        if not marked or (meta.get("deletionTimestamp") and not finalizers and opts.get("gracePeriodSeconds") == 0):
            if call.dry_run:
                return 200, _removed_body(call, obj), True
            try:
                gone = await ctx.objects.delete(key, kv.mod_revision)
            except (RevisionConflict, KeyNotFound):
                continue
            return 200, _removed_body(call, decode(gone)), True
        new = copy.deepcopy(obj)
        _mark(new, finalizers, grace)
        if new == obj:
            return 200, views.render_one(call, obj), False
        if call.dry_run:
            return 200, views.render_one(call, new), False
        try:
            stored = await ctx.objects.store.update(key, encode(new), kv.mod_revision)
        except (RevisionConflict, KeyNotFound):
            continue
        return 200, views.render_one(call, decode(stored)), False
    raise conflict(res.plural, name, "too many concurrent updates, try again", res.group)


def _mark(obj: dict[str, Any], finalizers: list[str], grace: int) -> None:
    meta = obj["metadata"]
    if finalizers:
        meta["finalizers"] = finalizers
    if not meta.get("deletionTimestamp"):
        meta["deletionTimestamp"] = now_rfc3339()
        meta["deletionGracePeriodSeconds"] = grace
    elif grace < meta.get("deletionGracePeriodSeconds", grace):
        meta["deletionGracePeriodSeconds"] = grace  # a shorter grace period may replace a longer one
    if obj.get("kind") == "Namespace":
        obj.setdefault("status", {})["phase"] = "Terminating"


def _removed_body(call: Call, obj: dict[str, Any]) -> dict[str, Any]:
    # Pods come back whole (kubectl's `delete --wait` reads their uid); other kinds get a Success Status.
    if call.res.kind == "Pod" and not call.res.group:
        return views.render_one(call, obj)
    return _success(call, obj)


async def delete(call: Call) -> tuple[int, dict[str, Any]]:
    status, body, _ = await delete_one(call, call.key, call.info.name, delete_options(call))
    return status, body


async def delete_collection(call: Call) -> tuple[int, dict[str, Any]]:
    opts = delete_options(call)
    pred = predicate(call.res, call.query.get("labelSelector", ""), call.query.get("fieldSelector", ""))
    result = await call.ctx.objects.list(call.prefix)
    deleted: list[dict[str, Any]] = []
    for kv in result.items:
        obj = decode(kv)
        if not (pred.everything or pred.matches(obj)):
            continue
        try:
            await delete_one(call, kv.key, obj["metadata"]["name"], opts)
        except ApiError as e:  # an object deleted meanwhile is fine; anything else is reported
            if e.code != 404:
                raise
            continue
        deleted.append(call.stamp(obj))
    return 200, {"kind": call.res.list_kind, "apiVersion": call.res.group_version,
                 "metadata": {"resourceVersion": str(result.revision)}, "items": deleted}
