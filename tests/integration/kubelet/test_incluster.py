"""In-cluster identity end to end, driven by the real kubectl and the kubernetes client: a pod
gets the upstream-shaped kube-api-access-* volume (token, ca.crt, namespace) and the Service
environment variables; the static kubectl binary run INSIDE the pod with no kubeconfig finds
the server from those alone (env + token + CA) through the `kubernetes` Service VIP and the
proxy, as the pod's ServiceAccount, under RBAC; automountServiceAccountToken: false gives no
volume; kube-root-ca.crt is put back when deleted or edited."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest

from skiff.cluster.apiserver.admission.service_account import token_volume
from tests.integration.proxy import test_kubernetes_service
from tests.integration.proxy.test_proxy_server_agent import Node

pytestmark = [pytest.mark.root, pytest.mark.slow]

NS = "shop"
SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
KUBECTL_DIR = "/hostbin"  # where the host's static kubectl is mounted in the pod


def host_kubectl() -> Path:
    found = shutil.which("kubectl")
    if not found:
        pytest.skip("kubectl is not installed")
    return Path(os.path.realpath(found))


def pod(name: str, **spec) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NS}, "spec": {
        "terminationGracePeriodSeconds": 0, **spec,
        "containers": [{"name": "main", "image": "busybox:latest", "imagePullPolicy": "IfNotPresent",
                        "command": ["sleep", "3600"], "env": [{"name": "HOME", "value": "/tmp"}],
                        "volumeMounts": [{"name": "hostbin", "mountPath": KUBECTL_DIR, "readOnly": True}]}],
        "volumes": [{"name": "hostbin", "hostPath": {"path": str(host_kubectl().parent), "type": "Directory"}}]}}


# test_kubernetes_service's server with its own agent (primary IPv4, bind 0.0.0.0), its own
# instance for this module
server_node = test_kubernetes_service.node


@pytest.fixture(scope="module")
def node(server_node: Node) -> Node:
    """The server, plus a namespace with a Service and two running pods, one with
    enableServiceLinks false."""
    node = server_node
    host_kubectl()
    node.kubectl("create", "namespace", NS)
    node.kubectl("-n", NS, "create", "service", "clusterip", "redis-primary", "--tcp=6379:6379")
    node.kubectl("apply", "-f", "-", input=json.dumps(pod("linked")))
    node.kubectl("apply", "-f", "-", input=json.dumps(pod("unlinked", enableServiceLinks=False)))
    node.wait(["pods", "-n", NS], lambda o: len(o["items"]) == 2 and all(
        p["status"].get("phase") == "Running" for p in o["items"]))
    return node


def in_pod(node: Node, pod_name: str, *cmd: str, timeout: float = 30):
    return node.srv.kubectl("-n", NS, "exec", pod_name, "--", *cmd, timeout=timeout)


def env_of(node: Node, pod_name: str) -> dict[str, str]:
    r = in_pod(node, pod_name, "env")
    assert r.returncode == 0, r
    return dict(line.split("=", 1) for line in r.stdout.decode().splitlines() if "=" in line)


def test_the_pod_gets_the_upstream_token_volume_and_mount(node: Node):
    got = node.get("pod", "linked", "-n", NS)
    spec = got["spec"]
    assert spec["serviceAccountName"] == "default"
    access = [v for v in spec["volumes"] if v["name"].startswith("kube-api-access-")]
    assert len(access) == 1 and re.fullmatch(r"kube-api-access-[a-z0-9]{5}", access[0]["name"])
    assert access[0] == token_volume(access[0]["name"])
    mounts = spec["containers"][0]["volumeMounts"]
    assert {"name": access[0]["name"], "mountPath": SA_DIR, "readOnly": True} in mounts
    assert len(mounts) == 2  # the pod's own hostPath and the token


def test_the_three_files_hold_the_namespace_the_ca_and_a_bound_token(node: Node):
    assert in_pod(node, "linked", "cat", f"{SA_DIR}/namespace").stdout == NS.encode()
    ca = in_pod(node, "linked", "cat", f"{SA_DIR}/ca.crt").stdout
    assert ca == (node.srv.data_dir / "tls" / "server-ca.crt").read_bytes()
    token = in_pod(node, "linked", "cat", f"{SA_DIR}/token").stdout.decode()
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["sub"] == f"system:serviceaccount:{NS}:default"
    assert claims["kubernetes.io"]["pod"]["name"] == "linked"
    assert claims["exp"] - claims["iat"] == 3607


def test_service_variables_with_and_without_service_links(node: Node):
    redis_ip = node.get("service", "redis-primary", "-n", NS)["spec"]["clusterIP"]
    kube_ip = node.get("service", "kubernetes", "-n", "default")["spec"]["clusterIP"]
    env = env_of(node, "linked")
    assert env["KUBERNETES_SERVICE_HOST"] == kube_ip and env["KUBERNETES_SERVICE_PORT"] == "443"
    assert env["KUBERNETES_SERVICE_PORT_HTTPS"] == "443" and env["KUBERNETES_PORT"] == f"tcp://{kube_ip}:443"
    assert env["REDIS_PRIMARY_SERVICE_HOST"] == redis_ip and env["REDIS_PRIMARY_SERVICE_PORT"] == "6379"
    assert env["REDIS_PRIMARY_SERVICE_PORT_6379_6379"] == "6379"  # kubectl names the port 6379-6379
    assert env["REDIS_PRIMARY_PORT_6379_TCP"] == f"tcp://{redis_ip}:6379"
    assert env["REDIS_PRIMARY_PORT_6379_TCP_ADDR"] == redis_ip and env["HOME"] == "/tmp"
    unlinked = env_of(node, "unlinked")
    assert unlinked["KUBERNETES_SERVICE_HOST"] == kube_ip  # the master service, always
    assert not [k for k in unlinked if k.startswith("REDIS_")]


def test_kubectl_inside_the_pod_is_the_service_account_under_rbac(node: Node):
    kubectl = f"{KUBECTL_DIR}/{host_kubectl().name}"
    deadline, who = time.monotonic() + 60, None
    while time.monotonic() < deadline:  # the proxy's rules follow the kubernetes EndpointSlice
        who = in_pod(node, "linked", kubectl, "auth", "whoami", "-o", "json", timeout=40)
        if who.returncode == 0:
            break
        time.sleep(0.5)
    assert who is not None and who.returncode == 0, (who, node.srv.log()[-2000:])
    user = json.loads(who.stdout)["status"]["userInfo"]
    assert user["username"] == f"system:serviceaccount:{NS}:default"
    assert set(user["groups"]) >= {"system:serviceaccounts", f"system:serviceaccounts:{NS}", "system:authenticated"}
    denied = in_pod(node, "linked", kubectl, "get", "pods", timeout=40)
    assert denied.returncode == 1  # the in-pod kubectl's stderr, then kubectl exec's own last line
    assert denied.stderr.decode().strip().splitlines()[-2:] == [
        f'Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:{NS}:default" cannot '
        f'list resource "pods" in API group "" in the namespace "{NS}"', "command terminated with exit code 1"]
    node.kubectl("-n", NS, "create", "rolebinding", "default-view", "--clusterrole=view",
                 f"--serviceaccount={NS}:default")
    deadline, listed = time.monotonic() + 30, None
    while time.monotonic() < deadline:  # the authorizer's index follows the binding
        listed = in_pod(node, "linked", kubectl, "get", "pods", "-o", "name", timeout=40)
        if listed.returncode == 0:
            break
        time.sleep(0.3)
    assert listed is not None and listed.returncode == 0, listed
    assert sorted(listed.stdout.decode().split()) == ["pod/linked", "pod/unlinked"]


def test_automount_false_gives_no_volume_and_the_accounts_pull_secrets_are_added(node: Node):
    from kubernetes import client, config

    api = config.new_client_from_config(str(node.srv.kubeconfig))
    try:
        core = client.CoreV1Api(api)
        core.create_namespaced_service_account(NS, {"metadata": {"name": "quiet"},
                                                    "automountServiceAccountToken": False})
        bare = {"containers": [{"name": "main", "image": "busybox:latest", "command": ["true"]}]}
        by_pod = core.create_namespaced_pod(NS, {"metadata": {"name": "no-token"}, "spec": {
            **bare, "automountServiceAccountToken": False}}, dry_run="All")
        assert not by_pod.spec.volumes and not by_pod.spec.containers[0].volume_mounts
        by_account = core.create_namespaced_pod(NS, {"metadata": {"name": "quiet"}, "spec": {
            **bare, "serviceAccountName": "quiet"}}, dry_run="All")
        assert not by_account.spec.volumes
        pod_wins = core.create_namespaced_pod(NS, {"metadata": {"name": "loud"}, "spec": {
            **bare, "serviceAccountName": "quiet", "automountServiceAccountToken": True}}, dry_run="All")
        assert [v.name[:16] for v in pod_wins.spec.volumes] == ["kube-api-access-"]
        assert pod_wins.spec.containers[0].volume_mounts[0].mount_path == SA_DIR
        core.create_namespaced_service_account(NS, {"metadata": {"name": "puller"},
                                                    "imagePullSecrets": [{"name": "regcred"}]})
        pulls = core.create_namespaced_pod(NS, {"metadata": {"name": "pulls"}, "spec": {
            **bare, "serviceAccountName": "puller"}}, dry_run="All")
        assert [r.name for r in pulls.spec.image_pull_secrets] == ["regcred"]  # the account's, as upstream
    finally:
        api.close()


def root_ca_map(node: Node, namespace: str, check, timeout: float = 30) -> dict:
    """The namespace's kube-root-ca.crt once `check` holds (it may be missing for a moment)."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        r = node.srv.kubectl("get", "configmap", "kube-root-ca.crt", "-n", namespace, "-o", "json")
        last = r
        if r.returncode == 0 and check(json.loads(r.stdout)):
            return json.loads(r.stdout)
        time.sleep(0.2)
    raise AssertionError((last, node.srv.log()[-2000:]))


def test_kube_root_ca_is_put_back_when_deleted_or_edited(node: Node):
    ca = (node.srv.data_dir / "tls" / "server-ca.crt").read_text()

    def restored(o: dict) -> bool:
        return o.get("data") == {"ca.crt": ca}

    node.kubectl("create", "namespace", "fresh")
    root_ca_map(node, "fresh", restored)
    first = node.get("configmap", "kube-root-ca.crt", "-n", NS)["metadata"]["uid"]
    node.kubectl("-n", NS, "delete", "configmap", "kube-root-ca.crt")
    again = root_ca_map(node, NS, lambda o: o["metadata"]["uid"] != first)
    assert restored(again)
    node.kubectl("-n", NS, "patch", "configmap", "kube-root-ca.crt", "-p", '{"data":{"ca.crt":"forged"}}')
    assert root_ca_map(node, NS, restored)["metadata"]["uid"] == again["metadata"]["uid"]


def test_skiff_kubectl_uses_the_in_cluster_config_too(node):
    """Our own kubectl, given a pod's view (its kube-api-access files at the standard path, in a
    private mount namespace, and the Service variables): no kubeconfig, the pod's identity."""
    import subprocess
    import sys

    got = node.get("pod", "linked", "-n", NS)
    volume = next(v["name"] for v in got["spec"]["volumes"] if v["name"].startswith("kube-api-access-"))
    found = list(node.agent_dir.glob(f"**/{got['metadata']['uid']}/volumes/kubernetes.io~projected/{volume}"))
    assert len(found) == 1, found
    env = env_of(node, "linked")
    script = (f"mount -t tmpfs tmpfs /run && mkdir -p {SA_DIR.replace('/var/run', '/run')} && "
              f"mount --bind {found[0]} {SA_DIR} && exec \"$@\"")
    def skiff_kubectl(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh",
                               sys.executable, "-m", "skiff", "kubectl", *args], capture_output=True, timeout=60,
                              env={"PATH": os.environ["PATH"], "HOME": "/nonexistent",
                                   "KUBERNETES_SERVICE_HOST": env["KUBERNETES_SERVICE_HOST"],
                                   "KUBERNETES_SERVICE_PORT": env["KUBERNETES_SERVICE_PORT"]})

    who = skiff_kubectl("auth", "whoami", "-o", "json")
    assert who.returncode == 0, who
    assert json.loads(who.stdout)["status"]["userInfo"]["username"] == f"system:serviceaccount:{NS}:default"
    listed = skiff_kubectl("get", "pods", "-o", "name")  # the namespace file's namespace, by the RoleBinding
    assert listed.returncode == 0, listed
    assert sorted(listed.stdout.decode().split()) == ["pod/linked", "pod/unlinked"]
