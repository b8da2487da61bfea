"""skiff kubectl create deployment|job|cronjob|service|serviceaccount beside kubectl 1.32."""

from __future__ import annotations

import pytest

from tests.integration.kubectl.helpers import assert_same, skiff

pytestmark = pytest.mark.interop

GENERATED = [
    ("deployment", "web", "--image=nginx:1.9", "--replicas=2", "--port=80"),
    ("deployment", "two", "--image=a", "--image=registry.local/team/b@sha256:" + "0" * 64),
    ("job", "j", "--image=busybox", "--", "echo", "hi"),
    ("cronjob", "c", "--image=busybox", "--schedule=*/1 * * * *", "--restart=Never", "--", "date"),
    ("service", "clusterip", "s", "--tcp=80:8080", "--tcp=443"),
    ("service", "clusterip", "headless", "--clusterip=None"),
    ("service", "nodeport", "n", "--tcp=80:8080", "--node-port=30080"),
    ("service", "externalname", "ext", "--external-name=example.com"),
    ("serviceaccount", "sa"),
]


@pytest.mark.parametrize("args", GENERATED, ids=lambda a: "-".join(a[:2]))
def test_dry_run_output_matches_kubectl(kube_server, args):
    before, after = (args[:args.index("--")], args[args.index("--"):]) if "--" in args else (args, ())
    for output in ("yaml", "json", "name"):
        assert_same(kube_server, "create", *before, "--dry-run=client", "-o", output, *after, mask=False)


def test_create_for_real_and_errors(kube_server, namespace):
    ns = ("-n", namespace)
    ours = skiff(kube_server, *ns, "create", "deployment", "web", "--image=busybox")
    assert ours.returncode == 0 and ours.stdout == b"deployment.apps/web created\n", ours.stderr
    status, dep = kube_server.json("GET", f"/apis/apps/v1/namespaces/{namespace}/deployments/web")
    assert dep["spec"]["template"]["spec"]["containers"][0]["name"] == "busybox"
    assert skiff(kube_server, *ns, "create", "sa", "robot").stdout == b"serviceaccount/robot created\n"
    assert_same(kube_server, *ns, "create", "deployment", "web", "--image=busybox")
    assert_same(kube_server, *ns, "create", "service", "clusterip", "x")


RBAC_GENERATED = [
    ("role", "reader", "--verb=get,list", "--verb=watch", "--resource=pods,deployments.apps", "--resource=pods/log"),
    ("role", "named", "--verb=get", "--resource=configmaps", "--resource-name=a", "--resource-name=b"),
    ("clusterrole", "nodes", "--verb=get", "--resource=nodes"),
    ("rolebinding", "rb", "--role=reader", "--user=alice", "--group=devs", "--serviceaccount=ns1:robot"),
    ("clusterrolebinding", "crb", "--clusterrole=view", "--user=bob"),
]


@pytest.mark.parametrize("args", RBAC_GENERATED, ids=lambda a: a[0] + "-" + a[1])
def test_rbac_dry_run_output_matches_kubectl(kube_server, args):
    for output in ("yaml", "json", "name"):
        assert_same(kube_server, "create", *args, "--dry-run=client", "-o", output, mask=False)


def test_rbac_kinds(kube_server, namespace):
    # both clients against one server: a server-side dry run, so neither finds the other's object
    ns = ("-n", namespace)
    assert_same(kube_server, *ns, "create", "role", "reader", "--verb=get", "--resource=pods", "--dry-run=server")
    assert_same(kube_server, *ns, "create", "rolebinding", "rb", "--role=reader", "--user=alice", "--dry-run=server")
    assert_same(kube_server, *ns, "create", "role", "bad", "--verb=get", "--resource=nosuchthing")
