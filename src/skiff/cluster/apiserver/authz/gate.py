"""The authorization step of every authenticated request (one call from the API server's middleware):
impersonation, the decision (403 with Kubernetes' message), and the review APIs."""

from __future__ import annotations

import orjson
from aiohttp import web

from skiff.cluster.apimachinery.errors import ApiError
from skiff.cluster.apiserver.authn import User
from skiff.cluster.apiserver.authz import impersonation, reviews
from skiff.cluster.apiserver.authz.attributes import from_request
from skiff.cluster.apiserver.authz.authorizer import MASTERS, Authorizer, forbidden_error

REVIEWS = ("/apis/authorization.k8s.io/v1/", "/apis/authentication.k8s.io/v1/selfsubjectreviews")


async def check(authz: Authorizer, request: web.Request, user: User) -> tuple[User, web.StreamResponse | None]:
    """The user the request acts as, and a response when the request ends here (a review's
    answer); raises ApiError 403 when it is not allowed."""
    headers = request.headers
    if impersonation.wanted(headers):
        user = await _impersonate(authz, user, headers)
    path = request.path
    review = request.method == "POST" and path.startswith(REVIEWS)
    if not review and (authz.always_allow or MASTERS in user.groups):
        return user, None
    a = from_request(user, request.method, path, request.query)
    allowed, reason = await authz.authorize(a)
    if not allowed:
        raise forbidden_error(a, reason)
    if not review or not a.resource_request or a.resource not in reviews.KINDS:
        return user, None
    if a.subresource or a.name:  # reviews are only ever created, never named
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
    body = await request.read()
    out = await reviews.answer(authz, user, a.resource, a.namespace, body, headers.get("Content-Type", ""))
    return user, web.Response(status=201, body=orjson.dumps(out), content_type="application/json")


async def _impersonate(authz: Authorizer, requester: User, headers) -> User:
    name, groups, uid, checks = impersonation.requested(requester, headers)
    for a in checks:
        allowed, reason = await authz.authorize(a)
        if not allowed:
            raise forbidden_error(a, reason)
    return impersonation.impersonated(name, groups, uid)
