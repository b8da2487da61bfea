"""Pods through the real kubectl onto a `skiff agent`: node registration, seed 001's two-container pod
reaching its sibling on localhost, container names on the node's engine, deletion."""

import json

import pytest

from tests.support import agent as agent_support

cluster = agent_support.cluster  # fixtures: a server and one agent, a namespace per test
pod_ns = agent_support.pod_ns
pytestmark = [pytest.mark.root, pytest.mark.interop, pytest.mark.slow]


def pod_yaml(name, containers, **spec):
    return json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {
        "containers": containers, **spec}})


def busybox(name, command, **extra):
    return {"name": name, "image": "busybox:latest", "imagePullPolicy": "IfNotPresent", "command": command, **extra}


def apply(cluster, ns, text):
    r = cluster.kubectl("apply", "-n", ns, "-f", "-", input=text)
    assert r.returncode == 0, r.stderr


def test_node_registers_with_labels_capacity_and_lease(cluster):
    r = cluster.kubectl("get", "node", cluster.node, "-o", "json")
    assert r.returncode == 0, r.stderr
    node = json.loads(r.stdout)
    labels = node["metadata"]["labels"]
    assert labels["kubernetes.io/hostname"] == cluster.node
    assert labels["kubernetes.io/os"] == "linux"
    ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "True" and ready["reason"] == "KubeletReady"
    assert {"cpu", "memory", "pods", "ephemeral-storage"} <= set(node["status"]["allocatable"])
    assert node["status"]["nodeInfo"]["kubeletVersion"] == "v1.32.0"
    r = cluster.kubectl("get", "lease", cluster.node, "-n", "kube-node-lease", "-o", "json")
    assert r.returncode == 0, r.stderr
    lease = json.loads(r.stdout)
    assert lease["spec"]["holderIdentity"] == cluster.node
    assert lease["spec"]["leaseDurationSeconds"] == 40
    out = cluster.kubectl("get", "nodes").stdout.decode()
    assert cluster.node in out and "Ready" in out


def test_two_containers_reach_each_other_on_localhost(cluster, pod_ns):
    apply(cluster, pod_ns, pod_yaml("redis-php", [
        busybox("redis", ["sh", "-c", "mkdir -p /www && echo PONG > /www/index.html && httpd -f -p 6379 -h /www"]),
        busybox("frontend", ["sh", "-c", "until wget -q -O /tmp/r http://localhost:6379/; do sleep 0.2; done; "
                             "cat /tmp/r; sleep 3600"])], nodeName=cluster.node))
    cluster.wait_for("pod/redis-php", "{.status.phase}", lambda v: v == "Running", pod_ns)
    pod = json.loads(cluster.kubectl("get", "pod", "redis-php", "-n", pod_ns, "-o", "json").stdout)
    uid = pod["metadata"]["uid"]
    assert pod["status"]["podIP"] and pod["status"]["hostIP"]
    assert pod["status"]["qosClass"] == "BestEffort"
    assert {c["name"]: c["ready"] for c in pod["status"]["containerStatuses"]} == {"redis": True, "frontend": True}
    names = cluster.agent.docker("ps", "--format", "{{.Names}}").stdout.decode().split()
    for container in ("POD", "redis", "frontend"):
        assert f"k8s_{container}_redis-php_{pod_ns}_{uid}_0" in names
    # the frontend fetched the page from its sibling over localhost
    import time
    deadline = time.monotonic() + 30
    logs = b""
    while time.monotonic() < deadline and b"PONG" not in logs:
        logs = cluster.agent.docker("logs", f"k8s_frontend_redis-php_{pod_ns}_{uid}_0").stdout
        time.sleep(0.2)
    assert b"PONG" in logs
    # kubectl's view: READY 2/2, the node's name
    out = cluster.kubectl("get", "pod", "redis-php", "-n", pod_ns, "-o", "wide").stdout.decode()
    assert "2/2" in out and "Running" in out and cluster.node in out
    labels = json.loads(cluster.agent.docker("inspect", f"k8s_redis_redis-php_{pod_ns}_{uid}_0").stdout)[0][
        "Config"]["Labels"]
    assert labels["io.kubernetes.pod.name"] == "redis-php"
    assert labels["io.kubernetes.pod.namespace"] == pod_ns
    assert labels["io.kubernetes.container.name"] == "redis"


def test_delete_stops_and_removes_the_containers(cluster, pod_ns):
    apply(cluster, pod_ns, pod_yaml("doomed", [busybox("main", ["sleep", "3600"])], nodeName=cluster.node,
                                    terminationGracePeriodSeconds=2))
    cluster.wait_for("pod/doomed", "{.status.phase}", lambda v: v == "Running", pod_ns)
    uid = cluster.jsonpath("pod/doomed", "{.metadata.uid}", pod_ns)
    r = cluster.kubectl("delete", "pod", "doomed", "-n", pod_ns, timeout=60)
    assert r.returncode == 0, r.stderr
    assert b'pod "doomed" deleted' in r.stdout
    assert cluster.kubectl("get", "pod", "doomed", "-n", pod_ns).returncode != 0
    names = cluster.agent.docker("ps", "-a", "--format", "{{.Names}}").stdout.decode()
    assert uid not in names
    events = cluster.kubectl("get", "events", "-n", pod_ns, "-o", "json").stdout
    reasons = [e["reason"] for e in json.loads(events)["items"]]
    assert "Killing" in reasons and "Started" in reasons and "Created" in reasons


def test_env_command_and_args_as_kubernetes_defines_them(cluster, pod_ns):
    apply(cluster, pod_ns, pod_yaml("envs", [busybox(
        "main", ["sh", "-c"], args=["echo $(GREETING) $NODE $POD_IP; sleep 3600"],
        env=[{"name": "GREETING", "value": "hello"},
             {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
             {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}])],
        nodeName=cluster.node))
    cluster.wait_for("pod/envs", "{.status.phase}", lambda v: v == "Running", pod_ns)
    uid = cluster.jsonpath("pod/envs", "{.metadata.uid}", pod_ns)
    ip = cluster.jsonpath("pod/envs", "{.status.podIP}", pod_ns)
    import time
    deadline = time.monotonic() + 20
    out = b""
    while time.monotonic() < deadline and not out.strip():
        out = cluster.agent.docker("logs", f"k8s_main_envs_{pod_ns}_{uid}_0").stdout
        time.sleep(0.2)
    assert out.decode().split() == ["hello", cluster.node, ip]


def test_host_port_reaches_the_pod(cluster, pod_ns):
    import socket
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    apply(cluster, pod_ns, pod_yaml("hostport", [busybox(
        "web", ["sh", "-c", "mkdir -p /www && echo via-hostport > /www/index.html && httpd -f -p 8080 -h /www"],
        ports=[{"containerPort": 8080, "hostPort": port}])], nodeName=cluster.node))
    cluster.wait_for("pod/hostport", "{.status.phase}", lambda v: v == "Running", pod_ns)
    import time
    deadline = time.monotonic() + 60  # httpd starts after the pod is Running
    body = b""
    while time.monotonic() < deadline and body != b"via-hostport\n":
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as resp:
                body = resp.read()
        except OSError:
            time.sleep(0.2)
    assert body == b"via-hostport\n"


def test_post_start_and_pre_stop_hooks(cluster, pod_ns, tmp_path):
    out = tmp_path / "hooks"
    out.mkdir()
    apply(cluster, pod_ns, pod_yaml("hooks", [busybox(
        "main", ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"],
        volumeMounts=[{"name": "out", "mountPath": "/out"}],
        lifecycle={"postStart": {"exec": {"command": ["sh", "-c", "echo started > /out/post"]}},
                   "preStop": {"exec": {"command": ["sh", "-c", "echo stopping > /out/pre"]}}})],
        nodeName=cluster.node, terminationGracePeriodSeconds=5,
        volumes=[{"name": "out", "hostPath": {"path": str(out)}}]))
    cluster.wait_for("pod/hooks", "{.status.phase}", lambda v: v == "Running", pod_ns)
    assert (out / "post").read_text() == "started\n"
    assert cluster.kubectl("delete", "pod", "hooks", "-n", pod_ns, timeout=60).returncode == 0
    assert (out / "pre").read_text() == "stopping\n"
    # a failing postStart hook kills the container
    apply(cluster, pod_ns, pod_yaml("badhook", [busybox(
        "main", ["sleep", "3600"], lifecycle={"postStart": {"exec": {"command": ["false"]}}})],
        nodeName=cluster.node, restartPolicy="Never"))
    cluster.wait_for("pod/badhook", "{.status.phase}", lambda v: v == "Failed", pod_ns)
    events = json.loads(cluster.kubectl("get", "events", "-n", pod_ns, "-o", "json").stdout)["items"]
    assert any(e["reason"] == "FailedPostStartHook" for e in events)


def test_skiff_kubectl_shows_what_the_kubelet_reports(cluster, pod_ns):
    import subprocess
    import sys

    apply(cluster, pod_ns, pod_yaml("ours", [busybox("main", ["sleep", "3600"])], nodeName=cluster.node))
    cluster.wait_for("pod/ours", "{.status.phase}", lambda v: v == "Running", pod_ns)

    def skiff_kubectl(*args):
        return subprocess.run([sys.executable, "-m", "skiff", "kubectl", *args], capture_output=True,
                              env=cluster.server.env, timeout=60)

    ours = skiff_kubectl("get", "pod", "ours", "-n", pod_ns, "-o", "wide")
    assert ours.returncode == 0, ours.stderr
    theirs = cluster.kubectl("get", "pod", "ours", "-n", pod_ns, "-o", "wide")
    assert ours.stdout.split()[:12] == theirs.stdout.split()[:12]  # up to AGE, which may tick
    row = ours.stdout.decode().splitlines()[1].split()
    assert row[1:3] == ["1/1", "Running"] and cluster.node in row
    described = skiff_kubectl("describe", "pod", "ours", "-n", pod_ns)
    assert described.returncode == 0, described.stderr
    text = described.stdout.decode()
    assert "Started container main" in text and "QoS Class:" in text and "BestEffort" in text
