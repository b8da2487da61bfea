"""Aggregated ClusterRoles (the controller manager's clusterrole-aggregation controller), pure.

A ClusterRole with an `aggregationRule` gets, as its rules, the rules of every ClusterRole whose
labels match one of its `clusterRoleSelectors`, in name order, without repeats.
"""

from __future__ import annotations

from typing import Any

from skiff.cluster.apimachinery.selectors import LabelSelector


def aggregated_rules(role: dict[str, Any], cluster_roles: dict[str, dict[str, Any]]) -> list[dict[str, Any]] | None:
    """The rules `role` should have, or None when it does not aggregate."""
    rule = role.get("aggregationRule")
    if not rule:
        return None
    selectors = [LabelSelector.from_object(s) for s in rule.get("clusterRoleSelectors") or []]
    own = role["metadata"]["name"]
    rules: list[dict[str, Any]] = []
    for name in sorted(cluster_roles):
        if name == own:
            continue
        labels = cluster_roles[name].get("metadata", {}).get("labels") or {}
        if not any(s.matches(labels) for s in selectors):
            continue
        for r in cluster_roles[name].get("rules") or []:
            if r not in rules:
                rules.append(r)
    return rules


def pending(cluster_roles: dict[str, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Aggregating roles whose stored rules differ from what they aggregate: name -> new rules."""
    out: dict[str, list[dict[str, Any]]] = {}
    for name, role in cluster_roles.items():
        want = aggregated_rules(role, cluster_roles)
        if want is not None and want != (role.get("rules") or []):
            out[name] = want
    return out
