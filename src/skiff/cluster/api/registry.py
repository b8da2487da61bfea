"""Every group/version/resource skiff serves, as kube-apiserver 1.32 advertises it.

Plurals, short names, categories, verbs and subresources are what discovery (and so
`kubectl api-resources`) shows for a real cluster.
"""

from __future__ import annotations

from dataclasses import dataclass

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
NO_COLLECTION_DELETE = ("create", "delete", "get", "list", "patch", "update", "watch")

# group -> the Go package name in OpenAPI definition names (io.k8s.api.<pkg>.<version>.<Kind>)
_API_PACKAGE = {
    "": "core",
    "apps": "apps",
    "batch": "batch",
    "autoscaling": "autoscaling",
    "coordination.k8s.io": "coordination",
    "discovery.k8s.io": "discovery",
    "networking.k8s.io": "networking",
    "events.k8s.io": "events",
    "scheduling.k8s.io": "scheduling",
    "policy": "policy",
    "authentication.k8s.io": "authentication",
}


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    subresources: tuple[str, ...] = ()

    @property
    def list_kind(self) -> str:
        return self.kind + "List"

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_resource(self) -> str:
        """`deployments.apps`, or `pods` for the core group: how errors name the resource."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def definition(self) -> str:
        """The OpenAPI definition name of the kind."""
        return definition_name(self.group, self.version, self.kind)


@dataclass(frozen=True)
class Subresource:
    name: str
    group: str
    version: str
    kind: str
    verbs: tuple[str, ...]


def definition_name(group: str, version: str, kind: str) -> str:
    if group == "apiextensions.k8s.io":
        return f"io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.{version}.{kind}"
    package = _API_PACKAGE.get(group, group.split(".")[0])
    return f"io.k8s.api.{package}.{version}.{kind}"


def _r(group: str, version: str, kind: str, plural: str, namespaced: bool = True, short: tuple[str, ...] = (),
       all_category: bool = False, verbs: tuple[str, ...] = ALL_VERBS, sub: tuple[str, ...] = ()) -> Resource:
    return Resource(group, version, kind, plural, kind.lower(), namespaced, short,
                    ("all",) if all_category else (), verbs, sub)


_SCALED = ("scale", "status")
_POD_SUBRESOURCES = ("attach", "binding", "ephemeralcontainers", "eviction", "exec", "log", "portforward",
                     "proxy", "status")

_RESOURCES: tuple[Resource, ...] = (
    # core/v1
    _r("", "v1", "ConfigMap", "configmaps", short=("cm",)),
    _r("", "v1", "Endpoints", "endpoints", short=("ep",)),
    _r("", "v1", "Event", "events", short=("ev",)),
    _r("", "v1", "LimitRange", "limitranges", short=("limits",)),
    _r("", "v1", "Namespace", "namespaces", namespaced=False, short=("ns",), verbs=NO_COLLECTION_DELETE,
       sub=("finalize", "status")),
    _r("", "v1", "Node", "nodes", namespaced=False, short=("no",), sub=("proxy", "status")),
    _r("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", short=("pvc",), sub=("status",)),
    _r("", "v1", "PersistentVolume", "persistentvolumes", namespaced=False, short=("pv",), sub=("status",)),
    _r("", "v1", "Pod", "pods", short=("po",), all_category=True, sub=_POD_SUBRESOURCES),
    _r("", "v1", "ReplicationController", "replicationcontrollers", short=("rc",), all_category=True, sub=_SCALED),
    _r("", "v1", "ResourceQuota", "resourcequotas", short=("quota",), sub=("status",)),
    _r("", "v1", "Secret", "secrets"),
    _r("", "v1", "ServiceAccount", "serviceaccounts", short=("sa",), sub=("token",)),
    _r("", "v1", "Service", "services", short=("svc",), all_category=True, sub=("proxy", "status")),
    # apps/v1
    _r("apps", "v1", "ControllerRevision", "controllerrevisions"),
    _r("apps", "v1", "DaemonSet", "daemonsets", short=("ds",), all_category=True, sub=("status",)),
    _r("apps", "v1", "Deployment", "deployments", short=("deploy",), all_category=True, sub=_SCALED),
    _r("apps", "v1", "ReplicaSet", "replicasets", short=("rs",), all_category=True, sub=_SCALED),
    _r("apps", "v1", "StatefulSet", "statefulsets", short=("sts",), all_category=True, sub=_SCALED),
    # batch/v1
    _r("batch", "v1", "CronJob", "cronjobs", short=("cj",), all_category=True, sub=("status",)),
    _r("batch", "v1", "Job", "jobs", all_category=True, sub=("status",)),
    # autoscaling (v2 preferred)
    _r("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", short=("hpa",),
       all_category=True, sub=("status",)),
    _r("autoscaling", "v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers", short=("hpa",),
       all_category=True, sub=("status",)),
    _r("coordination.k8s.io", "v1", "Lease", "leases"),
    _r("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices"),
    _r("events.k8s.io", "v1", "Event", "events", short=("ev",)),
    _r("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", short=("netpol",)),
    _r("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", namespaced=False, short=("pc",)),
    # RBAC (stored) and the review kinds (create-only, answered by apiserver/authz, never stored)
    _r("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", namespaced=False),
    _r("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", namespaced=False),
    _r("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings"),
    _r("rbac.authorization.k8s.io", "v1", "Role", "roles"),
    _r("authorization.k8s.io", "v1", "LocalSubjectAccessReview", "localsubjectaccessreviews", verbs=("create",)),
    _r("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", namespaced=False,
       verbs=("create",)),
    _r("authorization.k8s.io", "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews", namespaced=False,
       verbs=("create",)),
    _r("authorization.k8s.io", "v1", "SubjectAccessReview", "subjectaccessreviews", namespaced=False,
       verbs=("create",)),
    _r("authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", namespaced=False, verbs=("create",)),
    # Custom resources are not served, so no CRD can be made; the (empty) list is readable, as
    # kubectl reads it to tell a kind missing from /openapi/v2 (a review kind) from a CRD's.
    Resource("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions",
             "customresourcedefinition", False, ("crd", "crds"), ("api-extensions",), ("get", "list", "watch")),
)

# Group order as kube-apiserver lists groups in discovery.
GROUP_ORDER = ("", "apps", "events.k8s.io", "authentication.k8s.io", "authorization.k8s.io", "autoscaling",
               "batch", "networking.k8s.io", "rbac.authorization.k8s.io", "discovery.k8s.io", "apiextensions.k8s.io",
               "scheduling.k8s.io",
               "coordination.k8s.io")

_BY_PATH = {(r.group, r.version, r.plural): r for r in _RESOURCES}


def all_resources() -> list[Resource]:
    return list(_RESOURCES)


def find(group: str, version: str, plural: str) -> Resource | None:
    return _BY_PATH.get((group, version, plural))


def find_kind(group: str, version: str, kind: str) -> Resource | None:
    for r in _RESOURCES:
        if (r.group, r.version, r.kind) == (group, version, kind):
            return r
    return None


def for_api_version(api_version: str, kind: str) -> Resource | None:
    """The resource an object's apiVersion/kind names (`apps/v1`, `Deployment`)."""
    group, _, version = api_version.rpartition("/")
    return find_kind(group, version, kind)


def versions_of(group: str) -> list[str]:
    """Served versions, preferred first."""
    seen: list[str] = []
    for r in _RESOURCES:
        if r.group == group and r.version not in seen:
            seen.append(r.version)
    return seen


def groups() -> list[str]:
    return [g for g in GROUP_ORDER if versions_of(g)]


def preferred_versions() -> dict[str, str]:
    return {g: versions_of(g)[0] for g in groups()}


def resources_in(group: str, version: str) -> list[Resource]:
    return [r for r in _RESOURCES if r.group == group and r.version == version]


def subresource(res: Resource, name: str) -> Subresource | None:
    """What discovery says about `<plural>/<name>`: its kind and verbs."""
    if name not in res.subresources:
        return None
    same = (res.group, res.version, res.kind)
    table: dict[str, tuple[tuple[str, str, str], tuple[str, ...]]] = {
        "status": (same, ("get", "patch", "update")),
        "scale": (("autoscaling", "v1", "Scale"), ("get", "patch", "update")),
        "binding": (("", "v1", "Binding"), ("create",)),
        "eviction": (("policy", "v1", "Eviction"), ("create",)),
        "ephemeralcontainers": (same, ("get", "patch", "update")),
        "log": (same, ("get",)),
        "exec": (("", "v1", "PodExecOptions"), ("create", "get")),
        "attach": (("", "v1", "PodAttachOptions"), ("create", "get")),
        "portforward": (("", "v1", "PodPortForwardOptions"), ("create", "get")),
        "proxy": (("", "v1", f"{res.kind}ProxyOptions"), ("create", "delete", "get", "patch", "update")),
        "finalize": (same, ("update",)),
        "token": (("authentication.k8s.io", "v1", "TokenRequest"), ("create",)),
    }
    (group, version, kind), verbs = table[name]
    return Subresource(name, group, version, kind, verbs)
