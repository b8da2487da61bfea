"""skiff kubectl run, expose, patch and set against a real skiff server, beside kubectl 1.32."""

from __future__ import annotations

import json

import pytest

from tests.integration.kubectl.helpers import assert_same, both, skiff

pytestmark = pytest.mark.interop

DEPLOYMENT = json.dumps({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web", "labels": {"app": "web"}},
    "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
             "template": {"metadata": {"labels": {"app": "web"}},
                          "spec": {"containers": [{"name": "c", "image": "busybox",
                                                   "ports": [{"containerPort": 8080}],
                                                   "env": [{"name": "KEEP", "value": "1"},
                                                           {"name": "DROP", "value": "2"}]}]}}},
})


def _ok(result):
    assert result.returncode == 0, result.stderr.decode()
    return result


def _get(server, namespace, path):
    status, body = server.json("GET", f"/apis/apps/v1/namespaces/{namespace}/{path}" if path.startswith("deploy")
                               else f"/api/v1/namespaces/{namespace}/{path}")
    assert status == 200, body
    return body


@pytest.mark.parametrize("args", [
    ("nginx", "--image=nginx"),
    ("web", "--image=busybox", "--port=80", "--env=A=1", "--env=B=two", "--labels=app=web,tier=fe"),
    ("job", "--image=busybox", "--restart=Never", "--", "sleep", "10"),
    ("cmd", "--image=busybox", "--restart=OnFailure", "--command", "--", "sh", "-c", "echo hi"),
])
def test_run_dry_run_yaml_matches_kubectl(kube_server, args):
    for output in ("yaml", "json", "name"):
        assert_same(kube_server, "run", "--dry-run=client", "-o", output, *args, mask=False)


def test_run_creates_pod_and_reports_conflict(kube_server, namespace):
    ours = _ok(skiff(kube_server, "-n", namespace, "run", "one", "--image=busybox", "--port=80", "--env=A=1"))
    assert ours.stdout.decode() == "pod/one created\n"
    pod = _get(kube_server, namespace, "pods/one")
    c = pod["spec"]["containers"][0]
    assert (c["image"], c["ports"][0]["containerPort"], c["env"]) == ("busybox", 80, [{"name": "A", "value": "1"}])
    assert pod["metadata"]["labels"] == {"run": "one"}
    ours, theirs = both(kube_server, "-n", namespace, "run", "one", "--image=busybox")
    assert ours.returncode == theirs.returncode == 1
    assert ours.stderr == theirs.stderr


def test_run_bad_restart_policy_is_an_error(kube_server):
    result = skiff(kube_server, "run", "x", "--image=busybox", "--restart=Sometimes", "--dry-run=client")
    assert result.returncode == 1 and b"restart" in result.stderr


def test_expose_deployment_and_pod_match_kubectl(kube_server, namespace):
    _ok(skiff(kube_server, "-n", namespace, "create", "-f", "-", input=DEPLOYMENT))
    _ok(skiff(kube_server, "-n", namespace, "run", "pod1", "--image=busybox", "--port=9000"))
    for args in (("deployment", "web", "--port=80", "--target-port=8080", "--type=NodePort"),
                 ("deployment/web",), ("pod", "pod1", "--name=front", "--port=444"),
                 ("deploy", "web", "--port=80", "--selector=app=other", "--labels=x=y")):
        for output in ("yaml", "name"):
            assert_same(kube_server, "-n", namespace, "expose", *args, "--dry-run=client", "-o", output, mask=False)
    ours = _ok(skiff(kube_server, "-n", namespace, "expose", "deployment", "web", "--port=80", "--target-port=8080"))
    assert ours.stdout.decode() == "service/web exposed\n"
    svc = _get(kube_server, namespace, "services/web")
    assert svc["spec"]["selector"] == {"app": "web"}
    assert svc["spec"]["ports"][0]["targetPort"] == 8080
    # the same name twice: the server's AlreadyExists, worded as kubectl words it
    ours, theirs = both(kube_server, "-n", namespace, "expose", "deployment", "web", "--port=80")
    assert (ours.returncode, ours.stderr) == (theirs.returncode, theirs.stderr)


def test_patch_types_match_kubectl(kube_server, namespace):
    _ok(skiff(kube_server, "-n", namespace, "create", "-f", "-", input=DEPLOYMENT))
    ours = _ok(skiff(kube_server, "-n", namespace, "patch", "deployment", "web", "-p",
                     '{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"busybox:1"}]}}}}'))
    assert ours.stdout.decode() == "deployment.apps/web patched\n"
    dep = _get(kube_server, namespace, "deployments/web")
    # strategic merge: the container list merged by name, its ports and env kept
    c = dep["spec"]["template"]["spec"]["containers"][0]
    assert (c["image"], c["ports"][0]["containerPort"], len(c["env"])) == ("busybox:1", 8080, 2)
    _ok(skiff(kube_server, "-n", namespace, "patch", "deploy/web", "--type=merge", "-p", "metadata: {labels: {m: '1'}}"))
    assert _get(kube_server, namespace, "deployments/web")["metadata"]["labels"]["m"] == "1"
    _ok(skiff(kube_server, "-n", namespace, "patch", "deploy", "web", "--type", "json", "-p",
              '[{"op":"replace","path":"/spec/replicas","value":3}]'))
    assert _get(kube_server, namespace, "deployments/web")["spec"]["replicas"] == 3
    for args in (("-p", '{"spec":{"replicas":3}}'), ("--type=bogus", "-p", "{}"),
                 ("--type=json", "-p", '[{"op":"remove","path":"/spec/nothere"}]')):
        assert_same(kube_server, "-n", namespace, "patch", "deployment", "web", *args)
    assert_same(kube_server, "-n", namespace, "patch", "deployment", "missing", "-p", "{}")


def test_set_image_and_env(kube_server, namespace):
    _ok(skiff(kube_server, "-n", namespace, "create", "-f", "-", input=DEPLOYMENT))
    ours = _ok(skiff(kube_server, "-n", namespace, "set", "image", "deployment/web", "c=busybox:2"))
    assert ours.stdout.decode() == "deployment.apps/web image updated\n"
    c = _get(kube_server, namespace, "deployments/web")["spec"]["template"]["spec"]["containers"][0]
    assert (c["image"], c["ports"][0]["containerPort"]) == ("busybox:2", 8080)
    ours = _ok(skiff(kube_server, "-n", namespace, "set", "env", "deployment/web", "NEW=3", "DROP-"))
    assert ours.stdout.decode() == "deployment.apps/web env updated\n"
    c = _get(kube_server, namespace, "deployments/web")["spec"]["template"]["spec"]["containers"][0]
    assert {e["name"]: e["value"] for e in c["env"]} == {"KEEP": "1", "NEW": "3"}
    assert_same(kube_server, "-n", namespace, "set", "image", "deployment/web", "nothere=busybox")
    assert_same(kube_server, "-n", namespace, "set", "env", "deployment/web", "-c", "nothere", "A=1")
    # the image already set: kubectl patches nothing and prints nothing
    assert_same(kube_server, "-n", namespace, "set", "image", "deployment/web", "*=busybox:2")
    assert skiff(kube_server, "-n", namespace, "set", "env", "deployment/web", "NEW=3").stdout == b""


def test_unknown_set_subcommand(kube_server):
    assert_same(kube_server, "set", "bogus", "deploy/x")


def test_set_resources(kube_server, namespace):
    _ok(skiff(kube_server, "-n", namespace, "create", "-f", "-", input=DEPLOYMENT))
    ours = _ok(skiff(kube_server, "-n", namespace, "set", "resources", "deployment", "web", "-c", "c",
                     "--limits=cpu=200m,memory=512Mi", "--requests=cpu=100m"))
    assert ours.stdout.decode() == "deployment.apps/web resource requirements updated\n"
    c = _get(kube_server, namespace, "deployments/web")["spec"]["template"]["spec"]["containers"][0]
    # (the server defaults the missing memory request to its limit, as Kubernetes does)
    assert c["resources"] == {"limits": {"cpu": "200m", "memory": "512Mi"},
                              "requests": {"cpu": "100m", "memory": "512Mi"}}
    assert c["image"] == "busybox" and len(c["env"]) == 2
    # applied again: nothing to change, kubectl prints nothing
    assert_same(kube_server, "-n", namespace, "set", "resources", "deployment/web", "--limits=cpu=200m")
    ours = _ok(skiff(kube_server, "-n", namespace, "set", "resources", "deployment/web", "--limits=cpu=300m"))
    assert ours.stdout == b"deployment.apps/web resource requirements updated\n"
    assert_same(kube_server, "-n", namespace, "set", "resources", "deployment/web", "-c", "nope", "--limits=cpu=1")
