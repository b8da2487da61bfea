"""The bootstrap RBAC policy, as kube-apiserver 1.32 creates it (plugin/pkg/auth/authorizer/rbac/bootstrappolicy).

Pure data: ClusterRoles and ClusterRoleBindings carrying the `kubernetes.io/bootstrapping:
rbac-defaults` label and the `rbac.authorization.kubernetes.io/autoupdate: "true"` annotation.
`sync.reconcile` puts them back at every start unless a user set autoupdate to "false".
"""

from __future__ import annotations

from typing import Any

Rule = dict[str, Any]
AUTOUPDATE = "rbac.authorization.kubernetes.io/autoupdate"
BOOTSTRAP_LABELS = {"kubernetes.io/bootstrapping": "rbac-defaults"}
AGGREGATE = "rbac.authorization.k8s.io/aggregate-to-"
READ = ["get", "list", "watch"]
WRITE = ["create", "delete", "deletecollection", "patch", "update"]
EVENTS = ["create", "patch", "update"]
# The join-token user of node agents (authn.py): see docs/security.md for why it is bound to cluster-admin.
NODE_AGENT_USER = "node"


def r(groups: str, resources: str, verbs: list[str] | str, names: str = "") -> Rule:
    """A PolicyRule from space-separated lists (`""` is the core group)."""
    rule: Rule = {"apiGroups": ["" if g == '""' else g for g in groups.split()],
                  "resources": resources.split(), "verbs": verbs.split() if isinstance(verbs, str) else list(verbs)}
    if names:
        rule["resourceNames"] = names.split()
    return rule


def urls(paths: str, verbs: str = "get") -> Rule:
    return {"nonResourceURLs": paths.split(), "verbs": verbs.split()}


def _events() -> list[Rule]:
    return [r('"" events.k8s.io', "events", EVENTS)]


VIEW = [
    r('""', "configmaps endpoints persistentvolumeclaims persistentvolumeclaims/status pods replicationcontrollers "
      "replicationcontrollers/scale serviceaccounts services services/status", READ),
    r('""', "bindings events limitranges namespaces/status pods/log pods/status replicationcontrollers/status "
      "resourcequotas resourcequotas/status", READ),
    r('""', "namespaces", READ),
    r("discovery.k8s.io", "endpointslices", READ),
    r("apps", "controllerrevisions daemonsets daemonsets/status deployments deployments/scale deployments/status "
      "replicasets replicasets/scale replicasets/status statefulsets statefulsets/scale statefulsets/status", READ),
    r("autoscaling", "horizontalpodautoscalers horizontalpodautoscalers/status", READ),
    r("batch", "cronjobs cronjobs/status jobs jobs/status", READ),
    r("policy", "poddisruptionbudgets poddisruptionbudgets/status", READ),
    r("networking.k8s.io", "ingresses ingresses/status networkpolicies", READ),
]
EDIT = [
    r('""', "pods/attach pods/exec pods/portforward pods/proxy secrets services/proxy", READ),
    r('""', "serviceaccounts", "impersonate"),
    r('""', "pods pods/attach pods/exec pods/portforward pods/proxy", WRITE),
    r('""', "pods/eviction", "create"),
    r('""', "configmaps events persistentvolumeclaims replicationcontrollers replicationcontrollers/scale secrets "
      "serviceaccounts services services/proxy", WRITE),
    r('""', "serviceaccounts/token", "create"),
    r("apps", "daemonsets deployments deployments/rollback deployments/scale replicasets replicasets/scale "
      "statefulsets statefulsets/scale", WRITE),
    r("autoscaling", "horizontalpodautoscalers", WRITE),
    r("batch", "cronjobs jobs", WRITE),
    r("policy", "poddisruptionbudgets", WRITE),
    r("networking.k8s.io", "ingresses networkpolicies", WRITE),
    r("coordination.k8s.io", "leases", [*WRITE, "get", "list", "watch"]),
]
ADMIN = [
    r("authorization.k8s.io", "localsubjectaccessreviews", "create"),
    r("rbac.authorization.k8s.io", "rolebindings roles", [*WRITE, "get", "list", "watch"]),
]
# What a kubelet needs (NodeRules); the Node authorizer narrows it to the node's own objects.
NODE = [
    r("authentication.k8s.io", "tokenreviews", "create"),
    r("authorization.k8s.io", "localsubjectaccessreviews subjectaccessreviews", "create"),
    r('""', "services", READ),
    r('""', "nodes", "create get list watch patch update delete"),
    r('""', "nodes/status", "patch update"),
    *_events(),
    r('""', "pods", READ),
    r('""', "pods", "create delete"),
    r('""', "pods/status", "patch update"),
    r('""', "pods/eviction", "create"),
    r('""', "configmaps secrets", "get list watch"),
    r('""', "persistentvolumeclaims persistentvolumes", "get"),
    r('""', "endpoints", "get"),
    r('""', "persistentvolumeclaims/status", "get patch update"),
    r('""', "serviceaccounts/token", "create"),
    r("coordination.k8s.io", "leases", "get create update patch delete"),
]
NODE_PROXIER = [
    r('""', "endpoints services", "list watch"),
    r('""', "nodes", READ),
    *_events(),
    r("discovery.k8s.io", "endpointslices", "list watch"),
]
SCHEDULER = [
    *_events(),
    r("coordination.k8s.io", "leases", "create"),
    r("coordination.k8s.io", "leases", "get update", "kube-scheduler"),
    r('""', "nodes", READ),
    r('""', "pods", "delete get list watch"),
    r('""', "bindings pods/binding", "create"),
    r('""', "pods/status", "patch update"),
    r('"" apps', "replicationcontrollers services replicasets statefulsets", "list watch"),
    r("policy", "poddisruptionbudgets", "list watch"),
    r('""', "persistentvolumeclaims persistentvolumes namespaces", "list watch"),
    r("authentication.k8s.io", "tokenreviews", "create"),
    r("authorization.k8s.io", "subjectaccessreviews", "create"),
]
CONTROLLER_MANAGER = [
    *_events(),
    r("coordination.k8s.io", "leases", "create"),
    r("coordination.k8s.io", "leases", "get update", "kube-controller-manager"),
    r('""', "secrets serviceaccounts", "create"),
    r('""', "secrets", "delete"),
    r('""', "configmaps namespaces secrets serviceaccounts", "get"),
    r('""', "secrets serviceaccounts", "update"),
    r("authentication.k8s.io", "tokenreviews", "create"),
    r("authorization.k8s.io", "subjectaccessreviews", "create"),
    r("*", "*", "list watch"),
    r('""', "serviceaccounts/token", "create"),
]
DISCOVERY_URLS = "/api /api/* /apis /apis/* /healthz /livez /openapi /openapi/* /readyz /version /version/"
PUBLIC_URLS = "/healthz /livez /readyz /version /version/"

# system:controller:<name> roles: what each of skiff's controllers reads and writes.
_CONTROLLERS: dict[str, list[Rule]] = {
    "deployment-controller": [r("apps", "deployments", "get list watch update"),
                              r("apps", "deployments/status", "update"),
                              r("apps", "deployments/finalizers", "update"),
                              r("apps", "replicasets", "create delete get list patch update watch"),
                              r('""', "pods", "get list update watch")],
    "replicaset-controller": [r("apps", "replicasets", "get list update watch"),
                              r("apps", "replicasets/status replicasets/finalizers", "update"),
                              r('""', "pods", "create delete list patch watch")],
    "replication-controller": [r('""', "replicationcontrollers", "get list update watch"),
                               r('""', "replicationcontrollers/status replicationcontrollers/finalizers", "update"),
                               r('""', "pods", "create delete list patch watch")],
    "endpoint-controller": [r('""', "pods services", "get list watch"),
                            r('""', "endpoints", "create delete get list update"),
                            r('""', "endpoints/restricted", "create")],
    "endpointslice-controller": [r('""', "nodes pods services", "get list watch"),
                                 r("discovery.k8s.io", "endpointslices", "create delete get list update")],
    "job-controller": [r("batch", "jobs", "get list patch update watch"),
                       r("batch", "jobs/status jobs/finalizers", "update"),
                       r('""', "pods", "create delete list patch watch")],
    "cronjob-controller": [r("batch", "cronjobs", "get list update watch"),
                           r("batch", "jobs", "create delete get list patch update watch"),
                           r("batch", "cronjobs/status cronjobs/finalizers", "update"),
                           r('""', "pods", "delete list")],
    "daemon-set-controller": [r("apps", "daemonsets", "get list watch"),
                              r("apps", "daemonsets/status daemonsets/finalizers", "update"),
                              r('""', "nodes", "list watch"),
                              r('""', "pods", "create delete list patch watch"),
                              r('""', "pods/binding", "create"),
                              r("apps", "controllerrevisions", "create delete get list patch update watch")],
    "statefulset-controller": [r('""', "pods", "list watch"),
                               r("apps", "statefulsets", "list watch"),
                               r("apps", "statefulsets", "get"),
                               r("apps", "statefulsets/status statefulsets/finalizers", "update"),
                               r('""', "pods", "create delete get patch update"),
                               r("apps", "controllerrevisions", "create delete get list patch update watch"),
                               r('""', "persistentvolumeclaims", "create get update")],
    "persistent-volume-binder": [r('""', "persistentvolumes", "create delete get list update watch"),
                                 r('""', "persistentvolumes/status", "update"),
                                 r('""', "persistentvolumeclaims", "get list update watch"),
                                 r('""', "persistentvolumeclaims/status", "update"),
                                 r('""', "pods", "create delete get list watch")],
    "generic-garbage-collector": [r("*", "*", "delete get list patch update watch")],
    "ttl-after-finished-controller": [r("batch", "jobs", "delete get list watch")],
    "horizontal-pod-autoscaler": [r("autoscaling", "horizontalpodautoscalers", "get list watch"),
                                  r("autoscaling", "horizontalpodautoscalers/status", "update"),
                                  r("*", "*/scale", "get update"),
                                  r('""', "pods", "list"),
                                  r("metrics.k8s.io", "pods", "list")],
    "namespace-controller": [r('""', "namespaces", "delete get list watch"),
                             r('""', "namespaces/finalize namespaces/status", "update"),
                             r("*", "*", "delete deletecollection get list")],
    "service-account-controller": [r('""', "serviceaccounts", "create")],
    "pod-garbage-collector": [r('""', "pods", "delete list watch"), r('""', "nodes", "get list"),
                              r('""', "pods/status", "patch")],
    "node-controller": [r('""', "nodes", "delete get list patch update"),
                        r('""', "nodes/status", "patch update"),
                        r('""', "pods/status", "patch update"),
                        r('""', "pods", "delete list")],
    "root-ca-cert-publisher": [r('""', "configmaps", "create update")],
}


def _meta(name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {"name": name, "labels": {**BOOTSTRAP_LABELS, **(labels or {})}, "annotations": {AUTOUPDATE: "true"}}


def cluster_role(name: str, rules: list[Rule], labels: dict[str, str] | None = None,
                 aggregate_from: str = "") -> dict[str, Any]:
    role: dict[str, Any] = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                            "metadata": _meta(name, labels), "rules": rules}
    if aggregate_from:
        role["aggregationRule"] = {"clusterRoleSelectors": [
            {"matchLabels": {f"{AGGREGATE}{aggregate_from}": "true"}}]}
    return role


def binding(name: str, role: str, subjects: list[tuple[str, str]]) -> dict[str, Any]:
    """A ClusterRoleBinding; subjects as (kind, name) with ServiceAccounts as `namespace:name`."""
    out = []
    for kind, subject in subjects:
        if kind == "ServiceAccount":
            ns, _, sa = subject.partition(":")
            out.append({"kind": kind, "name": sa, "namespace": ns})
        else:
            out.append({"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": subject})
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": _meta(name), "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                                 "name": role}, "subjects": out}


def cluster_roles() -> list[dict[str, Any]]:
    label = AGGREGATE  # the aggregation labels: view -> edit -> admin
    roles = [
        cluster_role("cluster-admin", [r("*", "*", "*"), urls("*", "*")]),
        cluster_role("system:discovery", [urls(DISCOVERY_URLS)]),
        cluster_role("system:basic-user", [
            r("authorization.k8s.io", "selfsubjectaccessreviews selfsubjectrulesreviews", "create"),
            r("authentication.k8s.io", "selfsubjectreviews", "create")]),
        cluster_role("system:public-info-viewer", [urls(PUBLIC_URLS)]),
        cluster_role("admin", [], aggregate_from="admin"),
        cluster_role("edit", [], {f"{label}admin": "true"}, aggregate_from="edit"),
        cluster_role("view", [], {f"{label}edit": "true"}, aggregate_from="view"),
        cluster_role("system:aggregate-to-admin", ADMIN, {f"{label}admin": "true"}),
        cluster_role("system:aggregate-to-edit", EDIT, {f"{label}edit": "true"}),
        cluster_role("system:aggregate-to-view", VIEW, {f"{label}view": "true"}),
        cluster_role("system:monitoring", [urls("/healthz /healthz/* /livez /livez/* /metrics /metrics/slis "
                                                "/readyz /readyz/*")]),
        cluster_role("system:service-account-issuer-discovery", [
            urls("/.well-known/openid-configuration /.well-known/openid-configuration/ /openid/v1/jwks "
                 "/openid/v1/jwks/")]),
        cluster_role("system:auth-delegator", [r("authentication.k8s.io", "tokenreviews", "create"),
                                               r("authorization.k8s.io", "subjectaccessreviews", "create")]),
        cluster_role("system:node", NODE),
        cluster_role("system:node-proxier", NODE_PROXIER),
        cluster_role("system:kube-dns", [r('""', "endpoints services", "list watch"),
                                         r("discovery.k8s.io", "endpointslices", "list watch")]),
        cluster_role("system:kube-scheduler", SCHEDULER),
        cluster_role("system:kube-controller-manager", CONTROLLER_MANAGER),
        cluster_role("system:kubelet-api-admin", [r('""', "nodes", "get list watch proxy"),
                                                  r('""', "nodes/log nodes/metrics nodes/proxy nodes/stats", "*")]),
        cluster_role("system:persistent-volume-provisioner", [
            r('""', "persistentvolumes", "create delete get list watch"),
            r('""', "persistentvolumeclaims", "get list update watch"), *_events()]),
    ]
    # skiff's node agents also run the Service proxy and the cluster DNS (upstream: kube-proxy and
    # CoreDNS with identities of their own): what those need, for nodes' own identities
    roles.append(cluster_role("skiff:node-agent-services", [
        *NODE_PROXIER, r('""', "services/status", "patch update"),
        r("discovery.k8s.io", "endpointslices", "create delete get list update watch")]))
    roles.extend(cluster_role(f"system:controller:{name}", [*rules, *_events()])
                 for name, rules in _CONTROLLERS.items())
    return roles


def cluster_role_bindings() -> list[dict[str, Any]]:
    out = [
        binding("cluster-admin", "cluster-admin", [("Group", "system:masters")]),
        binding("system:discovery", "system:discovery", [("Group", "system:authenticated")]),
        binding("system:basic-user", "system:basic-user", [("Group", "system:authenticated")]),
        binding("system:public-info-viewer", "system:public-info-viewer",
                [("Group", "system:authenticated"), ("Group", "system:unauthenticated")]),
        binding("system:monitoring", "system:monitoring", [("Group", "system:monitoring")]),
        binding("system:service-account-issuer-discovery", "system:service-account-issuer-discovery",
                [("Group", "system:serviceaccounts")]),
        binding("system:node", "system:node", []),  # empty since 1.8: the Node authorizer decides
        binding("system:node-proxier", "system:node-proxier", [("User", "system:kube-proxy")]),
        binding("system:kube-dns", "system:kube-dns", [("ServiceAccount", "kube-system:kube-dns")]),
        binding("system:kube-scheduler", "system:kube-scheduler", [("User", "system:kube-scheduler")]),
        binding("system:kube-controller-manager", "system:kube-controller-manager",
                [("User", "system:kube-controller-manager")]),
        # skiff: agents joining with the shared token (see docs/security.md)
        binding("skiff:node-agent", "cluster-admin", [("User", NODE_AGENT_USER)]),
        binding("skiff:node-agent-services", "skiff:node-agent-services", [("Group", "system:nodes")]),
    ]
    out.extend(binding(f"system:controller:{name}", f"system:controller:{name}",
                       [("ServiceAccount", f"kube-system:{name}")]) for name in _CONTROLLERS)
    return out
