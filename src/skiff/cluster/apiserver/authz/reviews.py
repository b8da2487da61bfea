"""SubjectAccessReview, LocalSubjectAccessReview, SelfSubjectAccessReview, SelfSubjectRulesReview
(authorization.k8s.io/v1) and SelfSubjectReview (authentication.k8s.io/v1): answered, never stored."""

from __future__ import annotations

from typing import Any

from skiff.cluster.api import registry, strategy
from skiff.cluster.apimachinery.errors import invalid
from skiff.cluster.apiserver.authn import User
from skiff.cluster.apiserver.authz.attributes import Attributes, for_path, for_resource
from skiff.cluster.apiserver.authz.authorizer import Authorizer
from skiff.cluster.apiserver.negotiation import decode_body, require_object

KINDS = {"subjectaccessreviews": "SubjectAccessReview", "localsubjectaccessreviews": "LocalSubjectAccessReview",
         "selfsubjectaccessreviews": "SelfSubjectAccessReview", "selfsubjectrulesreviews": "SelfSubjectRulesReview",
         "selfsubjectreviews": "SelfSubjectReview"}


def _cause(field: str, message: str, value: Any = None, reason: str = "FieldValueInvalid") -> dict[str, Any]:
    detail = f"Invalid value: {value!r}: {message}" if reason == "FieldValueInvalid" else message
    return {"reason": reason, "message": detail, "field": field}


def _attributes(user: User, spec: dict[str, Any], kind: str) -> Attributes:
    res, non = spec.get("resourceAttributes"), spec.get("nonResourceAttributes")
    if (res is None) == (non is None):
        raise invalid(kind, "", [_cause("spec.resourceAttributes", "exactly one of nonResourceAttributes or "
                                        "resourceAttributes must be specified", res or non or "null")],
                      "authorization.k8s.io")
    if non is not None:
        return for_path(user, non.get("verb", ""), non.get("path", ""))
    res = res or {}
    return for_resource(user, res.get("verb", ""), res.get("group", ""), res.get("resource", ""),
                        res.get("subresource", ""), res.get("namespace", ""), res.get("name", ""))


def _reply(body: dict[str, Any], kind: str, group: str, status: dict[str, Any]) -> dict[str, Any]:
    meta = dict(body.get("metadata") or {})
    meta.setdefault("creationTimestamp", None)
    out = {"kind": kind, "apiVersion": f"{group}/v1", "metadata": meta}
    if kind != "SelfSubjectReview":  # the one review without a spec
        out["spec"] = body.get("spec") or {}
    out["status"] = status
    return out


async def answer(authz: Authorizer, user: User, resource: str, namespace: str, raw: bytes,
                 content_type: str) -> dict[str, Any]:
    kind = KINDS[resource]
    body = require_object(decode_body(raw, content_type, kind), kind)
    res = registry.find("authentication.k8s.io" if resource == "selfsubjectreviews" else "authorization.k8s.io",
                        "v1", resource)
    if res is not None:
        strategy.decode_check(res, body, "Ignore")  # wrong types: 400 in the decoder's words
    spec = body.get("spec") or {}
    if resource == "selfsubjectreviews":
        info: dict[str, Any] = {"username": user.name, "groups": list(user.groups)}
        if user.uid:
            info["uid"] = user.uid
        return _reply(body, kind, "authentication.k8s.io", {"userInfo": info})
    if resource == "selfsubjectrulesreviews":
        a = for_resource(user, "", "", "", namespace=spec.get("namespace", ""))
        return _reply(body, kind, "authorization.k8s.io", rules_status(authz, a, spec.get("namespace", "")))
    if resource == "selfsubjectaccessreviews":
        subject = user
    else:
        if not spec.get("user") and not spec.get("groups"):
            raise invalid(kind, "", [_cause("spec.user", "at least one of user or group must be specified",
                                            "", "FieldValueRequired")], "authorization.k8s.io")
        subject = User(spec.get("user", ""), spec.get("uid", ""), tuple(spec.get("groups") or ()))
    a = _attributes(subject, spec, kind)
    if resource == "localsubjectaccessreviews" and (spec.get("resourceAttributes") or {}).get(
            "namespace", "") != namespace:
        raise invalid(kind, "", [_cause("spec.resourceAttributes.namespace", "must match metadata.namespace",
                                        a.namespace)], "authorization.k8s.io")
    allowed, reason = await authz.authorize(a)
    status: dict[str, Any] = {"allowed": allowed}
    if reason:
        status["reason"] = reason
    return _reply(body, kind, "authorization.k8s.io", status)


def rules_status(authz: Authorizer, a: Attributes, namespace: str) -> dict[str, Any]:
    rules, errors, incomplete = authz.rules_for(a, namespace)
    resource_rules, non_resource = [], []
    for r in rules:
        if r.get("nonResourceURLs"):
            non_resource.append({"verbs": r.get("verbs") or [], "nonResourceURLs": r["nonResourceURLs"]})
        else:
            out = {"verbs": r.get("verbs") or [], "apiGroups": r.get("apiGroups") or [],
                   "resources": r.get("resources") or []}
            if r.get("resourceNames"):
                out["resourceNames"] = r["resourceNames"]
            resource_rules.append(out)
    status: dict[str, Any] = {"resourceRules": resource_rules, "nonResourceRules": non_resource,
                              "incomplete": incomplete or bool(errors)}
    if errors:
        status["evaluationError"] = ", ".join(errors)
    return status
