"""Keep the RBAC index current from the watch cache, put the bootstrap policy in place at start,
and aggregate ClusterRoles (the controller manager's clusterrole-aggregation controller, in process)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from multidict import MultiDict

from skiff.cluster.api import registry
from skiff.cluster.apimachinery.errors import ApiError
from skiff.cluster.apiserver import writes
from skiff.cluster.apiserver.authn import User
from skiff.cluster.apiserver.authz import aggregation, policy
from skiff.cluster.apiserver.authz.authorizer import Authorizer
from skiff.cluster.apiserver.authz.index import GROUP, RbacIndex
from skiff.cluster.apiserver.call import Call
from skiff.cluster.apiserver.context import ApiContext
from skiff.cluster.apiserver.objects import decode, resource_prefix
from skiff.cluster.apiserver.paths import RequestInfo
from skiff.cluster.storage.interface import Compacted

log = logging.getLogger("skiff.apiserver.rbac")
SYSTEM = User("system:apiserver", groups=("system:masters",))
PREFIX = f"{resource_prefix(GROUP, '')}".rstrip("/") + "/"  # /registry/rbac.authorization.k8s.io/
RETRY = 1.0


def _call(ctx: ApiContext, plural: str, verb: str, name: str) -> Call:
    res = registry.find(GROUP, "v1", plural)
    assert res is not None
    info = RequestInfo(verb, GROUP, "v1", plural, "", name)
    return Call(ctx, res, info, MultiDict(), "application/json", b"", SYSTEM, user_agent="skiff-apiserver")


def reconciled(existing: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any] | None:
    """A bootstrap object brought up to date (missing rules, subjects, labels added; nothing taken
    away), or None when it needs nothing or its owner set autoupdate to "false"."""
    meta = existing.setdefault("metadata", {})
    if (meta.get("annotations") or {}).get(policy.AUTOUPDATE) == "false":
        return None
    changed = False
    for key in ("labels", "annotations"):
        have = meta.setdefault(key, {}) or {}
        for k, v in wanted["metadata"][key].items():
            if k not in have:
                have[k] = v
                changed = True
        meta[key] = have
    if wanted["kind"] == "ClusterRole":
        if "aggregationRule" in wanted:
            if existing.get("aggregationRule") != wanted["aggregationRule"]:
                existing["aggregationRule"] = wanted["aggregationRule"]
                changed = True
        else:
            rules = existing.setdefault("rules", [])
            for r in wanted["rules"]:
                if r not in rules:
                    rules.append(r)
                    changed = True
    else:
        subjects = existing.setdefault("subjects", [])
        for s in wanted.get("subjects") or []:
            if s not in subjects:
                subjects.append(s)
                changed = True
    return existing if changed else None


async def reconcile(ctx: ApiContext) -> None:
    """kube-apiserver's bootstrap-roles post-start hook."""
    for plural, objects in (("clusterroles", policy.cluster_roles()),
                            ("clusterrolebindings", policy.cluster_role_bindings())):
        stored = {o["metadata"]["name"]: o for o in await ctx.list_objects(GROUP, plural, fresh=True)}
        for obj in objects:
            name = obj["metadata"]["name"]
            existing = stored.get(name)
            try:
                if existing is None:
                    await writes.create_object(_call(ctx, plural, "create", name), obj, managed=True)
                elif reconciled(existing, obj) is not None:
                    await _replace(ctx, plural, name, lambda old, w=obj: reconciled(old, w) or old)
            except ApiError as e:
                if e.code != 409:
                    raise


async def _replace(ctx: ApiContext, plural: str, name: str, compute) -> None:
    async def fn(old: dict[str, Any]) -> dict[str, Any]:
        return compute(old)

    await writes.commit_update(_call(ctx, plural, "update", name), fn)


async def load(ctx: ApiContext, index: RbacIndex) -> int:
    """Fill the index from the watch cache; the revision to watch from."""
    listed = await ctx.objects.list(PREFIX)
    for kv in listed.items:
        index.apply(_resource(kv.key), decode(kv))
    return listed.revision


def _resource(key: str) -> str:
    return key[len(PREFIX):].split("/", 1)[0]


async def follow(ctx: ApiContext, authz: Authorizer, revision: int) -> None:
    """Apply RBAC changes to the index as they come; aggregate ClusterRoles after each batch."""
    index = authz.index
    while True:
        try:
            await _aggregate(ctx, index)
            async for batch in ctx.objects.watch_batches(PREFIX, revision):
                for ev in batch:
                    revision = max(revision, ev.revision)
                    if ev.type == "BOOKMARK":
                        continue
                    index.apply(_resource(ev.kv.key), decode(ev.kv), deleted=ev.type == "DELETED")
                await _aggregate(ctx, index)
        except Compacted:
            fresh = RbacIndex()
            revision = await load(ctx, fresh)
            authz.index = index = fresh
        except asyncio.CancelledError:
            raise
        except Exception:  # keep authorization current: log and resume
            log.exception("rbac watch")
            await asyncio.sleep(RETRY)


async def _aggregate(ctx: ApiContext, index: RbacIndex) -> None:
    for _ in range(8):  # view -> edit -> admin: a chain settles in a few passes
        todo = aggregation.pending(index.cluster_roles)
        if not todo:
            return
        for name, rules in todo.items():
            await _aggregate_one(ctx, index, name, rules)


async def _aggregate_one(ctx: ApiContext, index: RbacIndex, name: str, rules: list[dict[str, Any]]) -> None:
    def compute(old: dict[str, Any]) -> dict[str, Any]:
        old["rules"] = rules
        return old

    try:
        await _replace(ctx, "clusterroles", name, compute)
    except ApiError as e:
        if e.code != 404:
            log.warning("aggregating clusterrole %s: %s", name, e.message)
    # what was written comes back through the watch; meanwhile the index has it already
    if name in index.cluster_roles:
        index.cluster_roles[name] = {**index.cluster_roles[name], "rules": rules}


async def start(ctx: ApiContext, authz: Authorizer) -> asyncio.Task:
    """Bootstrap policy in place and the index loaded before the server reports ready; then follow."""
    if "RBAC" in authz.modes:
        await reconcile(ctx)
    revision = await load(ctx, authz.index)
    return asyncio.create_task(follow(ctx, authz, revision), name="rbac-index")
