"""The Node authorizer's core: what a kubelet (`system:node:<name>` in `system:nodes`) may do.

As upstream, a node may use the `system:node` rules (policy.NODE), narrowed to its own objects:
- Node and nodes/status writes only for its own Node; its Lease only (kube-node-lease/<name>);
- pods/status writes only for pods bound to it;
- secrets, configmaps, persistentvolumeclaims: `get` of one a pod bound to it uses (volumes,
  env, envFrom, imagePullSecrets); never list or watch. serviceaccounts/token: only for the
  account of a pod bound to it.

Simplification (docs/security.md): relationships are read from the pods in the watch cache at
request time instead of upstream's graph; mirror pod creation is not checked (NodeRestriction).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from skiff.cluster.apiserver.authz.attributes import Attributes
from skiff.cluster.apiserver.authz.policy import NODE
from skiff.cluster.apiserver.authz.rules import any_allows

NODES_GROUP = "system:nodes"
NODE_PREFIX = "system:node:"
ALLOW, DENY, NO_OPINION = "allow", "deny", "no-opinion"
REFERENCED = {"secrets": "secret", "configmaps": "configmap", "persistentvolumeclaims": "pvc"}
# pods in a namespace, from the watch cache
ListPods = Callable[[str], Awaitable[list[dict[str, Any]]]]


def node_name(a: Attributes) -> str:
    if NODES_GROUP in a.user.groups and a.user.name.startswith(NODE_PREFIX):
        return a.user.name[len(NODE_PREFIX):]
    return ""


async def authorize(a: Attributes, list_pods: ListPods) -> tuple[str, str]:
    node = node_name(a)
    if not node:
        return NO_OPINION, ""
    if not a.resource_request:
        return NO_OPINION, ""
    res = a.resource
    if a.api_group == "" and res in REFERENCED and not a.subresource:
        return await _referenced(node, a, list_pods)
    if a.api_group == "" and res == "serviceaccounts" and a.subresource == "token":
        if a.verb != "create":
            return NO_OPINION, "can only create tokens for individual service accounts"
        pods = await list_pods(a.namespace)
        if any(_bound(p, node) and (p.get("spec", {}).get("serviceAccountName") or "default") == a.name
               for p in pods):
            return ALLOW, ""
        return NO_OPINION, _no_relation(node)
    if a.api_group == "coordination.k8s.io" and res == "leases":
        if a.namespace != "kube-node-lease":
            return NO_OPINION, "can only access leases in the kube-node-lease namespace"
        if a.name != node and not (a.verb == "create" and not a.name):
            return NO_OPINION, "can only access node lease with the same name as the requesting node"
    if a.api_group == "" and res == "nodes" and a.verb in ("update", "patch", "delete") and a.name != node:
        return NO_OPINION, f"node '{node}' cannot modify node '{a.name}'"
    if a.api_group == "" and res == "pods" and a.subresource == "status" and a.verb in ("update", "patch"):
        pods = await list_pods(a.namespace)
        if not any(p["metadata"].get("name") == a.name and _bound(p, node) for p in pods):
            return NO_OPINION, f"node '{node}' can only update the status of pods bound to it"
    if any_allows(NODE, a):
        return ALLOW, ""
    return NO_OPINION, ""


async def _referenced(node: str, a: Attributes, list_pods: ListPods) -> tuple[str, str]:
    if a.verb != "get" or not a.name:
        return NO_OPINION, "can only get individual resources of this type"
    kind = REFERENCED[a.resource]
    for pod in await list_pods(a.namespace):
        if _bound(pod, node) and a.name in references(pod).get(kind, set()):
            return ALLOW, ""
    return NO_OPINION, _no_relation(node)


def _no_relation(node: str) -> str:
    return f"no relationship found between node '{node}' and this object"


def _bound(pod: dict[str, Any], node: str) -> bool:
    return (pod.get("spec") or {}).get("nodeName") == node


def references(pod: dict[str, Any]) -> dict[str, set[str]]:
    """The secrets, configmaps and claims a pod uses: what its node may read."""
    spec = pod.get("spec") or {}
    out: dict[str, set[str]] = {"secret": set(), "configmap": set(), "pvc": set()}
    for ref in spec.get("imagePullSecrets") or []:
        out["secret"].add(ref.get("name", ""))
    for vol in spec.get("volumes") or []:
        if "secret" in vol:
            out["secret"].add((vol["secret"] or {}).get("secretName", ""))
        if "configMap" in vol:
            out["configmap"].add((vol["configMap"] or {}).get("name", ""))
        if "persistentVolumeClaim" in vol:
            out["pvc"].add((vol["persistentVolumeClaim"] or {}).get("claimName", ""))
        for src in ((vol.get("projected") or {}).get("sources") or []):
            if "secret" in src:
                out["secret"].add((src["secret"] or {}).get("name", ""))
            if "configMap" in src:
                out["configmap"].add((src["configMap"] or {}).get("name", ""))
    for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or []),
              *(spec.get("ephemeralContainers") or [])]:
        for src in c.get("envFrom") or []:
            if "secretRef" in src:
                out["secret"].add((src["secretRef"] or {}).get("name", ""))
            if "configMapRef" in src:
                out["configmap"].add((src["configMapRef"] or {}).get("name", ""))
        for env in c.get("env") or []:
            value_from = env.get("valueFrom") or {}
            if "secretKeyRef" in value_from:
                out["secret"].add((value_from["secretKeyRef"] or {}).get("name", ""))
            if "configMapKeyRef" in value_from:
                out["configmap"].add((value_from["configMapKeyRef"] or {}).get("name", ""))
    return out
