"""RBAC's PolicyRule matching, as Kubernetes' rbac/v1 helpers do it, and the escalation "covers" check."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from skiff.cluster.apiserver.authz.attributes import Attributes

ALL = "*"
Rule = dict[str, Any]


def _has(values: Iterable[str] | None, want: str) -> bool:
    for v in values or ():
        if v == ALL or v == want:
            return True
    return False


def verb_matches(rule: Rule, verb: str) -> bool:
    return _has(rule.get("verbs"), verb)


def group_matches(rule: Rule, group: str) -> bool:
    return _has(rule.get("apiGroups"), group)


def resource_matches(rule: Rule, resource: str, subresource: str) -> bool:
    """`*` is every resource and subresource; `pods` is not `pods/log`; `*/scale` is scale of any."""
    combined = f"{resource}/{subresource}" if subresource else resource
    for r in rule.get("resources") or ():
        if r == ALL or r == combined:
            return True
        if subresource and r == f"*/{subresource}":
            return True
    return False


def name_matches(rule: Rule, name: str) -> bool:
    names = rule.get("resourceNames") or ()
    return not names or name in names


def path_matches(rule: Rule, path: str) -> bool:
    for url in rule.get("nonResourceURLs") or ():
        if url == ALL or url == path or (url.endswith("*") and path.startswith(url[:-1])):
            return True
    return False


def allows(rule: Rule, a: Attributes) -> bool:
    if a.resource_request:
        return (verb_matches(rule, a.verb) and group_matches(rule, a.api_group)
                and resource_matches(rule, a.resource, a.subresource) and name_matches(rule, a.name))
    return verb_matches(rule, a.verb) and path_matches(rule, a.path)


def any_allows(rules: Iterable[Rule], a: Attributes) -> bool:
    return any(allows(r, a) for r in rules)


# --- escalation: does a set of rules cover another rule? --------------------------------------

def breakdown(rule: Rule) -> list[Rule]:
    """One rule per (group, resource, verb, name) or (url, verb): what `covers` compares."""
    out: list[Rule] = []
    verbs = rule.get("verbs") or []
    for group in rule.get("apiGroups") or []:
        for resource in rule.get("resources") or []:
            for verb in verbs:
                names = rule.get("resourceNames") or [None]
                for name in names:
                    sub: Rule = {"apiGroups": [group], "resources": [resource], "verbs": [verb]}
                    if name is not None:
                        sub["resourceNames"] = [name]
                    out.append(sub)
    for url in rule.get("nonResourceURLs") or []:
        for verb in verbs:
            out.append({"nonResourceURLs": [url], "verbs": [verb]})
    return out


def _covers_value(owner: Iterable[str] | None, value: str) -> bool:
    return _has(owner, value)  # a requested `*` is covered only by an owned `*`


def _covers_resource(owner: Iterable[str] | None, value: str) -> bool:
    for r in owner or ():
        if r == ALL or r == value:
            return True
        if "/" in value and r == "*/" + value.split("/", 1)[1]:
            return True
        if r.endswith("/*") and value.startswith(r[:-1]):  # `pods/*` covers `pods/log`
            return True
    return False


def _covers_url(owner: Iterable[str] | None, url: str) -> bool:
    for u in owner or ():
        if u == url or u == ALL or (u.endswith("*") and url.startswith(u[:-1])):
            return True
    return False


def rule_covers(owner: Rule, sub: Rule) -> bool:
    if not _covers_value(owner.get("verbs"), sub["verbs"][0]):
        return False
    if "nonResourceURLs" in sub:
        return _covers_url(owner.get("nonResourceURLs"), sub["nonResourceURLs"][0])
    if not owner.get("resources"):
        return False
    if not _covers_value(owner.get("apiGroups"), sub["apiGroups"][0]):
        return False
    if not _covers_resource(owner.get("resources"), sub["resources"][0]):
        return False
    owned_names = owner.get("resourceNames") or []
    if not owned_names:
        return True
    wanted = sub.get("resourceNames") or []
    return bool(wanted) and wanted[0] in owned_names


def uncovered(owned: list[Rule], requested: Iterable[Rule]) -> list[Rule]:
    """The pieces of `requested` that no owned rule grants (empty: no escalation)."""
    missing: list[Rule] = []
    for rule in requested:
        for sub in breakdown(rule):
            if not any(rule_covers(o, sub) for o in owned):
                missing.append(sub)
    return missing


def describe(rule: Rule) -> str:
    """A rule as Kubernetes prints it in escalation errors:
    `{APIGroups:[""], Resources:["pods"], Verbs:["get"]}`."""
    def q(values: list[str]) -> str:
        return "[" + " ".join(f'"{v}"' for v in values) + "]"
    parts = []
    if rule.get("apiGroups"):
        parts.append(f"APIGroups:{q(rule['apiGroups'])}")
    if rule.get("resources"):
        parts.append(f"Resources:{q(rule['resources'])}")
    if rule.get("resourceNames"):
        parts.append(f"ResourceNames:{q(rule['resourceNames'])}")
    if rule.get("nonResourceURLs"):
        parts.append(f"NonResourceURLs:{q(rule['nonResourceURLs'])}")
    parts.append(f"Verbs:{q(rule.get('verbs') or [])}")
    return "{" + ", ".join(parts) + "}"
