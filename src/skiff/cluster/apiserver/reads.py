"""get and list, with resourceVersion semantics, selectors and limit/continue paging."""

from __future__ import annotations

from typing import Any

from skiff.cluster.apimachinery.errors import ApiError, bad_request, expired, not_found, timeout
from skiff.cluster.apiserver import continuetoken, views
from skiff.cluster.apiserver.call import Call
from skiff.cluster.apiserver.filtering import predicate
from skiff.cluster.apiserver.objects import decode
from skiff.cluster.storage.interface import Compacted, FutureRevision, KeyNotFound, ListResult

CONTINUE_EXPIRED = (
    "The provided continue parameter is too old to display a consistent list result. You can start a new "
    "list without the continue parameter, or use the continue token in this response to retrieve the "
    "remainder of the results. Continuing with the provided token results in an inconsistent list - objects "
    "that were created, modified, or deleted between the time the first chunk was returned and now may show "
    "up in the list.")


def parse_rv(text: str) -> int:
    try:
        rv = int(text)
    except ValueError:
        rv = -1
    if rv < 0:
        raise ApiError(400, "BadRequest", f'invalid resource version: "{text}"')
    return rv


async def read_object(call: Call) -> dict[str, Any]:
    try:
        return decode(await call.ctx.objects.get(call.key))
    except KeyNotFound:
        raise not_found(call.res.plural, call.info.name, call.res.group) from None


async def get(call: Call) -> tuple[int, dict[str, Any]]:
    """resourceVersion "" reads storage; "0" whatever the watch cache holds; N the cache once it
    has reached N (504 if it does not in 3 s), as upstream serves gets."""
    rv_text = call.query.get("resourceVersion", "")
    if not rv_text:
        return 200, views.render_one(call, await read_object(call))
    rv = parse_rv(rv_text)
    try:
        kv = await call.ctx.objects.get_cached(call.key, rv)
    except KeyNotFound:
        raise not_found(call.res.plural, call.info.name, call.res.group) from None
    except FutureRevision as e:
        raise timeout(str(e), retry_after=1) from None
    return 200, views.render_one(call, decode(kv))


async def list_(call: Call) -> tuple[int, dict[str, Any]]:
    pred = predicate(call.res, call.query.get("labelSelector", ""), call.query.get("fieldSelector", ""))
    limit = call.int_param("limit") or 0
    if limit < 0:
        limit = 0
    rv_text = call.query.get("resourceVersion", "")
    match = call.query.get("resourceVersionMatch", "")
    token = call.query.get("continue", "")
    prefix = call.prefix
    revision, start_after, min_revision = 0, "", None
    if match and match not in ("Exact", "NotOlderThan"):
        raise bad_request(f'resourceVersionMatch: Unsupported value: "{match}": supported values: '
                          '"Exact", "NotOlderThan"')
    if match and not rv_text:
        raise bad_request("resourceVersionMatch is forbidden unless resourceVersion is provided")
    if token:
        if rv_text and rv_text != "0":
            raise bad_request("specifying resource version is not allowed when using continue")
        try:
            revision, start_after = continuetoken.decode(token, prefix)
        except continuetoken.InvalidToken as e:
            raise bad_request(str(e)) from None
    elif rv_text:
        rv = parse_rv(rv_text)
        if match == "Exact":
            if rv == 0:
                raise bad_request("resourceVersionMatch \"Exact\" is forbidden for resourceVersion \"0\"")
            revision = rv
        else:
            min_revision = rv  # "not older than": the watch cache answers (rv=0: whatever it has)
            if rv == 0:
                limit = 0  # as upstream, a list at "any" version from the cache is not paged
    items, result = await _collect(call, prefix, pred, revision, limit, start_after, min_revision, bool(token))
    meta: dict[str, Any] = {"resourceVersion": str(result.revision)}
    if result.more and items:
        meta["continue"] = continuetoken.encode(result.revision, items[-1][0], prefix)
    return 200, views.render_list(call, [obj for _, obj in items], meta)


async def _collect(call: Call, prefix: str, pred, revision: int, limit: int, start_after: str,
                   min_revision: int | None, continuing: bool) -> tuple[list[tuple[str, dict[str, Any]]], ListResult]:
    """Read pages until `limit` matching objects are found (or the prefix ends), as the etcd3 store does."""
    out: list[tuple[str, dict[str, Any]]] = []
    while True:
        want = limit - len(out) if limit else 0
        try:
            result = await call.ctx.objects.list(prefix, revision=revision, limit=want, start_after=start_after,
                                                 min_revision=min_revision)
        except FutureRevision as e:
            raise timeout(str(e), retry_after=1) from None
        except Compacted as e:
            if continuing:
                raise expired(CONTINUE_EXPIRED) from None
            raise expired(f"too old resource version: {revision} ({e.compact_revision})") from None
        for kv in result.items:
            obj = decode(kv)
            if pred.everything or pred.matches(obj):
                out.append((kv.key, obj))
        revision, min_revision = result.revision, None
        if not result.more or not result.items or (limit and len(out) >= limit):
            return out, result
        start_after = result.items[-1].key
