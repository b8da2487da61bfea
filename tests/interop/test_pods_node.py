"""Static pods from --pod-manifest-path with their mirror pods (seed 001), and re-adoption of running
pods after the agent restarts."""

import json
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from tests.support.agent import Cluster

pytestmark = [pytest.mark.root, pytest.mark.interop, pytest.mark.slow]

STATIC_WEB = """apiVersion: v1
kind: Pod
metadata:
  name: static-web
  labels:
    name: static-web
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: static-web
    image: busybox:latest
    imagePullPolicy: IfNotPresent
    command: ["sleep", "3600"]
"""


@pytest.fixture(scope="module")
def node(busybox_archive):
    if not shutil.which("kubectl"):
        pytest.skip("kubectl is not installed")
    root = Path(tempfile.mkdtemp(prefix="skiff-kubelet-", dir="/tmp"))
    manifests = root / "kubelet.d"
    manifests.mkdir()
    c = Cluster(root, busybox_archive, agent_args=["--pod-manifest-path", str(manifests)])
    c.manifests = manifests
    try:
        c.start()
        yield c
    finally:
        c.cleanup()
        shutil.rmtree(root, ignore_errors=True)


def pod_containers(cluster, uid):
    out = cluster.agent.docker("ps", "-a", "--format", "{{.ID}} {{.Names}}").stdout.decode().splitlines()
    return {name: cid for cid, name in (line.split() for line in out) if uid in name}


def test_static_pod_lives_by_its_file(node):
    (node.manifests / "static-web.yaml").write_text(STATIC_WEB)
    mirror = f"static-web-{node.node}"
    node.wait_for(f"pod/{mirror}", "{.status.phase}", lambda v: v == "Running")
    meta = json.loads(node.kubectl("get", "pod", mirror, "-o", "json").stdout)["metadata"]
    assert meta["annotations"]["kubernetes.io/config.source"] == "file"
    assert "kubernetes.io/config.mirror" in meta["annotations"]
    uid = meta["annotations"]["kubernetes.io/config.mirror"]
    before = pod_containers(node, uid)
    assert any(n.startswith("k8s_static-web_") for n in before)
    # deleting the mirror pod in the API does not stop the pod: the mirror comes back
    r = node.kubectl("delete", "pod", mirror, "--wait=false")
    assert r.returncode == 0, r.stderr
    node.wait_for(f"pod/{mirror}", "{.metadata.uid}", lambda v: v not in ("", meta["uid"]))
    node.wait_for(f"pod/{mirror}", "{.status.phase}", lambda v: v == "Running")
    assert pod_containers(node, uid) == before
    # changing the file replaces the pod
    (node.manifests / "static-web.yaml").write_text(STATIC_WEB.replace("name: static-web\n    image",
                                                                        "name: static-web\n    workingDir: /tmp\n"
                                                                        "    image"))
    deadline = time.monotonic() + 60
    new_uid = uid
    while time.monotonic() < deadline and new_uid == uid:
        new_uid = (json.loads(node.kubectl("get", "pod", mirror, "-o", "json").stdout or b"{}").get("metadata", {})
                   .get("annotations", {}).get("kubernetes.io/config.mirror", uid))
        time.sleep(0.3)
    assert new_uid != uid
    node.wait_for(f"pod/{mirror}", "{.status.phase}", lambda v: v == "Running")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and pod_containers(node, uid):
        time.sleep(0.3)
    assert pod_containers(node, uid) == {}
    # removing the file stops it
    (node.manifests / "static-web.yaml").unlink()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (pod_containers(node, new_uid) or
                                           node.kubectl("get", "pod", mirror).returncode == 0):
        time.sleep(0.3)
    assert pod_containers(node, new_uid) == {}
    assert node.kubectl("get", "pod", mirror).returncode != 0


def test_restarted_agent_readopts_running_pods_and_removes_orphans(node):
    ns = "readopt"
    assert node.kubectl("create", "namespace", ns).returncode == 0
    node.server.wait_for(f"/api/v1/namespaces/{ns}/serviceaccounts/default")  # pods' admission needs it
    for name in ("keeper", "orphan"):
        body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {
            "nodeName": node.node, "containers": [{"name": "main", "image": "busybox:latest",
                                                   "imagePullPolicy": "IfNotPresent", "command": ["sleep", "3600"]}]}}
        assert node.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(body)).returncode == 0
    for name in ("keeper", "orphan"):
        node.wait_for(f"pod/{name}", "{.status.phase}", lambda v: v == "Running", ns)
    keeper_uid = node.jsonpath("pod/keeper", "{.metadata.uid}", ns)
    orphan_uid = node.jsonpath("pod/orphan", "{.metadata.uid}", ns)
    keeper = pod_containers(node, keeper_uid)
    node.agent.stop()
    # while the node is down, the orphan's object goes away for good
    r = node.kubectl("delete", "pod", "orphan", "-n", ns, "--force", "--grace-period=0")
    assert r.returncode == 0, r.stderr
    node.agent.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and pod_containers(node, orphan_uid):
        time.sleep(0.2)
    assert pod_containers(node, orphan_uid) == {}
    assert pod_containers(node, keeper_uid) == keeper  # the same containers, not restarted
    status = json.loads(node.kubectl("get", "pod", "keeper", "-n", ns, "-o", "json").stdout)["status"]
    assert status["phase"] == "Running" and status["containerStatuses"][0]["restartCount"] == 0
    node.kubectl("delete", "namespace", ns, "--wait=false")
    node.kubectl("delete", "pod", "keeper", "-n", ns, "--wait=true", timeout=60)
