"""Streaming through our own clients: `skiff kubectl` logs/exec/attach/cp/port-forward and the
`kubernetes` Python client against `skiff server` + a `skiff agent`; the kubelet's server refuses
callers without the cluster's client certificate; bad requests get kube-apiserver's answers."""

import json
import re
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.support import agent as agent_support

cluster = agent_support.cluster  # fixtures: a server and one agent, a namespace per test
pod_ns = agent_support.pod_ns
pytestmark = [pytest.mark.root, pytest.mark.slow]


def skiff_kubectl(cluster, *args, input=None, timeout=60):
    data = input.encode() if isinstance(input, str) else input
    return subprocess.run([sys.executable, "-m", "skiff", "kubectl", *args], input=data, capture_output=True,
                          env=cluster.server.env, timeout=timeout)


def run_pod(cluster, ns, name, containers, **spec):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {
        "terminationGracePeriodSeconds": 1, "containers": containers, **spec}}
    r = cluster.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(pod))
    assert r.returncode == 0, r.stderr
    cluster.wait_for(f"pod/{name}", "{.status.phase}", lambda v: v == "Running", namespace=ns)


def busybox(name, command, **extra):
    return {"name": name, "image": "busybox:latest", "imagePullPolicy": "IfNotPresent", "command": command, **extra}


def test_skiff_kubectl_logs_and_exec(cluster, pod_ns):
    run_pod(cluster, pod_ns, "both", [busybox("a", ["sh", "-c", "echo one; echo two; sleep 3600"]),
                                      busybox("b", ["sleep", "3600"])])
    cluster.wait_for("pod/both", "{.status.containerStatuses[*].ready}", lambda v: v == "true true", pod_ns)
    deadline = time.monotonic() + 60  # ready once started: the shell may not have written yet (under load)
    while skiff_kubectl(cluster, "logs", "-n", pod_ns, "both", "-c", "a").stdout != b"one\ntwo\n":
        assert time.monotonic() < deadline, "container a never logged"
        time.sleep(0.2)
    r = skiff_kubectl(cluster, "logs", "-n", pod_ns, "both")
    assert r.stdout == b"one\ntwo\n", r.stderr
    assert r.stderr == b'Defaulted container "a" out of: a, b\n'
    r = skiff_kubectl(cluster, "logs", "-n", pod_ns, "pod/both", "-c", "a", "--tail=1", "--timestamps")
    assert re.fullmatch(rb"\S+Z two\n", r.stdout), r.stdout
    r = skiff_kubectl(cluster, "logs", "-n", pod_ns, "both", "-c", "zzz")
    assert r.returncode == 1
    assert r.stderr == b"Error from server (BadRequest): container zzz is not valid for pod both\n"
    r = skiff_kubectl(cluster, "exec", "-n", pod_ns, "both", "-c", "b", "--", "sh", "-c", "echo hi; echo no >&2; exit 5")
    assert (r.returncode, r.stdout) == (5, b"hi\n")
    assert r.stderr == b"no\ncommand terminated with exit code 5\n"
    r = skiff_kubectl(cluster, "exec", "-i", "-n", pod_ns, "both", "-c", "b", "--", "wc", "-c", input=b"z" * 100_000)
    assert r.returncode == 0 and r.stdout.strip() == b"100000", r.stderr


def test_skiff_kubectl_cp_both_ways(cluster, pod_ns, tmp_path):
    run_pod(cluster, pod_ns, "cpy", [busybox("main", ["sleep", "3600"])])
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "a.txt").write_bytes(b"alpha\n")
    r = skiff_kubectl(cluster, "cp", str(tmp_path / "dir"), f"{pod_ns}/cpy:/tmp/copied")
    assert r.returncode == 0, r.stderr
    r = skiff_kubectl(cluster, "exec", "-n", pod_ns, "cpy", "--", "cat", "/tmp/copied/a.txt")
    assert r.stdout == b"alpha\n"
    r = skiff_kubectl(cluster, "cp", f"{pod_ns}/cpy:/tmp/copied", str(tmp_path / "back"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "back" / "a.txt").read_bytes() == b"alpha\n"


def test_skiff_kubectl_attach_and_port_forward(cluster, pod_ns):
    run_pod(cluster, pod_ns, "srv", [busybox("httpd", ["sh", "-c", "mkdir -p /www && echo served > /www/i && "
                                                                   "exec httpd -f -p 8080 -h /www"])])
    proc = subprocess.Popen([sys.executable, "-m", "skiff", "kubectl", "port-forward", "-n", pod_ns, "pod/srv",
                             ":8080"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cluster.server.env)
    try:
        line = proc.stdout.readline().decode()
        match = re.match(r"Forwarding from 127\.0\.0\.1:(\d+) -> 8080", line)
        assert match, (line, proc.stderr.read1(4096) if proc.poll() is not None else b"")
        for _ in range(2):
            with urllib.request.urlopen(f"http://127.0.0.1:{match.group(1)}/i", timeout=20) as resp:
                assert resp.read() == b"served\n"
    finally:
        proc.terminate()
        proc.wait(20)
    run_pod(cluster, pod_ns, "echoer", [busybox("main", ["sh", "-c", "read l; echo got:$l; sleep 1"],
                                                stdin=True, stdinOnce=True)])
    r = skiff_kubectl(cluster, "attach", "-i", "-n", pod_ns, "echoer", input="ping\n")
    assert b"got:ping" in r.stdout, r.stderr


def test_kubernetes_client_logs_and_exec(cluster, pod_ns):
    k8s = pytest.importorskip("kubernetes")
    from kubernetes.stream import stream

    run_pod(cluster, pod_ns, "py", [busybox("main", ["sh", "-c", "echo from-py; sleep 3600"])])
    api_client = k8s.config.new_client_from_config(str(cluster.server.kubeconfig))
    try:
        core = k8s.client.CoreV1Api(api_client)
        deadline = time.monotonic() + 20
        text = ""
        while time.monotonic() < deadline and text != "from-py\n":
            text = core.read_namespaced_pod_log("py", pod_ns)
            time.sleep(0.2)
        assert text == "from-py\n"
        out = stream(core.connect_get_namespaced_pod_exec, "py", pod_ns, command=["sh", "-c", "echo $((6*7))"],
                     stderr=True, stdin=False, stdout=True, tty=False)
        assert out == "42\n"
    finally:
        api_client.close()


def test_kubelet_refuses_callers_without_the_cluster_certificate(cluster):
    node = json.loads(cluster.kubectl("get", "node", cluster.node, "-o", "json").stdout)
    port = node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"]
    address = next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP")
    insecure = ssl.create_default_context()
    insecure.check_hostname, insecure.verify_mode = False, ssl.CERT_NONE
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"https://{address}:{port}/containerLogs/default/x/y", context=insecure, timeout=10)
    assert e.value.code == 401
    with urllib.request.urlopen(f"https://{address}:{port}/healthz", context=insecure, timeout=10) as resp:
        assert resp.read() == b"ok"


def test_streams_of_a_missing_or_unscheduled_pod(cluster, pod_ns):
    r = cluster.kubectl("logs", "-n", pod_ns, "ghost")
    assert r.returncode == 1 and b'pods "ghost" not found' in r.stderr
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "nowhere"}, "spec": {
        "nodeSelector": {"no-such": "label"}, "containers": [busybox("main", ["sleep", "1"])]}}
    assert cluster.kubectl("apply", "-n", pod_ns, "-f", "-", input=json.dumps(pod)).returncode == 0
    status, _, body = cluster.server.request("GET", f"/api/v1/namespaces/{pod_ns}/pods/nowhere/log")
    assert status == 400
    assert json.loads(body)["message"] == "pod nowhere does not have a host assigned"


def test_exec_into_a_container_that_never_started_says_so(cluster, pod_ns):
    """kubectl 1.32 retries a refused WebSocket upgrade with SPDY: the answer to that is the
    kubelet's own refusal (no such container), not this server's list of protocols."""
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "nopull"}, "spec": {
        "terminationGracePeriodSeconds": 1, "containers": [
            {"name": "main", "image": "busybox:no-such-tag", "imagePullPolicy": "IfNotPresent"}]}}
    assert cluster.kubectl("apply", "-n", pod_ns, "-f", "-", input=json.dumps(pod)).returncode == 0
    cluster.wait_for("pod/nopull", "{.status.containerStatuses[0].state.waiting.reason}",
                     lambda v: v in ("ErrImagePull", "ImagePullBackOff"), pod_ns)
    r = cluster.kubectl("exec", "-n", pod_ns, "nopull", "--", "true")
    assert r.returncode == 1
    assert r.stderr == b'error: unable to upgrade connection: container "main" in pod "nopull" not found\n'


def test_run_interactive_of_a_pod_that_finished_at_once_prints_its_output(cluster, pod_ns):
    """kubectl run -i attaches once the pod runs; when the container has already exited, the
    attach is refused (the engine would wait for a next start) and kubectl shows the logs."""
    r = cluster.kubectl("run", "once", "-n", pod_ns, "--rm", "-i", "--restart=Never", "--image=busybox:latest",
                        "--image-pull-policy=IfNotPresent", "--", "echo", "hi-once", timeout=90)
    assert r.returncode == 0, r.stderr
    assert b"hi-once\n" in r.stdout
    assert b'pod "once" deleted' in r.stdout + r.stderr


def test_node_proxy_reaches_the_kubelet(cluster, pod_ns):
    run_pod(cluster, pod_ns, "listed", [busybox("main", ["sleep", "3600"])])
    r = cluster.kubectl("get", "--raw", f"/api/v1/nodes/{cluster.node}/proxy/healthz")
    assert (r.returncode, r.stdout) == (0, b"ok"), r.stderr
    r = cluster.kubectl("get", "--raw", f"/api/v1/nodes/{cluster.node}/proxy/pods")
    names = {(p["metadata"]["namespace"], p["metadata"]["name"]) for p in json.loads(r.stdout)["items"]}
    assert (pod_ns, "listed") in names
    r = cluster.kubectl("get", "--raw", "/api/v1/nodes/no-such-node/proxy/healthz")
    assert r.returncode == 1 and b'nodes "no-such-node" not found' in r.stderr
