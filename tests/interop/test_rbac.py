"""RBAC through the real kubectl and the kubernetes client: 403s in Kubernetes' words, RoleBindings,
`kubectl auth can-i` / `whoami`, impersonation, aggregation, escalation."""

from __future__ import annotations

import time

import pytest
import yaml

from tests.support.procs import ok

pytestmark = pytest.mark.interop

k8s = pytest.importorskip("kubernetes")
from kubernetes import client, config  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402


def _sa_kubeconfig(kube_server, namespace, tmp_path, account="default"):
    token = ok(kube_server.kubectl("create", "token", account, "-n", namespace)).strip()
    cfg = yaml.safe_load(kube_server.kubeconfig.read_text())
    cfg["users"][0]["user"] = {"token": token}
    path = tmp_path / f"{account}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return {"KUBECONFIG": str(path)}, token


def _eventually(run, done, timeout=60.0):
    """The authorizer follows RBAC objects through the watch cache: retry until it has."""
    deadline = time.monotonic() + timeout
    while True:
        got = run()
        if done(got) or time.monotonic() > deadline:
            return got
        time.sleep(0.1)


def test_service_account_forbidden_then_view_in_its_namespace_only(kube_server, namespace, tmp_path):
    env, _ = _sa_kubeconfig(kube_server, namespace, tmp_path)
    denied = kube_server.kubectl("get", "pods", "-n", namespace, env=env)
    assert denied.returncode == 1
    assert denied.stderr.decode().strip() == (
        f'Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:{namespace}:default" '
        f'cannot list resource "pods" in API group "" in the namespace "{namespace}"')
    ok(kube_server.kubectl("create", "rolebinding", "sa-view", "--clusterrole=view", "-n", namespace,
                           f"--serviceaccount={namespace}:default"))
    got = _eventually(lambda: kube_server.kubectl("get", "pods", "-n", namespace, env=env),
                      lambda r: r.returncode == 0)
    assert got.returncode == 0, got.stderr
    other = kube_server.kubectl("get", "pods", "-n", "kube-system", env=env)
    assert other.returncode == 1 and b'cannot list resource "pods" in API group "" in the namespace "kube-system"' \
        in other.stderr
    secrets = kube_server.kubectl("get", "secrets", "-n", namespace, env=env)
    assert secrets.returncode == 1 and b"(Forbidden)" in secrets.stderr  # view does not read secrets
    # kubectl auth can-i agrees with what the requests got (exit 0 yes, 1 no)
    for args, want in ((("list", "pods", "-n", namespace), "yes"), (("list", "pods", "-n", "kube-system"), "no"),
                       (("create", "pods", "-n", namespace), "no"), (("get", "secrets", "-n", namespace), "no"),
                       (("get", "deployments.apps", "-n", namespace), "yes")):
        r = kube_server.kubectl("auth", "can-i", *args, env=env)
        assert (r.stdout.decode().strip(), r.returncode) == (want, 0 if want == "yes" else 1), args
    listed = ok(kube_server.kubectl("auth", "can-i", "--list", "-n", namespace, env=env))
    rows = {line.split()[0]: line for line in listed.splitlines()[1:]}
    assert "[get list watch]" in rows["pods"] and "selfsubjectaccessreviews.authorization.k8s.io" in rows


def test_whoami_and_impersonation(kube_server, namespace, tmp_path):
    me = ok(kube_server.kubectl("auth", "whoami", "-o", "json"))
    info = yaml.safe_load(me)["status"]["userInfo"]
    assert info["username"] == "system:admin" and "system:masters" in info["groups"]
    sa = f"system:serviceaccount:{namespace}:default"
    assert f"Username    {sa}" in ok(kube_server.kubectl("auth", "whoami", f"--as={sa}"))
    r = kube_server.kubectl("get", "configmaps", "-n", namespace, f"--as={sa}")
    assert r.returncode == 1 and f'User "{sa}" cannot list resource "configmaps"'.encode() in r.stderr
    r = kube_server.kubectl("auth", "can-i", "get", "pods", "-n", namespace, "--as=alice", "--as-group=devs")
    assert r.stdout == b"no\n" and r.returncode == 1
    ok(kube_server.kubectl("create", "rolebinding", "devs-edit", "--clusterrole=edit", "--group=devs",
                           "-n", namespace))
    r = _eventually(lambda: kube_server.kubectl("auth", "can-i", "delete", "pods", "-n", namespace, "--as=alice",
                                                "--as-group=devs"), lambda r: r.returncode == 0)
    assert r.stdout == b"yes\n"
    # a service account may not impersonate unless granted the impersonate verb
    env, _ = _sa_kubeconfig(kube_server, namespace, tmp_path)
    r = kube_server.kubectl("get", "pods", "-n", namespace, "--as=alice", env=env)
    assert r.returncode == 1 and (f'users "alice" is forbidden: User "{sa}" cannot impersonate resource "users" '
                                  'in API group "" at the cluster scope').encode() in r.stderr


def test_escalation_is_refused_without_bind(kube_server, namespace, tmp_path):
    ok(kube_server.kubectl("create", "rolebinding", "sa-admin", "--clusterrole=admin", "-n", namespace,
                           f"--serviceaccount={namespace}:default"))
    env, _ = _sa_kubeconfig(kube_server, namespace, tmp_path)
    _eventually(lambda: kube_server.kubectl("auth", "can-i", "create", "roles.rbac.authorization.k8s.io",
                                            "-n", namespace, env=env), lambda r: r.returncode == 0)
    # within what it holds: allowed
    ok(kube_server.kubectl("create", "role", "reader", "--verb=get,list", "--resource=pods", "-n", namespace, env=env))
    ok(kube_server.kubectl("create", "rolebinding", "bob-view", "--clusterrole=view", "--user=bob",
                           "-n", namespace, env=env))
    # more than it holds: Forbidden, with what is missing
    r = kube_server.kubectl("create", "role", "nodes", "--verb=get", "--resource=nodes", "-n", namespace, env=env)
    assert r.returncode == 1
    assert b"is attempting to grant RBAC permissions not currently held" in r.stderr
    assert b'{APIGroups:[""], Resources:["nodes"], Verbs:["get"]}' in r.stderr
    r = kube_server.kubectl("create", "rolebinding", "up", "--clusterrole=cluster-admin", "--user=bob",
                            "-n", namespace, env=env)
    assert r.returncode == 1 and b"not currently held" in r.stderr
    assert kube_server.kubectl("get", "rolebinding", "up", "-n", namespace).returncode == 1
    aggregated = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                  "metadata": {"name": f"{namespace}-agg"}, "rules": [],
                  "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"team": "blue"}}]}}
    writer = f"{namespace}-clusterrole-writer"  # may create ClusterRoles, so what refuses is the aggregation rule
    ok(kube_server.kubectl("create", "clusterrole", writer, "--verb=create,get",
                           "--resource=clusterroles.rbac.authorization.k8s.io"))
    ok(kube_server.kubectl("create", "clusterrolebinding", writer, f"--clusterrole={writer}",
                           f"--serviceaccount={namespace}:default"))
    try:
        r = _eventually(lambda: kube_server.kubectl("create", "-f", "-", input=yaml.safe_dump(aggregated), env=env),
                        lambda r: b"aggregationRule" in r.stderr)
        assert r.returncode == 1 and b"must have cluster-admin privileges to use the aggregationRule" in r.stderr
    finally:
        ok(kube_server.kubectl("delete", "clusterrolebinding", writer))
        ok(kube_server.kubectl("delete", "clusterrole", writer))


def test_aggregated_view_picks_up_a_labelled_cluster_role(kube_server, namespace):
    name = f"{namespace}-secret-reader"
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": name, "labels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"}},
            "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"],
                       "resourceNames": [f"{namespace}-only"]}]}
    ok(kube_server.kubectl("apply", "-f", "-", input=yaml.safe_dump(role)))
    try:
        ask = ("auth", "can-i", "get", f"secret/{namespace}-only", "-n", namespace, "--as=carol")
        ok(kube_server.kubectl("create", "rolebinding", "carol-view", "--clusterrole=view", "--user=carol",
                               "-n", namespace))
        r = _eventually(lambda: kube_server.kubectl(*ask), lambda r: r.returncode == 0)
        assert r.stdout == b"yes\n"
        for agg in ("view", "edit", "admin"):  # a chain (view is aggregated into edit, edit into admin): in turn
            got = _eventually(lambda agg=agg: kube_server.kubectl("get", "clusterrole", agg, "-o", "yaml"),
                              lambda r: role["rules"][0] in yaml.safe_load(ok(r))["rules"])
            assert role["rules"][0] in yaml.safe_load(ok(got))["rules"], agg
    finally:
        ok(kube_server.kubectl("delete", "clusterrole", name))
    r = _eventually(lambda: kube_server.kubectl(*ask), lambda r: r.returncode == 1)
    assert r.stdout == b"no\n"


def test_reviews_with_the_kubernetes_client(kube_server, namespace):
    api = config.new_client_from_config(str(kube_server.kubeconfig))
    try:
        authz = client.AuthorizationV1Api(api)
        review = authz.create_subject_access_review({
            "spec": {"user": "dave", "groups": ["system:authenticated"],
                     "resourceAttributes": {"namespace": namespace, "verb": "list", "resource": "pods"}}})
        assert review.status.allowed is False
        rbac = client.RbacAuthorizationV1Api(api)
        rbac.create_namespaced_role_binding(namespace, {
            "metadata": {"name": "dave-view"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "dave"}]})

        def local():
            return authz.create_namespaced_local_subject_access_review(namespace, {
                "metadata": {"namespace": namespace},
                "spec": {"user": "dave", "resourceAttributes": {"namespace": namespace, "verb": "list",
                                                                "resource": "pods"}}})
        assert _eventually(local, lambda r: r.status.allowed).status.allowed is True
        with pytest.raises(ApiException) as e:
            authz.create_namespaced_local_subject_access_review(namespace, {
                "metadata": {"namespace": namespace},
                "spec": {"user": "dave", "resourceAttributes": {"namespace": "other", "verb": "list",
                                                                "resource": "pods"}}})
        assert e.value.status == 422
        nonres = authz.create_subject_access_review({
            "spec": {"user": "dave", "groups": ["system:authenticated"],
                     "nonResourceAttributes": {"path": "/apis/apps", "verb": "get"}}})
        assert nonres.status.allowed is True
        rules = authz.create_self_subject_rules_review({"spec": {"namespace": namespace}})
        assert rules.status.resource_rules[0].verbs == ["*"]  # the admin certificate: everything
        who = client.AuthenticationV1Api(api).create_self_subject_review({})
        assert who.status.user_info.username == "system:admin"
    finally:
        api.close()


def test_bootstrap_policy_is_there(kube_server):
    roles = ok(kube_server.kubectl("get", "clusterroles", "-o", "name")).split()
    for name in ("cluster-admin", "admin", "edit", "view", "system:basic-user", "system:discovery",
                 "system:public-info-viewer", "system:node", "system:node-proxier", "system:kube-scheduler",
                 "system:kube-controller-manager", "system:controller:deployment-controller"):
        assert f"clusterrole.rbac.authorization.k8s.io/{name}" in roles
    crb = yaml.safe_load(ok(kube_server.kubectl("get", "clusterrolebinding", "cluster-admin", "-o", "yaml")))
    assert crb["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:masters"}]
    assert crb["metadata"]["annotations"]["rbac.authorization.kubernetes.io/autoupdate"] == "true"


def test_node_authorizer_limits_a_kubelet_identity_to_its_node(tmp_path):
    from tests.support.server import Server

    tokens = tmp_path / "tokens.csv"
    tokens.write_text('kubelet-n1,system:node:n1,n1,"system:nodes"\n')
    srv = Server(root=tmp_path / "srv", extra_args=["--token-auth-file", str(tokens)]).start()
    try:
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "default"},
               "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "busybox",
                                                           "envFrom": [{"secretRef": {"name": "used"}}]}]}}
        ok(srv.kubectl("apply", "-f", "-", input=yaml.safe_dump(pod)))
        for name in ("used", "unused"):
            ok(srv.kubectl("create", "secret", "generic", name, "--from-literal=k=v"))
        cfg = yaml.safe_load(srv.kubeconfig.read_text())
        cfg["users"][0]["user"] = {"token": "kubelet-n1"}
        (tmp_path / "n1.yaml").write_text(yaml.safe_dump(cfg))
        env = {"KUBECONFIG": str(tmp_path / "n1.yaml")}
        assert ok(srv.kubectl("get", "secret", "used", "-o", "jsonpath={.data.k}", env=env)) == "dg=="
        r = srv.kubectl("get", "secret", "unused", env=env)
        assert r.returncode == 1 and r.stderr.decode().strip() == (
            'Error from server (Forbidden): secrets "unused" is forbidden: User "system:node:n1" cannot get resource '
            '"secrets" in API group "" in the namespace "default": no relationship found between node \'n1\' and '
            "this object")
        r = srv.kubectl("get", "secrets", env=env)
        assert r.returncode == 1 and b"can only get individual resources of this type" in r.stderr
        ok(srv.kubectl("get", "pods", "-A", env=env))  # the system:node rules: pods everywhere, read-only
        ok(srv.kubectl("get", "endpointslices", "-A", env=env))  # its proxy and DNS (skiff:node-agent-services)
        assert srv.kubectl("delete", "namespace", "default", env=env).returncode == 1
        node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n2"}}
        ok(srv.kubectl("apply", "-f", "-", input=yaml.safe_dump(node)))
        r = srv.kubectl("label", "node", "n2", "x=y", env=env)
        assert r.returncode == 1 and b"node 'n1' cannot modify node 'n2'" in r.stderr
    finally:
        srv.cleanup()


def test_bad_reviews_get_kubernetes_errors_and_the_server_keeps_serving(kube_server):
    path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
    for body, code, text in (
            (b"garbage", 400, "couldn't get version/kind; json parse error"),
            (b'{"spec":{"resourceAttributes":"x"}}', 400, "cannot unmarshal string into Go struct field"),
            (b"{}", 422, "exactly one of nonResourceAttributes or resourceAttributes must be specified"),
            (b'{"spec":{"resourceAttributes":{},"nonResourceAttributes":{}}}', 422, "exactly one of")):
        status, _, raw = kube_server.request("POST", path, body)
        assert status == code and text in raw.decode(), (body, status, raw)
    status, _, raw = kube_server.request("POST", path + "/named", b"{}")
    assert status == 405 and b"MethodNotAllowed" in raw
    status, _, raw = kube_server.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews",
                                         b'{"spec":{"resourceAttributes":{"verb":"get","resource":"pods"}}}')
    assert status == 422 and b"at least one of user or group must be specified" in raw
    assert kube_server.json("GET", "/api/v1/namespaces/default")[0] == 200
