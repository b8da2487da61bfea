"""Seed 001's ConfigMaps as env and as a volume with items, secrets, emptyDir, hostPath, and every
probe kind, through the real kubectl."""

import json
import time

import pytest

from tests.support import agent as agent_support

cluster = agent_support.cluster  # fixtures: a server and one agent, a namespace per test
pod_ns = agent_support.pod_ns
pytestmark = [pytest.mark.root, pytest.mark.interop, pytest.mark.slow]

CM_APPVARS = """apiVersion: v1
kind: ConfigMap
metadata:
  name: cm-appvars
data:
  apploglevel: info
  appdatadir: /var/data
"""
CM_FILES = """apiVersion: v1
kind: ConfigMap
metadata:
  name: cm-appconfigfile
data:
  key-serverxml: |
    <Server port="8005" shutdown="SHUTDOWN"></Server>
  key-loggingproperties: handlers=org.apache.juli.FileHandler
"""


def busybox(name, script, **extra):
    return {"name": name, "image": "busybox:latest", "imagePullPolicy": "IfNotPresent",
            "command": ["sh", "-c", script], **extra}


def run_pod(cluster, ns, name, containers, **spec):
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"nodeName": cluster.node, "containers": containers, **spec}}
    r = cluster.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(body))
    assert r.returncode == 0, r.stderr


def logs_of(cluster, ns, pod, container, want: bytes, timeout=30):
    uid = cluster.jsonpath(f"pod/{pod}", "{.metadata.uid}", ns)
    deadline = time.monotonic() + timeout
    out = b""
    while time.monotonic() < deadline:
        out = cluster.agent.docker("logs", f"k8s_{container}_{pod}_{ns}_{uid}_0").stdout
        if want in out:
            break
        time.sleep(0.2)
    return out


def exec_in(cluster, ns, pod, container, *cmd):
    uid = cluster.jsonpath(f"pod/{pod}", "{.metadata.uid}", ns)
    return cluster.agent.docker("exec", f"k8s_{container}_{pod}_{ns}_{uid}_0", *cmd)


def test_configmap_as_env(cluster, pod_ns):
    assert cluster.kubectl("create", "-n", pod_ns, "-f", "-", input=CM_APPVARS).returncode == 0
    run_pod(cluster, pod_ns, "cm-test-pod", [busybox(
        "cm-test", "env | grep APP; sleep 3600",
        env=[{"name": "APPLOGLEVEL", "valueFrom": {"configMapKeyRef": {"name": "cm-appvars", "key": "apploglevel"}}},
             {"name": "APPDATADIR", "valueFrom": {"configMapKeyRef": {"name": "cm-appvars", "key": "appdatadir"}}}],
        envFrom=[{"configMapRef": {"name": "cm-appvars"}, "prefix": "APP_"}])], restartPolicy="Never")
    cluster.wait_for("pod/cm-test-pod", "{.status.phase}", lambda v: v == "Running", pod_ns)
    out = logs_of(cluster, pod_ns, "cm-test-pod", "cm-test", b"APPDATADIR")
    lines = set(out.decode().split())
    assert {"APPLOGLEVEL=info", "APPDATADIR=/var/data", "APP_apploglevel=info", "APP_appdatadir=/var/data"} <= lines


def test_missing_configmap_holds_the_container(cluster, pod_ns):
    run_pod(cluster, pod_ns, "needs-cm", [busybox("main", "sleep 3600", env=[
        {"name": "X", "valueFrom": {"configMapKeyRef": {"name": "absent", "key": "k"}}}])])
    cluster.wait_for("pod/needs-cm", "{.status.containerStatuses[0].state.waiting.reason}",
                     lambda v: v == "CreateContainerConfigError", pod_ns)
    msg = cluster.jsonpath("pod/needs-cm", "{.status.containerStatuses[0].state.waiting.message}", pod_ns)
    assert msg == 'configmap "absent" not found'
    assert cluster.kubectl("create", "configmap", "absent", "-n", pod_ns, "--from-literal=k=v").returncode == 0
    cluster.wait_for("pod/needs-cm", "{.status.phase}", lambda v: v == "Running", pod_ns)


def test_configmap_volume_with_items_and_updates(cluster, pod_ns):
    assert cluster.kubectl("create", "-n", pod_ns, "-f", "-", input=CM_FILES).returncode == 0
    run_pod(cluster, pod_ns, "cm-test-app", [busybox(
        "cm-test-app", "sleep 3600", ports=[{"containerPort": 8080}],
        volumeMounts=[{"name": "serverxml", "mountPath": "/configfiles"}])],
        volumes=[{"name": "serverxml", "configMap": {"name": "cm-appconfigfile", "items": [
            {"key": "key-serverxml", "path": "server.xml"},
            {"key": "key-loggingproperties", "path": "logging.properties"}]}}])
    cluster.wait_for("pod/cm-test-app", "{.status.phase}", lambda v: v == "Running", pod_ns)
    r = exec_in(cluster, pod_ns, "cm-test-app", "cm-test-app", "cat", "/configfiles/server.xml")
    assert r.stdout == b'<Server port="8005" shutdown="SHUTDOWN"></Server>\n'
    r = exec_in(cluster, pod_ns, "cm-test-app", "cm-test-app", "ls", "/configfiles")
    assert r.stdout.split() == [b"logging.properties", b"server.xml"]
    patch = json.dumps({"data": {"key-loggingproperties": "handlers=changed"}})
    assert cluster.kubectl("patch", "configmap", "cm-appconfigfile", "-n", pod_ns, "-p", patch).returncode == 0
    deadline = time.monotonic() + 40
    content = b""
    while time.monotonic() < deadline and content != b"handlers=changed":
        content = exec_in(cluster, pod_ns, "cm-test-app", "cm-test-app", "cat",
                          "/configfiles/logging.properties").stdout
        time.sleep(0.5)
    assert content == b"handlers=changed"


def test_secret_emptydir_and_hostpath(cluster, pod_ns, tmp_path):
    assert cluster.kubectl("create", "secret", "generic", "db", "-n", pod_ns,
                           "--from-literal=password=s3cret").returncode == 0
    (tmp_path / "motd").write_text("from the host\n")
    mounts = [{"name": "secret", "mountPath": "/secret", "readOnly": True},
              {"name": "shared", "mountPath": "/shared"}, {"name": "host", "mountPath": "/host"},
              {"name": "mem", "mountPath": "/mem"}]
    run_pod(cluster, pod_ns, "vols", [
        busybox("writer", "echo hi > /shared/note; sleep 3600", volumeMounts=mounts),
        busybox("reader", "sleep 3600", volumeMounts=mounts,
                env=[{"name": "PW", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}])],
        volumes=[{"name": "secret", "secret": {"secretName": "db", "defaultMode": 0o400}},
                 {"name": "shared", "emptyDir": {}},
                 {"name": "host", "hostPath": {"path": str(tmp_path), "type": "Directory"}},
                 {"name": "mem", "emptyDir": {"medium": "Memory", "sizeLimit": "8Mi"}}])
    cluster.wait_for("pod/vols", "{.status.phase}", lambda v: v == "Running", pod_ns)
    assert exec_in(cluster, pod_ns, "vols", "reader", "cat", "/secret/password").stdout == b"s3cret"
    assert exec_in(cluster, pod_ns, "vols", "reader", "sh", "-c", "echo $PW").stdout == b"s3cret\n"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and exec_in(cluster, pod_ns, "vols", "reader", "cat",
                                                   "/shared/note").stdout != b"hi\n":
        time.sleep(0.2)
    assert exec_in(cluster, pod_ns, "vols", "reader", "cat", "/shared/note").stdout == b"hi\n"
    assert exec_in(cluster, pod_ns, "vols", "reader", "cat", "/host/motd").stdout == b"from the host\n"
    assert exec_in(cluster, pod_ns, "vols", "reader", "touch", "/secret/x").returncode != 0
    df = exec_in(cluster, pod_ns, "vols", "reader", "df", "-k", "/mem").stdout.decode().splitlines()[-1].split()
    assert df[0] == "tmpfs" and int(df[1]) == 8192


def test_hostpath_type_check_fails_the_mount(cluster, pod_ns, tmp_path):
    run_pod(cluster, pod_ns, "badhost", [busybox("main", "sleep 3600", volumeMounts=[
        {"name": "h", "mountPath": "/h"}])], volumes=[{"name": "h", "hostPath": {"path": str(tmp_path / "nope"),
                                                                                "type": "File"}}])
    deadline = time.monotonic() + 30
    events = []
    while time.monotonic() < deadline and not events:
        items = json.loads(cluster.kubectl("get", "events", "-n", pod_ns, "-o", "json").stdout)["items"]
        events = [e for e in items if e["reason"] == "FailedMount"]
        time.sleep(0.3)
    assert events and "hostPath type check failed" in events[0]["message"]
    assert cluster.jsonpath("pod/badhost", "{.status.phase}", pod_ns) == "Pending"


def test_failing_liveness_probe_restarts_the_container(cluster, pod_ns):
    run_pod(cluster, pod_ns, "liveness-exec", [busybox(
        "liveness", "touch /tmp/healthy; sleep 2; rm -f /tmp/healthy; sleep 600",
        livenessProbe={"exec": {"command": ["cat", "/tmp/healthy"]}, "initialDelaySeconds": 1, "periodSeconds": 1,
                       "failureThreshold": 2})], terminationGracePeriodSeconds=1)
    cluster.wait_for("pod/liveness-exec", "{.status.containerStatuses[0].restartCount}",
                     lambda v: v not in ("", "0"), pod_ns, timeout=60)
    events = json.loads(cluster.kubectl("get", "events", "-n", pod_ns, "-o", "json").stdout)["items"]
    messages = [e["message"] for e in events if e["reason"] in ("Unhealthy", "Killing")]
    assert any(m.startswith("Liveness probe failed:") for m in messages)
    assert "Container liveness failed liveness probe, will be restarted" in messages


def test_readiness_probes_drive_ready(cluster, pod_ns):
    run_pod(cluster, pod_ns, "readiness", [
        busybox("web", "mkdir -p /www && echo ok > /www/healthz && httpd -f -p 8080 -h /www",
                ports=[{"name": "http", "containerPort": 8080}],
                readinessProbe={"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 1}),
        busybox("tcp", "sleep 3600", readinessProbe={"tcpSocket": {"port": 8080}, "periodSeconds": 1},
                startupProbe={"exec": {"command": ["true"]}, "periodSeconds": 1}),
        busybox("never", "sleep 3600", readinessProbe={"httpGet": {"path": "/missing", "port": 8080},
                                                       "periodSeconds": 1})])
    cluster.wait_for("pod/readiness", "{.status.containerStatuses[?(@.name==\"tcp\")].ready}",
                     lambda v: v == "true", pod_ns)
    cluster.wait_for("pod/readiness", "{.status.containerStatuses[?(@.name==\"web\")].ready}",
                     lambda v: v == "true", pod_ns)
    pod = json.loads(cluster.kubectl("get", "pod", "readiness", "-n", pod_ns, "-o", "json").stdout)
    ready = {c["type"]: c for c in pod["status"]["conditions"]}["Ready"]
    assert ready["status"] == "False"
    assert ready["message"] == "containers with unready status: [never]"
    assert "2/3" in cluster.kubectl("get", "pod", "readiness", "-n", pod_ns).stdout.decode()
    events = json.loads(cluster.kubectl("get", "events", "-n", pod_ns, "-o", "json").stdout)["items"]
    assert any(e["message"] == "Readiness probe failed: HTTP probe failed with statuscode: 404" for e in events)


def test_claim_bound_to_a_host_path_volume(cluster, pod_ns, tmp_path):
    pv_name = f"pv-{pod_ns}"[:60]
    (tmp_path / "data.txt").write_text("on the volume\n")
    docs = [{"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": pv_name}, "spec": {
                "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "",
                "hostPath": {"path": str(tmp_path), "type": "Directory"}}},
            {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "claim"}, "spec": {
                "accessModes": ["ReadWriteOnce"], "storageClassName": "", "volumeName": pv_name,
                "resources": {"requests": {"storage": "1Gi"}}}}]
    for doc in docs:
        r = cluster.kubectl("apply", "-n", pod_ns, "-f", "-", input=json.dumps(doc))
        assert r.returncode == 0, r.stderr
    try:
        run_pod(cluster, pod_ns, "claimer", [busybox("main", "sleep 3600", volumeMounts=[
            {"name": "data", "mountPath": "/data", "subPath": "sub"},
            {"name": "data", "mountPath": "/all", "readOnly": True}])],
            volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "claim"}}],
            terminationGracePeriodSeconds=1)
        cluster.wait_for("pod/claimer", "{.status.phase}", lambda v: v == "Running", pod_ns)
        assert exec_in(cluster, pod_ns, "claimer", "main", "cat", "/all/data.txt").stdout == b"on the volume\n"
        assert exec_in(cluster, pod_ns, "claimer", "main", "sh", "-c", "echo x > /data/new").returncode == 0
        assert (tmp_path / "sub" / "new").read_text() == "x\n"
        assert exec_in(cluster, pod_ns, "claimer", "main", "touch", "/all/nope").returncode != 0
    finally:
        cluster.kubectl("delete", "pod", "claimer", "-n", pod_ns, "--wait=true", timeout=60)
        cluster.kubectl("delete", "pv", pv_name, "--wait=false")
