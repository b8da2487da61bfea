"""RBAC rule evaluation, request attributes, the index, escalation's covers, aggregation, impersonation, Node."""

import asyncio

import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from skiff.cluster.apimachinery.errors import ApiError
from skiff.cluster.apiserver.authn import User
from skiff.cluster.apiserver.authz import aggregation, impersonation, node, policy
from skiff.cluster.apiserver.authz.attributes import for_path, for_resource, from_request
from skiff.cluster.apiserver.authz.authorizer import Authorizer, forbidden_error, parse_modes
from skiff.cluster.apiserver.authz.index import RbacIndex
from skiff.cluster.apiserver.authz.rules import allows, describe, uncovered
from skiff.cluster.apiserver.authz.sync import reconciled

SA = User("system:serviceaccount:default:default", "u1",
          ("system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"))
BOB = User("bob", groups=("devs", "system:authenticated"))


def res(verb, resource, group="", sub="", ns="default", name="", user=SA):
    return for_resource(user, verb, group, resource, sub, ns, name)


@pytest.mark.parametrize("rule,attrs,want", [
    ({"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}, res("get", "pods"), True),
    ({"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}, res("list", "pods"), False),
    ({"apiGroups": [""], "resources": ["pods"], "verbs": ["*"]}, res("deletecollection", "pods"), True),
    ({"apiGroups": ["apps"], "resources": ["pods"], "verbs": ["get"]}, res("get", "pods"), False),
    ({"apiGroups": ["*"], "resources": ["deployments"], "verbs": ["get"]}, res("get", "deployments", "apps"), True),
    ({"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}, res("get", "pods", sub="log"), False),
    ({"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]}, res("get", "pods", sub="log"), True),
    ({"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]}, res("get", "pods"), False),
    ({"apiGroups": [""], "resources": ["*"], "verbs": ["get"]}, res("get", "pods", sub="log"), True),
    ({"apiGroups": ["apps"], "resources": ["*/scale"], "verbs": ["update"]},
     res("update", "deployments", "apps", "scale"), True),
    ({"apiGroups": [""], "resources": ["pods"], "verbs": ["get"], "resourceNames": ["web"]},
     res("get", "pods", name="web"), True),
    ({"apiGroups": [""], "resources": ["pods"], "verbs": ["get"], "resourceNames": ["web"]},
     res("get", "pods", name="db"), False),
    ({"apiGroups": [""], "resources": ["pods"], "verbs": ["list"], "resourceNames": ["web"]},
     res("list", "pods"), False),  # a name-limited rule never grants an unnamed list
    ({"nonResourceURLs": ["/healthz"], "verbs": ["get"]}, for_path(SA, "get", "/healthz"), True),
    ({"nonResourceURLs": ["/healthz"], "verbs": ["get"]}, for_path(SA, "get", "/healthz/etcd"), False),
    ({"nonResourceURLs": ["/apis/*"], "verbs": ["get"]}, for_path(SA, "get", "/apis/apps/v1"), True),
    ({"nonResourceURLs": ["/apis/*"], "verbs": ["get"]}, for_path(SA, "post", "/apis/apps"), False),
    ({"nonResourceURLs": ["*"], "verbs": ["*"]}, for_path(SA, "delete", "/anything"), True),
    ({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}, for_path(SA, "get", "/metrics"), False),
    ({"nonResourceURLs": ["*"], "verbs": ["*"]}, res("get", "pods"), False),
])
def test_rule_matching(rule, attrs, want):
    assert allows(rule, attrs) is want


@pytest.mark.parametrize("method,path,query,want", [
    ("GET", "/api/v1/namespaces/default/pods", {}, ("list", "", "pods", "", "default", "")),
    ("GET", "/api/v1/namespaces/default/pods", {"watch": "true"}, ("watch", "", "pods", "", "default", "")),
    ("GET", "/api/v1/pods", {"watch": "1"}, ("watch", "", "pods", "", "", "")),
    ("GET", "/api/v1/namespaces/default/pods/web/log", {}, ("get", "", "pods", "log", "default", "web")),
    ("POST", "/api/v1/namespaces/d/pods/web/exec", {}, ("create", "", "pods", "exec", "d", "web")),
    ("GET", "/api/v1/namespaces/d/pods/web:80/proxy/x/y", {}, ("get", "", "pods", "proxy", "d", "web:80")),
    ("PUT", "/apis/apps/v1/namespaces/d/deployments/w/scale", {}, ("update", "apps", "deployments", "scale", "d", "w")),
    ("PATCH", "/api/v1/nodes/n1/status", {}, ("patch", "", "nodes", "status", "", "n1")),
    ("DELETE", "/api/v1/namespaces/d/configmaps", {}, ("deletecollection", "", "configmaps", "", "d", "")),
    ("DELETE", "/api/v1/namespaces/d/configmaps/c", {}, ("delete", "", "configmaps", "", "d", "c")),
    ("GET", "/api/v1/namespaces/kube-system", {}, ("get", "", "namespaces", "", "kube-system", "kube-system")),
    ("GET", "/api/v1/namespaces/d/pods", {"fieldSelector": "metadata.name=web", "watch": "true"},
     ("watch", "", "pods", "", "d", "web")),
])
def test_request_attributes(method, path, query, want):
    a = from_request(SA, method, path, query)
    assert a.resource_request
    assert (a.verb, a.api_group, a.resource, a.subresource, a.namespace, a.name) == want


@pytest.mark.parametrize("method,path,verb", [("GET", "/apis", "get"), ("GET", "/api", "get"),
                                              ("GET", "/apis/apps/v1", "get"), ("POST", "/healthz", "post"),
                                              ("GET", "/openapi/v3", "get"), ("HEAD", "/version", "head")])
def test_non_resource_attributes(method, path, verb):
    a = from_request(SA, method, path, {})
    assert not a.resource_request and (a.verb, a.path) == (verb, path)


def _cr(name, rules, labels=None, aggregate=None):
    obj = {"metadata": {"name": name, "labels": labels or {}}, "rules": rules}
    if aggregate:
        obj["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": aggregate}]}
    return obj


def _binding(name, role_kind, role, subjects, ns=""):
    meta = {"name": name, **({"namespace": ns} if ns else {})}
    return {"metadata": meta, "roleRef": {"kind": role_kind, "name": role}, "subjects": subjects}


READ_PODS = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}


def _index():
    idx = RbacIndex()
    idx.apply("clusterroles", _cr("pod-reader", [READ_PODS]))
    idx.apply("roles", {"metadata": {"name": "cm", "namespace": "team"},
                        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["*"]}]})
    return idx


def test_role_binding_scopes_a_cluster_role_to_its_namespace():
    idx = _index()
    idx.apply("rolebindings", _binding("rb", "ClusterRole", "pod-reader",
                                       [{"kind": "ServiceAccount", "name": "default", "namespace": "default"}], "default"))
    assert idx.allowed(res("list", "pods"))[0]
    assert not idx.allowed(res("list", "pods", ns="kube-system"))[0]
    assert not idx.allowed(res("list", "pods", ns=""))[0]  # all namespaces needs a ClusterRoleBinding


def test_cluster_role_binding_is_everywhere_and_groups_match():
    idx = _index()
    idx.apply("clusterrolebindings", _binding("crb", "ClusterRole", "pod-reader", [{"kind": "Group", "name": "devs"}]))
    assert idx.allowed(res("list", "pods", ns="", user=BOB))[0]
    assert idx.allowed(res("get", "pods", ns="x", user=BOB))[0]
    assert not idx.allowed(res("list", "pods", ns="", user=SA))[0]
    idx.apply("clusterrolebindings", _binding("crb", "ClusterRole", "pod-reader", [{"kind": "Group", "name": "devs"}]),
              deleted=True)
    assert not idx.allowed(res("list", "pods", user=BOB))[0]


def test_service_account_groups_and_a_role_in_its_namespace():
    idx = _index()
    idx.apply("rolebindings", _binding("rb", "Role", "cm", [{"kind": "Group", "name": "system:serviceaccounts:default"}],
                                       "team"))
    assert idx.allowed(res("delete", "configmaps", ns="team"))[0]
    assert not idx.allowed(res("delete", "configmaps", ns="default"))[0]
    # a RoleBinding's Role is looked up in the binding's namespace
    idx.apply("rolebindings", _binding("rb2", "Role", "cm", [{"kind": "User", "name": "bob"}], "default"))
    allowed, reason = idx.allowed(res("get", "configmaps", ns="default", user=BOB))
    assert not allowed and reason == 'RBAC: role.rbac.authorization.k8s.io "cm" not found'


def test_rebinding_replaces_subjects():
    idx = _index()
    idx.apply("clusterrolebindings", _binding("b", "ClusterRole", "pod-reader", [{"kind": "User", "name": "bob"}]))
    idx.apply("clusterrolebindings", _binding("b", "ClusterRole", "pod-reader", [{"kind": "User", "name": "amy"}]))
    assert not idx.allowed(res("get", "pods", user=BOB))[0]
    assert idx.allowed(res("get", "pods", user=User("amy")))[0]


def test_forbidden_messages_are_kubernetes_wording():
    e = forbidden_error(res("list", "pods"), "")
    assert (e.code, e.reason) == (403, "Forbidden")
    assert e.message == ('pods is forbidden: User "system:serviceaccount:default:default" cannot list resource "pods" '
                         'in API group "" in the namespace "default"')
    e = forbidden_error(res("get", "deployments", "apps", "scale", "", "web"), "")
    assert e.message == ('deployments.apps "web" is forbidden: User "system:serviceaccount:default:default" cannot '
                         'get resource "deployments/scale" in API group "apps" at the cluster scope')
    assert e.status()["details"] == {"name": "web", "group": "apps", "kind": "deployments"}
    e = forbidden_error(for_path(BOB, "get", "/metrics"), "")
    assert e.message == 'forbidden: User "bob" cannot get path "/metrics"'


def test_modes_and_masters():
    assert parse_modes("Node,RBAC") == ("Node", "RBAC")
    for bad in ("", "ABAC", "RBAC,RBAC"):
        with pytest.raises(ValueError):
            parse_modes(bad)
    authz = Authorizer(("RBAC",))
    admin = User("system:admin", groups=("system:masters", "system:authenticated"))
    assert asyncio.run(authz.authorize(res("delete", "nodes", ns="", user=admin)))[0]
    assert not asyncio.run(authz.authorize(res("get", "pods")))[0]
    assert asyncio.run(Authorizer(("AlwaysAllow",)).authorize(res("get", "pods")))[0]
    assert asyncio.run(Authorizer(("AlwaysDeny",)).authorize(res("get", "pods"))) == (False, "Everything is forbidden.")


def test_escalation_covers():
    owned = [READ_PODS, {"apiGroups": ["apps"], "resources": ["deployments", "pods/*"], "verbs": ["*"]},
             {"nonResourceURLs": ["/logs/*"], "verbs": ["get"]}]
    assert uncovered(owned, [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]) == []
    assert uncovered(owned, [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["delete", "patch"]}]) == []
    assert uncovered(owned, [{"nonResourceURLs": ["/logs/a"], "verbs": ["get"]}]) == []
    missing = uncovered(owned, [{"apiGroups": [""], "resources": ["pods", "secrets"], "verbs": ["get", "delete"]}])
    assert [describe(m) for m in missing] == ['{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}',
                                              '{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}',
                                              '{APIGroups:[""], Resources:["secrets"], Verbs:["delete"]}']
    # a requested wildcard is covered only by an owned wildcard
    assert uncovered(owned, [{"apiGroups": [""], "resources": ["*"], "verbs": ["get"]}])
    assert uncovered([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}],
                     [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]) == []
    # resourceNames: an unnamed grant covers named requests, not the reverse
    named = [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"], "resourceNames": ["web"]}]
    assert uncovered(named, [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"], "resourceNames": ["web"]}]) == []
    assert uncovered(named, [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}])


def test_aggregation_collects_labelled_roles_in_name_order():
    roles = {r["metadata"]["name"]: r for r in [
        _cr("view", [], aggregate={"agg/view": "true"}),
        _cr("b-extra", [READ_PODS], {"agg/view": "true"}),
        _cr("a-extra", [{"apiGroups": ["x"], "resources": ["w"], "verbs": ["get"]}, READ_PODS], {"agg/view": "true"}),
        _cr("other", [{"apiGroups": ["y"], "resources": ["z"], "verbs": ["get"]}]),
    ]}
    assert aggregation.aggregated_rules(roles["view"], roles) == [
        {"apiGroups": ["x"], "resources": ["w"], "verbs": ["get"]}, READ_PODS]
    assert aggregation.aggregated_rules(roles["other"], roles) is None
    assert list(aggregation.pending(roles)) == ["view"]


def test_bootstrap_policy_aggregates_view_into_edit_into_admin():
    roles = {r["metadata"]["name"]: r for r in policy.cluster_roles()}
    for _ in range(3):
        for name, rules in aggregation.pending(roles).items():
            roles[name] = {**roles[name], "rules": rules}
    idx = RbacIndex()
    for r in roles.values():
        idx.apply("clusterroles", r)
    for b in policy.cluster_role_bindings():
        idx.apply("clusterrolebindings", b)
    for role, can, cannot in (("view", ("list", "pods"), ("get", "secrets")),
                              ("edit", ("get", "secrets"), ("create", "roles")),
                              ("admin", ("create", "roles"), ("create", "namespaces"))):
        user = User(f"u-{role}")
        idx.apply("rolebindings", _binding(role, "ClusterRole", role, [{"kind": "User", "name": user.name}], "ns1"))
        group = "rbac.authorization.k8s.io" if can[1] == "roles" else ""
        assert idx.allowed(res(can[0], can[1], group, ns="ns1", user=user))[0], role
        group = "rbac.authorization.k8s.io" if cannot[1] == "roles" else ""
        assert not idx.allowed(res(cannot[0], cannot[1], group, ns="ns1", user=user))[0], role
    everyone = User("x", groups=("system:authenticated",))
    assert idx.allowed(for_path(everyone, "get", "/apis/apps/v1"))[0]
    assert idx.allowed(res("create", "selfsubjectaccessreviews", "authorization.k8s.io", ns="", user=everyone))[0]
    assert not idx.allowed(res("list", "pods", ns="", user=everyone))[0]
    assert idx.allowed(res("delete", "nodes", ns="", user=User("node", groups=("system:nodes",))))[0]


def test_reconcile_adds_what_is_missing_and_respects_autoupdate_false():
    wanted = policy.cluster_role("r", [READ_PODS])
    have = {"metadata": {"name": "r", "labels": {"mine": "1"}}, "rules": [{"apiGroups": ["x"], "resources": ["y"],
                                                                            "verbs": ["get"]}]}
    out = reconciled(have, wanted)
    assert out is not None and READ_PODS in out["rules"] and len(out["rules"]) == 2
    assert out["metadata"]["labels"]["mine"] == "1"
    assert reconciled(out, wanted) is None
    frozen = {"metadata": {"name": "r", "annotations": {policy.AUTOUPDATE: "false"}}, "rules": []}
    assert reconciled(frozen, wanted) is None


def _headers(pairs):
    return CIMultiDictProxy(CIMultiDict(pairs))


def test_impersonation_checks_and_user():
    name, groups, uid, checks = impersonation.requested(
        BOB, _headers([("Impersonate-User", "system:serviceaccount:ns1:robot"), ("Impersonate-Group", "g1"),
                       ("Impersonate-Group", "g2")]))
    assert [(c.verb, c.resource, c.namespace, c.name) for c in checks] == [
        ("impersonate", "serviceaccounts", "ns1", "robot"), ("impersonate", "groups", "", "g1"),
        ("impersonate", "groups", "", "g2")]
    user = impersonation.impersonated(name, groups, uid)
    assert user.groups == ("g1", "g2", "system:serviceaccounts", "system:serviceaccounts:ns1", "system:authenticated")
    _, _, _, checks = impersonation.requested(BOB, _headers([("Impersonate-User", "amy")]))
    assert [(c.resource, c.name) for c in checks] == [("users", "amy")]
    with pytest.raises(ApiError) as e:
        impersonation.requested(BOB, _headers([("Impersonate-Group", "g1")]))
    assert e.value.code == 400


NODE1 = User("system:node:n1", groups=("system:nodes", "system:authenticated"))


def _pods(namespace):
    async def list_pods(ns):
        return [{"metadata": {"name": "p1"}, "spec": {"nodeName": "n1", "serviceAccountName": "robot", "volumes": [
                    {"name": "s", "secret": {"secretName": "db-pass"}}], "containers": [
                    {"name": "c", "envFrom": [{"configMapRef": {"name": "settings"}}]}]}},
                {"metadata": {"name": "p2"}, "spec": {"nodeName": "n2", "volumes": [
                    {"name": "s", "secret": {"secretName": "other"}}]}}] if ns == namespace else []
    return list_pods


@pytest.mark.parametrize("attrs,want", [
    (res("get", "secrets", name="db-pass", user=NODE1), node.ALLOW),
    (res("get", "configmaps", name="settings", user=NODE1), node.ALLOW),
    (res("get", "secrets", name="other", user=NODE1), node.NO_OPINION),
    (res("list", "secrets", user=NODE1), node.NO_OPINION),
    (res("create", "serviceaccounts", sub="token", name="robot", user=NODE1), node.ALLOW),
    (res("create", "serviceaccounts", sub="token", name="admin", user=NODE1), node.NO_OPINION),
    (res("update", "pods", sub="status", name="p1", user=NODE1), node.ALLOW),
    (res("update", "pods", sub="status", name="p2", user=NODE1), node.NO_OPINION),
    (res("patch", "nodes", sub="status", ns="", name="n1", user=NODE1), node.ALLOW),
    (res("patch", "nodes", sub="status", ns="", name="n2", user=NODE1), node.NO_OPINION),
    (res("update", "leases", "coordination.k8s.io", ns="kube-node-lease", name="n1", user=NODE1), node.ALLOW),
    (res("update", "leases", "coordination.k8s.io", ns="kube-node-lease", name="n2", user=NODE1), node.NO_OPINION),
    (res("list", "pods", ns="", user=NODE1), node.ALLOW),
    (res("delete", "deployments", "apps", user=NODE1), node.NO_OPINION),
    (res("get", "secrets", name="db-pass", user=BOB), node.NO_OPINION),  # not a node: no opinion
])
def test_node_authorizer(attrs, want):
    decision, _ = asyncio.run(node.authorize(attrs, _pods(attrs.namespace or "default")))
    assert decision == want


def test_node_reasons():
    _, why = asyncio.run(node.authorize(res("get", "secrets", name="other", user=NODE1), _pods("default")))
    assert why == "no relationship found between node 'n1' and this object"


def test_binding_and_role_columns():
    from datetime import UTC, datetime

    from skiff.cluster.api import registry
    from skiff.cluster.api.printers import table

    rb = registry.find("rbac.authorization.k8s.io", "v1", "rolebindings")
    obj = {"metadata": {"name": "rb", "creationTimestamp": "2026-01-01T00:00:00Z"},
           "roleRef": {"kind": "ClusterRole", "name": "view"},
           "subjects": [{"kind": "User", "name": "bob"}, {"kind": "Group", "name": "devs"},
                        {"kind": "ServiceAccount", "name": "default", "namespace": "ns1"}]}
    t = table(rb, [obj], wide=True, now=datetime(2026, 1, 1, 0, 5, tzinfo=UTC))
    assert [c["name"] for c in t["columnDefinitions"]] == ["Name", "Role", "Age", "Users", "Groups", "ServiceAccounts"]
    assert t["rows"][0]["cells"] == ["rb", "ClusterRole/view", "5m", "bob", "devs", "ns1/default"]
    cr = registry.find("rbac.authorization.k8s.io", "v1", "clusterroles")
    t = table(cr, [obj], wide=False, now=datetime(2026, 1, 1, tzinfo=UTC))
    assert t["rows"][0]["cells"] == ["rb", "2026-01-01T00:00:00Z"]


def test_kubectl_can_i_texts():
    from skiff.cli.kubectl.auth import answer_text, rules_table, whoami_table

    assert answer_text({"allowed": True, "reason": "x"}) == "yes"
    assert answer_text({"allowed": False}) == "no"
    assert answer_text({"allowed": False, "reason": "r", "evaluationError": "e"}) == "no - r - e"
    table = rules_table({"resourceRules": [{"verbs": ["get", "list"], "apiGroups": ["", "apps"],
                                            "resources": ["pods", "deployments/scale"]},
                                           {"verbs": ["watch"], "apiGroups": [""], "resources": ["pods"]}],
                         "nonResourceRules": [{"verbs": ["get"], "nonResourceURLs": ["/api"]}]})
    # sorted by Go's PolicyRule String(), which starts with the verbs: "[get list watch]" < "[get list]"
    assert table.splitlines() == [
        "Resources                Non-Resource URLs   Resource Names   Verbs",
        "pods                     []                  []               [get list watch]",
        "deployments/scale        []                  []               [get list]",
        "deployments.apps/scale   []                  []               [get list]",
        "pods.apps                []                  []               [get list]",
        "                         [/api]              []               [get]",
    ]
    assert whoami_table({"username": "bob", "groups": ["a", "b"]}) == (
        "ATTRIBUTE   VALUE\nUsername    bob\nGroups      [a b]\n")
