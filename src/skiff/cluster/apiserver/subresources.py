"""Subresources: scale, binding, eviction, namespace finalize, and the node-agent routes.

status is an ordinary update/patch with `subresource="status"` (see writes.py). log, exec,
attach, portforward and proxy are served by the node agent, which is not part of the server
yet: they answer a clear Status instead of a 404.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from skiff.cluster.api import strategy
from skiff.cluster.apimachinery import fielderrors
from skiff.cluster.apimachinery.errors import (
    ApiError,
    bad_request,
    conflict,
    invalid,
    method_not_supported,
    not_found,
)
from skiff.cluster.apimachinery.meta import format_rfc3339, now_rfc3339
from skiff.cluster.apiserver import deletes, satokens, writes
from skiff.cluster.apiserver.call import Call
from skiff.cluster.apiserver.negotiation import PATCH_TYPES, decode_body, media_type, require_object
from skiff.cluster.apiserver.objects import decode, encode
from skiff.cluster.apiserver.reads import read_object
from skiff.cluster.storage.interface import KeyNotFound, RevisionConflict

NODE_AGENT_ROUTES = frozenset({"log", "exec", "attach", "portforward", "proxy"})


async def scale(call: Call) -> tuple[int, dict[str, Any]]:
    res = call.res

    def view(obj: dict[str, Any]) -> dict[str, Any]:
        return strategy.scale_of(res, obj)

    if call.info.verb == "get":
        return 200, view(await read_object(call))
    if call.info.verb == "update":
        body = require_object(decode_body(call.body, call.content_type, "Scale"), "Scale")
        replicas = _replicas(body)
        async def compute(old: dict[str, Any]) -> dict[str, Any]:
            strategy.apply_scale(res, old, replicas)
            return old

        return await writes.commit_update(call, compute, precondition=writes.body_precondition(body),
                                          subresource="scale", view=view)
    if call.info.verb == "patch":
        kind = media_type(call.content_type)
        if kind not in PATCH_TYPES or kind == "application/apply-patch+yaml":
            raise method_not_supported(f"{res.plural}/scale", "apply patch", res.group) \
                if kind == "application/apply-patch+yaml" else ApiError(415, "UnsupportedMediaType",
                                                                         f"unsupported patch type {kind!r}")
        data = decode_body(call.body, kind, "Scale")

        async def patch_compute(old: dict[str, Any]) -> dict[str, Any]:
            new_scale = writes.patched(call, kind, view(old), data)
            strategy.apply_scale(res, old, _replicas(new_scale))
            return old

        return await writes.commit_update(call, patch_compute, precondition=writes.patch_precondition(kind, data),
                                          subresource="scale", view=view)
    raise method_not_supported(f"{res.plural}/scale", call.info.verb, res.group)


def _replicas(scale_obj: dict[str, Any]) -> int:
    replicas = (scale_obj.get("spec") or {}).get("replicas", 0)
    if not isinstance(replicas, int) or isinstance(replicas, bool):
        raise bad_request("Scale.spec.replicas must be an integer")
    return replicas


async def binding(call: Call) -> tuple[int, dict[str, Any]]:
    """POST pods/NAME/binding: assign the pod to a node (the scheduler's write)."""
    if call.info.verb != "create":
        raise method_not_supported("pods/binding", call.info.verb)
    body = require_object(decode_body(call.body, call.content_type, "Binding"), "Binding")
    target = body.get("target") or {}
    node = target.get("name") or ""
    if not node:
        raise ApiError(422, "Invalid", f'Binding.core "{call.info.name}" is invalid: target.name: Required value',
                       {"name": call.info.name, "group": "core", "kind": "Binding",
                        "causes": [{"reason": "FieldValueRequired", "message": "Required value",
                                    "field": "target.name"}]})
    if target.get("kind", "Node") not in ("Node", ""):
        raise bad_request(f"invalid binding target kind {target.get('kind')!r}: only Node is supported")
    uid = (body.get("metadata") or {}).get("uid") or ""
    cached = call.ctx.objects.cached
    for _ in range(writes.MAX_RETRIES):
        # The watch cache's copy first, as kube's GuaranteedUpdate takes the cacher's object as
        # a suggestion: the update below is conditional on its revision, and anything that
        # refuses the binding is confirmed from storage before it is reported.
        kv = await _pod_for_binding(call, cached)
        pod = decode(kv)  # a fresh dict: ours to change
        refusal = _binding_refusal(call, pod, uid)
        if refusal is not None:
            if cached:
                cached = False
                continue
            raise refusal
        new = pod
        new.setdefault("spec", {})["nodeName"] = node
        status = new.setdefault("status", {})
        conditions = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
        conditions.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                           "lastTransitionTime": now_rfc3339()})
        status["conditions"] = conditions
        if call.dry_run:
            break
        try:
            await call.ctx.objects.store.update(call.key, encode(new), kv.mod_revision)
        except (RevisionConflict, KeyNotFound):
            cached = False
            continue
        break
    else:
        raise conflict("pods/binding", call.info.name)
    return 201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}


async def _pod_for_binding(call: Call, cached: bool) -> Any:
    try:
        if cached:
            try:
                return await call.ctx.objects.get_cached(call.key)
            except KeyNotFound:
                pass  # perhaps created a moment ago: storage knows
        return await call.ctx.objects.get(call.key)
    except KeyNotFound:
        raise not_found("pods", call.info.name) from None


def _binding_refusal(call: Call, pod: dict[str, Any], uid: str) -> ApiError | None:
    name = call.info.name
    meta = pod["metadata"]
    if uid and meta.get("uid") != uid:
        return conflict("pods/binding", name, f"Precondition failed: UID in precondition: {uid}, "
                        f"UID in object meta: {meta.get('uid', '')}")
    if meta.get("deletionTimestamp"):
        return conflict("pods/binding", name, f"pod {name} is being deleted, cannot be assigned to a host")
    current = (pod.get("spec") or {}).get("nodeName")
    if current:
        return conflict("pods/binding", name, f'pod {name} is already assigned to node "{current}"')
    return None


async def eviction(call: Call) -> tuple[int, dict[str, Any]]:
    """POST pods/NAME/eviction: no PodDisruptionBudgets exist yet, so an eviction is a delete."""
    if call.info.verb != "create":
        raise method_not_supported("pods/eviction", call.info.verb)
    body = require_object(decode_body(call.body, call.content_type, "Eviction"), "Eviction")
    opts = dict(body.get("deleteOptions") or {})
    await deletes.delete_one(call, call.key, call.info.name, opts)
    return 201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}


async def finalize(call: Call) -> tuple[int, dict[str, Any]]:
    """PUT namespaces/NAME/finalize: replace spec.finalizers (the namespace controller's last step)."""
    if call.info.verb != "update":
        raise method_not_supported("namespaces/finalize", call.info.verb)
    body = require_object(decode_body(call.body, call.content_type, "Namespace"), "Namespace")
    finalizers = (body.get("spec") or {}).get("finalizers") or []

    async def compute(old: dict[str, Any]) -> dict[str, Any]:
        old.setdefault("spec", {})["finalizers"] = list(finalizers)
        if not finalizers:
            old["spec"].pop("finalizers")
        return old

    return await writes.commit_update(call, compute, precondition=writes.body_precondition(body),
                                      subresource="finalize")


async def token(call: Call) -> tuple[int, dict[str, Any]]:
    """POST serviceaccounts/NAME/token: a TokenRequest answered with a signed, expiring token."""
    if call.info.verb != "create":
        raise method_not_supported("serviceaccounts/token", call.info.verb)
    signer = call.ctx.authenticator.signer
    if signer is None:
        raise ApiError(503, "ServiceUnavailable", "service account tokens are not configured")
    body = require_object(decode_body(call.body, call.content_type, "TokenRequest"), "TokenRequest")
    spec = dict(body.get("spec") or {})
    seconds = spec.get("expirationSeconds") or satokens.DEFAULT_EXPIRY
    if not isinstance(seconds, int) or seconds < satokens.MIN_EXPIRY:
        raise invalid("TokenRequest", call.info.name, [fielderrors.invalid(
            "spec.expirationSeconds", seconds, "may not specify a duration less than 10 minutes")],
            "authentication.k8s.io")
    sa = await read_object(call)
    pod = None
    ref = spec.get("boundObjectRef") or None
    if ref:
        if ref.get("kind") != "Pod":
            raise bad_request(f"cannot bind token to object of kind {ref.get('kind')!r}: only Pod is supported")
        bound = await call.ctx.get_object("", "pods", call.namespace, ref.get("name", ""), fresh=True)
        if bound is None:
            raise not_found("pods", ref.get("name", ""))
        if ref.get("uid") and ref["uid"] != bound["metadata"].get("uid"):
            raise conflict("pods", ref.get("name", ""), "the UID in the bound object reference "
                           f"({ref['uid']}) does not match the UID in record")
        pod = (bound["metadata"]["name"], bound["metadata"]["uid"])
    audiences = tuple(spec.get("audiences") or satokens.DEFAULT_AUDIENCES)
    expires = int(time.time()) + seconds
    signed = signer.issue(satokens.Claims(call.namespace, call.info.name, sa["metadata"]["uid"], audiences,
                                          expires, pod))
    spec.update({"audiences": list(audiences), "expirationSeconds": seconds})
    return 201, {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
                 "metadata": {"name": call.info.name, "namespace": call.namespace,
                              "creationTimestamp": now_rfc3339()},
                 "spec": spec,
                 "status": {"token": signed, "expirationTimestamp": format_rfc3339(
                     datetime.fromtimestamp(expires, UTC))}}


async def node_agent(call: Call) -> tuple[int, dict[str, Any]]:
    sub = call.info.subresource.split("/", 1)[0]
    if call.res.kind == "Pod" and not call.res.group:
        pod = await read_object(call)
        if not (pod.get("spec") or {}).get("nodeName"):
            raise bad_request(f"pod {call.info.name} does not have a host assigned")
    raise ApiError(503, "ServiceUnavailable",
                   f"{call.res.plural}/{sub} is served by the node agent, which this server does not run yet")


async def dispatch(call: Call) -> tuple[int, dict[str, Any]]:
    sub = call.info.subresource.split("/", 1)[0]
    if sub == "scale":
        return await scale(call)
    if sub == "binding":
        return await binding(call)
    if sub == "eviction":
        return await eviction(call)
    if sub == "finalize":
        return await finalize(call)
    if sub == "token" and call.res.plural == "serviceaccounts":
        return await token(call)
    if sub in NODE_AGENT_ROUTES:
        return await node_agent(call)
    if sub == "status":
        from skiff.cluster.apiserver import reads

        if call.info.verb == "get":
            return await reads.get(call)
        if call.info.verb == "update":
            return await writes.update(call)
        if call.info.verb == "patch":
            return await writes.patch_(call)
    raise method_not_supported(f"{call.res.plural}/{sub}", call.info.verb, call.res.group)
