"""What the server does by itself, until controllers exist: start-up objects and two small loops.

- at start: the namespaces default, kube-system, kube-public and kube-node-lease, and the
  system PriorityClasses (as kube-apiserver's bootstrap hooks make them); the `kubernetes`
  Service, Endpoints and EndpointSlice, made or corrected to the advertise address and port
  (its endpoint reconciler);
- the `default` ServiceAccount and the `kube-root-ca.crt` ConfigMap of every namespace (the
  service-account and root-CA-publisher controllers' jobs);
- a terminating namespace is emptied and then removed (the namespace controller's job):
  objects go through the ordinary delete path, so finalizers and graceful pod deletion hold
  it in Terminating until they are done.

Each goes through the same handlers as a client request (an in-process call as the system
user), never around admission or validation. `cluster/controllers` takes these over later.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from multidict import MultiDict

from skiff.cluster.api import registry, rootca
from skiff.cluster.api.registry import Resource
from skiff.cluster.apimachinery.errors import ApiError
from skiff.cluster.apiserver import deletes, services, writes
from skiff.cluster.apiserver.admission.priority import system_priority_classes
from skiff.cluster.apiserver.authn import User
from skiff.cluster.apiserver.call import Call
from skiff.cluster.apiserver.context import ApiContext
from skiff.cluster.apiserver.objects import decode, list_prefix
from skiff.cluster.apiserver.paths import RequestInfo
from skiff.cluster.storage.interface import Compacted

log = logging.getLogger("skiff.apiserver.lifecycle")
SYSTEM = User("system:apiserver", groups=("system:masters",))
DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
RETRY_TERMINATING = 1.0  # seconds between passes over a namespace whose contents are still finalizing


def _call(ctx: ApiContext, res: Resource, verb: str, namespace: str = "", name: str = "") -> Call:
    info = RequestInfo(verb, res.group, res.version, res.plural, namespace, name)
    return Call(ctx, res, info, MultiDict(), "application/json", b"", SYSTEM, user_agent="skiff-apiserver")


def _res(group: str, plural: str) -> Resource:
    res = next((r for r in registry.all_resources() if r.group == group and r.plural == plural), None)
    assert res is not None, f"{plural}.{group} is not in the registry"
    return res


async def ensure(ctx: ApiContext, res: Resource, obj: dict[str, Any]) -> None:
    """Create the object unless it exists."""
    meta = obj["metadata"]
    ns = meta.get("namespace", "") if res.namespaced else ""
    if await ctx.get_object(res.group, res.plural, ns, meta["name"], fresh=True) is not None:
        return
    try:
        await writes.create_object(_call(ctx, res, "create", meta.get("namespace", ""), meta["name"]), obj,
                                   managed=True)
    except ApiError as e:
        if e.code != 409:
            raise


async def bootstrap(ctx: ApiContext) -> None:
    ns = _res("", "namespaces")
    for name in DEFAULT_NAMESPACES:
        await ensure(ctx, ns, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
        # before /readyz says ok: a pod created at once in `default` finds its account
        await ensure_namespace_defaults(ctx, name)
    pc = _res("scheduling.k8s.io", "priorityclasses")
    for obj in system_priority_classes():
        await ensure(ctx, pc, obj)
    await reconcile_kubernetes_service(ctx)


async def reconcile_kubernetes_service(ctx: ApiContext) -> None:
    """The `kubernetes` Service, its Endpoints and its EndpointSlice at this server's advertise
    address and port: created at start, corrected when either changed since the last run
    (kube-apiserver's endpoint reconciler, for its one server)."""
    settings = ctx.settings
    address, port = settings.advertise_address, settings.https_port
    await reconcile(ctx, _res("", "services"), services.kubernetes_service(settings.service_cidr, port))
    await reconcile(ctx, _res("", "endpoints"), services.kubernetes_endpoints(address, port))
    await reconcile(ctx, _res("discovery.k8s.io", "endpointslices"), services.kubernetes_endpointslice(address, port))


async def reconcile(ctx: ApiContext, res: Resource, desired: dict[str, Any]) -> None:
    """Create `desired` unless it exists, else bring the fields the server owns in it up to date."""
    await ensure(ctx, res, desired)
    meta = desired["metadata"]
    call = _call(ctx, res, "update", meta.get("namespace", ""), meta["name"])
    changed = False

    async def compute(old: dict[str, Any]) -> dict[str, Any]:
        nonlocal changed
        new = services.corrected(old, desired)
        changed = new is not None
        return new if new is not None else old

    if services.corrected(await ctx.get_object(res.group, res.plural, meta.get("namespace", ""), meta["name"],
                                               fresh=True) or desired, desired) is None:
        return
    try:
        await writes.commit_update(call, compute)
    except ApiError as e:
        if e.code != 404:
            raise
    if changed:
        log.info("corrected %s %s/%s to this server's address", desired["kind"], meta.get("namespace"), meta["name"])


def namespaced_resources() -> list[Resource]:
    """One resource per stored group/plural (versions share storage)."""
    seen: dict[tuple[str, str], Resource] = {}
    for r in registry.all_resources():
        if r.namespaced:
            seen.setdefault((r.group, r.plural), r)
    return list(seen.values())


async def empty_namespace(ctx: ApiContext, namespace: str) -> bool:
    """Delete everything in the namespace; True once nothing is left."""
    left = 0
    for res in namespaced_resources():
        result = await ctx.objects.list(list_prefix(res.group, res.plural, namespace))
        for kv in result.items:
            obj = decode(kv)
            name = obj["metadata"]["name"]
            left += 1
            if obj["metadata"].get("deletionTimestamp"):
                continue
            try:
                await deletes.delete_one(_call(ctx, res, "delete", namespace, name), kv.key, name, {})
            except ApiError as e:
                if e.code != 404:
                    log.warning("emptying namespace %s: %s", namespace, e.message)
    return left == 0


async def finish_namespace(ctx: ApiContext, ns: dict[str, Any]) -> bool:
    """Empty a terminating namespace, then drop its `kubernetes` finalizer (which removes it)."""
    name = ns["metadata"]["name"]
    if not await empty_namespace(ctx, name):
        return False
    finalizers = [f for f in (ns.get("spec") or {}).get("finalizers") or [] if f != "kubernetes"]
    call = _call(ctx, _res("", "namespaces"), "update", "", name)

    async def compute(old: dict[str, Any]) -> dict[str, Any]:
        old.setdefault("spec", {})["finalizers"] = finalizers
        return old

    try:
        await writes.commit_update(call, compute, subresource="finalize")
    except ApiError as e:
        if e.code != 404:
            raise
    return True


async def run_loops(ctx: ApiContext) -> None:
    """Follow namespaces: give new ones their default ServiceAccount, finish terminating ones."""
    prefix = list_prefix("", "namespaces", "")
    pending: dict[str, dict[str, Any]] = {}
    while True:
        try:
            start = await ctx.objects.list(prefix)
            for kv in start.items:
                await _on_namespace(ctx, decode(kv), pending)
            last = start.revision
            events = ctx.objects.watch(prefix, last)
            while True:
                try:
                    ev = await asyncio.wait_for(anext(events), RETRY_TERMINATING if pending else None)
                except TimeoutError:  # the timeout closed the stream: retry the pending ones, watch again
                    events = ctx.objects.watch(prefix, last)
                    for ns in list(pending.values()):
                        await _on_namespace(ctx, ns, pending)
                    continue
                last = ev.revision
                if ev.type != "DELETED":
                    await _on_namespace(ctx, decode(ev.kv), pending)
                else:
                    pending.pop(decode(ev.kv)["metadata"]["name"], None)
        except (Compacted, StopAsyncIteration):
            continue
        except asyncio.CancelledError:
            raise
        except Exception:  # keep the loop alive; the next pass retries
            log.exception("namespace loop")
            await asyncio.sleep(RETRY_TERMINATING)


async def _on_namespace(ctx: ApiContext, ns: dict[str, Any], pending: dict[str, dict]) -> None:
    name = ns["metadata"]["name"]
    if ns["metadata"].get("deletionTimestamp"):
        pending[name] = ns
        if await finish_namespace(ctx, ns):
            pending.pop(name, None)
        return
    await ensure_namespace_defaults(ctx, name)


async def ensure_namespace_defaults(ctx: ApiContext, name: str) -> None:
    """What every active namespace holds: the root CA's ConfigMap and the `default` account."""
    # the CA first: a pod admitted once `default` exists mounts kube-root-ca.crt at once
    if ctx.settings.ca_pem:  # the root CA publisher's ConfigMap, which pods mount to trust the server
        await ensure(ctx, _res("", "configmaps"), rootca.configmap(name, ctx.settings.ca_pem))
    await ensure(ctx, _res("", "serviceaccounts"), {"apiVersion": "v1", "kind": "ServiceAccount",
                                                    "metadata": {"name": "default", "namespace": name}})
