"""skiff kubectl's read-only commands against a real skiff server: discovery, explain,
describe, config, version, cluster-info; connection and credential handling."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.integration.kubectl.helpers import assert_same, both, skiff, wait_settled

pytestmark = pytest.mark.interop


@pytest.mark.parametrize("args", [
    ["api-resources"], ["api-resources", "-o", "wide"], ["api-resources", "-o", "name"],
    ["api-resources", "--namespaced=false"], ["api-resources", "--api-group=apps"], ["api-resources", "--no-headers"],
    ["api-versions"],
    ["explain", "pods"], ["explain", "pod.spec.containers"], ["explain", "deployment.spec.strategy"],
    ["explain", "svc.spec.ports"], ["explain", "rc.spec"], ["explain", "pod.metadata.labels"],
    ["explain", "cronjob.spec", "--recursive"], ["explain", "pod.spec.nope"], ["explain", "nosuch"],
    ["config", "view"], ["config", "view", "--minify"], ["config", "view", "-o", "json"], ["config", "view", "--raw"],
    ["config", "get-contexts"], ["config", "current-context"], ["config", "get-clusters"], ["config", "get-users"],
    ["cluster-info"], ["bogus"], ["gett", "pods"], ["--nosuchflag"],
])
def test_matches_kubectl(kube_server, args):
    assert_same(kube_server, *args)


@pytest.fixture
def described(kube_server, namespace):
    """One object of each kind describe has a describer for, created through the API."""
    ns = namespace
    objs = [
        ("/api/v1/namespaces/{ns}/pods", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "labels": {"app": "web"}},
                                         "spec": {"containers": [{"name": "c", "image": "busybox", "ports": [{"containerPort": 80}],
                                                                  "env": [{"name": "A", "value": "1"}],
                                                                  "resources": {"requests": {"cpu": "100m"}}}]}}),
        ("/api/v1/namespaces/{ns}/services", {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "websvc"},
                                             "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "name": "http"}]}}),
        ("/api/v1/namespaces/{ns}/replicationcontrollers", {
            "apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "redis-slave"},
            "spec": {"replicas": 2, "selector": {"app": "redis"}, "template": {"metadata": {"labels": {"app": "redis"}},
                     "spec": {"containers": [{"name": "r", "image": "redis", "ports": [{"containerPort": 6379}]}]}}}}),
        ("/apis/apps/v1/namespaces/{ns}/deployments", {
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "front", "labels": {"app": "front"}},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "front"}},
                     "template": {"metadata": {"labels": {"app": "front"}},
                                  "spec": {"containers": [{"name": "c", "image": "busybox", "command": ["sleep", "1d"]}]}}}}),
        ("/apis/apps/v1/namespaces/{ns}/replicasets", {
            "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "rs1"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "rs1"}},
                     "template": {"metadata": {"labels": {"app": "rs1"}},
                                  "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}}),
        ("/api/v1/namespaces/{ns}/configmaps", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"},
                                               "data": {"b": "two\nlines"}}),  # one key: kubectl prints a map's keys in random order
        ("/api/v1/namespaces/{ns}/secrets", {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "sec"},
                                            "stringData": {"pw": "abc"}}),
        ("/apis/coordination.k8s.io/v1/namespaces/{ns}/leases", {
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "l1"},
            "spec": {"holderIdentity": "me", "leaseDurationSeconds": 15}}),
    ]
    for path, body in objs:
        status, reply = kube_server.json("POST", path.format(ns=ns), body)
        assert status == 201, reply
    wait_settled(kube_server, ns)  # the controllers' pods and events, the scheduler's verdicts
    return ns


@pytest.mark.parametrize("args", [
    ["describe", "pod", "web"], ["describe", "svc", "websvc"], ["describe", "rc", "redis-slave"],
    ["describe", "deploy", "front"], ["describe", "rs", "rs1"], ["describe", "cm", "cfg"], ["describe", "secret", "sec"],
    ["describe", "sa", "default"], ["describe", "lease", "l1"], ["describe", "cm"], ["describe", "pods", "we"],
    ["describe", "cm", "nope"], ["describe", "pods", "-l", "app=web"],
])
def test_describe_matches_kubectl(kube_server, described, args):
    assert_same(kube_server, *args, "-n", described)


def test_describe_namespace_and_node(kube_server, described):
    assert_same(kube_server, "describe", "ns", described)
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "kubectl-describe-node", "labels": {"a": "b"}},
            "spec": {"podCIDR": "10.42.9.0/24", "taints": [{"key": "k", "value": "v", "effect": "NoSchedule"}]}}
    status, body = kube_server.json("POST", "/api/v1/nodes", node)
    assert status in (201, 409), body
    try:
        assert_same(kube_server, "describe", "node", "kubectl-describe-node")
    finally:
        kube_server.json("DELETE", "/api/v1/nodes/kubectl-describe-node")


def test_version(kube_server):
    result = skiff(kube_server, "version", "-o", "json")
    assert result.returncode == 0
    doc = json.loads(result.stdout)
    status, server_version = kube_server.json("GET", "/version")
    assert doc["serverVersion"] == server_version and doc["clientVersion"]["major"] == "1"
    text = skiff(kube_server, "version").stdout.decode().splitlines()
    assert text[0].startswith("Client Version: v1.32") and text[-1] == f"Server Version: {server_version['gitVersion']}"
    assert skiff(kube_server, "version", "--client").stdout.decode().startswith("Client Version: ")


@pytest.mark.parametrize("command", ["top", "expose", "autoscale"])
def test_round_two_commands_reject_a_bad_word_as_kubectl(kube_server, command):
    # once "not yet" commands: now built, a bare unknown word fails as kubectl's does
    if command == "autoscale":  # kubectl logs its missing required flag through klog (a timestamped line)
        ours, theirs = both(kube_server, command, "x")
        assert ours.returncode == theirs.returncode == 1
        assert ours.stderr == b'error: required flag(s) "max" not set\n'
        assert b'required flag(s) \\"max\\" not set' in theirs.stderr
    else:
        assert_same(kube_server, command, "x")


def test_config_use_and_set_context(kube_server, tmp_path):
    path = tmp_path / "config"
    shutil.copy(kube_server.kubeconfig, path)
    env = {"KUBECONFIG": str(path)}
    ours = skiff(kube_server, "config", "set-context", "other", "--cluster=default", "--user=default",
                 "--namespace=kube-system", env=env)
    assert ours.stdout.decode() == 'Context "other" created.\n', ours.stderr
    assert skiff(kube_server, "config", "use-context", "other", env=env).stdout.decode() == 'Switched to context "other".\n'
    assert skiff(kube_server, "config", "current-context", env=env).stdout.decode() == "other\n"
    theirs = kube_server.kubectl("config", "get-contexts", env=env)
    assert skiff(kube_server, "config", "get-contexts", env=env).stdout == theirs.stdout
    # the context's namespace is where commands go now
    listing = skiff(kube_server, "get", "cm", "-o", "name", env=env)
    assert listing.stdout == kube_server.kubectl("get", "cm", "-o", "name", env=env).stdout
    assert skiff(kube_server, "config", "set-context", "--current", "--namespace=default", env=env).stdout.decode() == \
        'Context "other" modified.\n'
    assert kube_server.kubectl("config", "view", "--minify", "-o", "jsonpath={..namespace}", env=env).stdout == b"default"
    bad = skiff(kube_server, "config", "use-context", "nope", env=env)
    assert bad.returncode == 1 and bad.stderr.decode() == 'error: no context exists with the name: "nope"\n'
    assert skiff(kube_server, "get", "ns", "--context", "nope", env=env).stderr.decode() == \
        "error: context was not found for specified context: nope\n"


def test_credentials_and_server_flags(kube_server):
    assert_same(kube_server, "get", "ns", "--token", "bogus")
    assert_same(kube_server, "get", "ns", "default", "-s", kube_server.url, "--insecure-skip-tls-verify",
                "--token", "bogus", "--kubeconfig", "/dev/null")
    empty = {"KUBECONFIG": "/nonexistent-kubeconfig"}
    ours = skiff(kube_server, "get", "ns", env=empty)
    assert ours.returncode == 1 and b"localhost:8080 was refused" in ours.stderr
    ours = skiff(kube_server, "get", "ns", "-s", "https://127.0.0.1:1", "--insecure-skip-tls-verify")
    assert ours.returncode == 1
    assert ours.stderr.decode() == ("The connection to the server 127.0.0.1:1 was refused - did you specify the "
                                    "right host or port?\n")
    ours = skiff(kube_server, "get", "ns", "default", "-o", "name", "-s", kube_server.url)
    assert ours.returncode == 0, ours.stderr  # the CA and client certificate still come from the kubeconfig
