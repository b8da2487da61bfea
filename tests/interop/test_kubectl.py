"""The real kubectl 1.32 against `skiff server`: the verbs and output formats people use."""

from __future__ import annotations

import json
import stat
import subprocess
import time

import pytest
import yaml

from tests.support.procs import ok

pytestmark = pytest.mark.interop

POD = """apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  containers:
  - name: nginx
    image: nginx
    ports:
    - containerPort: 80
"""

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: front
spec:
  replicas: 2
  selector:
    matchLabels: {app: front}
  template:
    metadata:
      labels: {app: front}
    spec:
      containers:
      - name: c
        image: nginx
"""


def test_default_namespaces_and_service_accounts(kube_server):
    out = ok(kube_server.kubectl("get", "namespaces", "-o", "name"))
    assert set(out.split()) >= {"namespace/default", "namespace/kube-system", "namespace/kube-public",
                                "namespace/kube-node-lease"}
    deadline = time.monotonic() + 60  # the controllers make them
    while "default" not in ok(kube_server.kubectl("get", "sa", "-n", "kube-system", "-o", "name")):
        assert time.monotonic() < deadline, "no default service account"
        time.sleep(0.1)
    while "kube-root-ca.crt" not in ok(kube_server.kubectl("get", "cm", "-n", "kube-public", "-o", "name")):
        assert time.monotonic() < deadline, "no kube-root-ca.crt"
        time.sleep(0.1)
    ca = ok(kube_server.kubectl("get", "cm", "kube-root-ca.crt", "-n", "kube-public", "-o",
                                "jsonpath={.data.ca\\.crt}"))
    assert ca == (kube_server.data_dir / "tls" / "server-ca.crt").read_text()


def test_create_get_formats_describe_delete(kube_server, namespace):
    ns = ("-n", namespace)
    assert ok(kube_server.kubectl("create", "-f", "-", *ns, input=POD)).strip() == "pod/web created"
    table = ok(kube_server.kubectl("get", "pods", *ns)).splitlines()
    assert table[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert table[1].split()[:3] == ["web", "0/1", "Pending"]
    wide = ok(kube_server.kubectl("get", "pods", "-o", "wide", "--show-labels", *ns)).splitlines()
    assert "NODE" in wide[0].split() and "LABELS" in wide[0].split() and "app=web" in wide[1]
    as_yaml = yaml.safe_load(ok(kube_server.kubectl("get", "pod", "web", "-o", "yaml", *ns)))
    assert as_yaml["metadata"]["uid"] and as_yaml["spec"]["serviceAccountName"] == "default"
    as_json = json.loads(ok(kube_server.kubectl("get", "pod", "web", "-o", "json", *ns)))
    assert as_json["spec"]["containers"][0]["ports"][0]["protocol"] == "TCP"  # defaulted by the server
    assert ok(kube_server.kubectl("get", "pod", "web", "-o", "name", *ns)).strip() == "pod/web"
    assert ok(kube_server.kubectl("get", "pod", "web", "-o", "jsonpath={.metadata.labels.app}", *ns)) == "web"
    described = ok(kube_server.kubectl("describe", "pod", "web", *ns))
    assert "Service Account:  default" in described and "app=web" in described
    assert ok(kube_server.kubectl("delete", "pod", "web", *ns)).strip() == 'pod "web" deleted'
    gone = kube_server.kubectl("get", "pod", "web", *ns)
    assert gone.returncode == 1 and b'pods "web" not found' in gone.stderr


def test_label_annotate_and_selectors(kube_server, namespace):
    ns = ("-n", namespace)
    ok(kube_server.kubectl("create", "-f", "-", *ns, input=POD))
    ok(kube_server.kubectl("create", "-f", "-", *ns, input=POD.replace("name: web", "name: db")
                           .replace("app: web", "app: db")))
    assert "labeled" in ok(kube_server.kubectl("label", "pod", "web", "tier=front", *ns))
    assert "annotated" in ok(kube_server.kubectl("annotate", "pod", "web", "note=hello", *ns))
    names = ok(kube_server.kubectl("get", "pods", "-l", "tier=front", "-o", "name", *ns)).split()
    assert names == ["pod/web"]
    names = ok(kube_server.kubectl("get", "pods", "-l", "app in (web,db)", "-o", "name", *ns)).split()
    assert sorted(names) == ["pod/db", "pod/web"]
    names = ok(kube_server.kubectl("get", "pods", "--field-selector", "metadata.name=db", "-o", "name", *ns))
    assert names.split() == ["pod/db"]
    relabel = kube_server.kubectl("label", "pod", "web", "tier=back", *ns)
    assert relabel.returncode != 0 and b"already has a value" in relabel.stderr
    ok(kube_server.kubectl("label", "pod", "web", "tier=back", "--overwrite", *ns))
    got = ok(kube_server.kubectl("get", "pod", "web", "-o", "jsonpath={.metadata.labels.tier} "
                                 "{.metadata.annotations.note}", *ns))
    assert got == "back hello"
    assert "all-namespaces" not in ok(kube_server.kubectl("get", "pods", "-A", "-l", "app=db"))


def test_scale_and_apply(kube_server, namespace):
    ns = ("-n", namespace)
    assert "created" in ok(kube_server.kubectl("apply", "-f", "-", *ns, input=DEPLOYMENT))
    assert "unchanged" in ok(kube_server.kubectl("apply", "-f", "-", *ns, input=DEPLOYMENT))
    assert "scaled" in ok(kube_server.kubectl("scale", "deployment", "front", "--replicas=5", *ns))
    got = ok(kube_server.kubectl("get", "deploy", "front", "-o",
                                 "jsonpath={.spec.replicas} {.metadata.generation}", *ns))
    assert got == "5 2"
    changed = DEPLOYMENT.replace("image: nginx", "image: nginx:1.27")
    assert "configured" in ok(kube_server.kubectl("apply", "-f", "-", *ns, input=changed))
    image = ok(kube_server.kubectl("get", "deploy", "front", "-o",
                                   "jsonpath={.spec.template.spec.containers[0].image}", *ns))
    assert image == "nginx:1.27"
    assert "serverside-applied" in ok(kube_server.kubectl("apply", "--server-side", "-f", "-", *ns,
                                                          input=changed))
    table = ok(kube_server.kubectl("get", "deploy", *ns)).splitlines()
    assert table[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]


def test_edit_with_an_editor_script(kube_server, namespace, tmp_path):
    ns = ("-n", namespace)
    ok(kube_server.kubectl("create", "-f", "-", *ns, input=DEPLOYMENT))
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\nsed -i 's/replicas: 2/replicas: 3/' \"$1\"\n")
    editor.chmod(editor.stat().st_mode | stat.S_IEXEC)
    out = ok(kube_server.kubectl("edit", "deployment", "front", *ns, env={"EDITOR": str(editor)}))
    assert "edited" in out
    assert ok(kube_server.kubectl("get", "deploy", "front", "-o", "jsonpath={.spec.replicas}", *ns)) == "3"


def test_get_watch_prints_changes(kube_server, namespace):
    ns = ("-n", namespace)
    ok(kube_server.kubectl("create", "-f", "-", *ns, input=POD))
    watcher = subprocess.Popen(["kubectl", "get", "pods", "-w", "--request-timeout=60s", *ns],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=kube_server.env)
    try:
        assert watcher.stdout is not None
        header = watcher.stdout.readline().decode()
        assert header.split()[:2] == ["NAME", "READY"]
        assert watcher.stdout.readline().decode().split()[0] == "web"
        ok(kube_server.kubectl("label", "pod", "web", "seen=yes", *ns))
        assert watcher.stdout.readline().decode().split()[0] == "web"
    finally:
        watcher.kill()
        watcher.wait()


def test_discovery_commands(kube_server):
    resources = ok(kube_server.kubectl("api-resources")).splitlines()
    assert resources[0].split() == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    rows = {line.split()[0]: line.split() for line in resources[1:]}
    assert rows["deployments"][1:] == ["deploy", "apps/v1", "true", "Deployment"]
    assert rows["namespaces"][1:] == ["ns", "v1", "false", "Namespace"]
    versions = ok(kube_server.kubectl("api-versions")).split()
    assert {"v1", "apps/v1", "batch/v1", "autoscaling/v2", "autoscaling/v1"} <= set(versions)
    explained = ok(kube_server.kubectl("explain", "deployment.spec.replicas"))
    assert "FIELD: replicas <integer>" in explained
    assert ok(kube_server.kubectl("version", "-o", "json")).count("serverVersion") == 1


def test_seed_misspellings_rejected_as_kubernetes_reports_them(kube_server, namespace):
    seed = """apiVersion: v1
kind: Pod
metadata:
  name: redis-php
  label:
    name: redis-php
spec:
  containers:
  - name: frontend
    image: kubeguide/guestbook-php-frontend:localredis
    ports:
    - containersPort: 80
"""
    out = kube_server.kubectl("create", "-f", "-", "-n", namespace, input=seed)
    assert out.returncode == 1
    err = out.stderr.decode()
    assert 'unknown field "metadata.label"' in err
    assert 'unknown field "spec.containers[0].ports[0].containersPort"' in err
    assert "not found" in kube_server.kubectl("get", "pod", "redis-php", "-n", namespace).stderr.decode()
    # Without validation the unknown fields are dropped, and the port then lacks its number.
    lenient = kube_server.kubectl("create", "-f", "-", "-n", namespace, "--validate=false", input=seed)
    assert lenient.returncode == 1
    assert b"spec.containers[0].ports[0].containerPort: Required value" in lenient.stderr


def test_errors_come_back_as_kubernetes_words(kube_server, namespace):
    ns = ("-n", namespace)
    ok(kube_server.kubectl("create", "-f", "-", *ns, input=POD))
    again = kube_server.kubectl("create", "-f", "-", *ns, input=POD)
    assert again.returncode == 1 and b'pods "web" already exists' in again.stderr
    bad_name = kube_server.kubectl("create", "-f", "-", *ns, input=POD.replace("name: web", "name: Web_1"))
    assert bad_name.returncode == 1 and b'The Pod "Web_1" is invalid' in bad_name.stderr
    nowhere = kube_server.kubectl("create", "-f", "-", "-n", "no-such-ns", input=POD)
    assert nowhere.returncode == 1 and b'namespaces "no-such-ns" not found' in nowhere.stderr


def test_typed_create_commands(kube_server, namespace):
    """kubectl's typed clients send protobuf bodies."""
    ns = ("-n", namespace)
    assert "created" in ok(kube_server.kubectl("create", "configmap", "cfg", "--from-literal=k=v", *ns))
    assert ok(kube_server.kubectl("get", "cm", "cfg", "-o", "jsonpath={.data.k}", *ns)) == "v"
    assert "created" in ok(kube_server.kubectl("create", "deployment", "d", "--image=nginx", "--replicas=2", *ns))
    assert ok(kube_server.kubectl("get", "deploy", "d", "-o", "jsonpath={.spec.replicas}", *ns)) == "2"
    extra = f"{namespace}-x"
    assert "created" in ok(kube_server.kubectl("create", "namespace", extra))
    ok(kube_server.kubectl("delete", "namespace", extra, "--wait=false"))


def test_delete_by_label_and_all(kube_server, namespace):
    ns = ("-n", namespace)
    for name in ("a", "b", "c"):
        ok(kube_server.kubectl("create", "configmap", name, "--dry-run=client", "-o", "yaml", *ns))
        cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": {"set": name}}}
        ok(kube_server.kubectl("create", "-f", "-", *ns, input=json.dumps(cm)))
    assert 'configmap "a" deleted' in ok(kube_server.kubectl("delete", "cm", "-l", "set=a", *ns))
    out = ok(kube_server.kubectl("delete", "cm", "--all", *ns))
    assert 'configmap "b" deleted' in out and 'configmap "c" deleted' in out
    # all but kube-root-ca.crt, which its publisher makes again (at once or a moment later, as upstream)
    left = ok(kube_server.kubectl("get", "cm", "-o", "name", *ns)).split()
    assert [name for name in left if name != "configmap/kube-root-ca.crt"] == []


def test_an_unknown_token_is_unauthorized(kube_server, tmp_path):
    cfg = yaml.safe_load(kube_server.kubeconfig.read_text())
    cfg["users"][0]["user"] = {"token": "not-a-token"}
    anon = tmp_path / "anon.yaml"
    anon.write_text(yaml.safe_dump(cfg))
    out = kube_server.kubectl("get", "pods", env={"KUBECONFIG": str(anon)})
    assert out.returncode == 1
    assert b"You must be logged in to the server" in out.stderr


def test_server_side_apply_conflicts_and_force(kube_server, namespace):
    ns = ("-n", namespace)
    ok(kube_server.kubectl("apply", "--server-side", "--field-manager=team-a", "-f", "-", *ns, input=DEPLOYMENT))
    changed = DEPLOYMENT.replace("replicas: 2", "replicas: 4")
    clash = kube_server.kubectl("apply", "--server-side", "--field-manager=team-b", "-f", "-", *ns, input=changed)
    assert clash.returncode == 1
    assert b'conflict with "team-a"' in clash.stderr and b".spec.replicas" in clash.stderr
    ok(kube_server.kubectl("apply", "--server-side", "--field-manager=team-b", "--force-conflicts", "-f", "-",
                           *ns, input=changed))
    assert ok(kube_server.kubectl("get", "deploy", "front", "-o", "jsonpath={.spec.replicas}", *ns)) == "4"
    managers = ok(kube_server.kubectl("get", "deploy", "front", "--show-managed-fields", "-o",
                                      "jsonpath={.metadata.managedFields[*].manager}", *ns)).split()
    assert "team-b" in managers


def test_services_get_cluster_ips_and_node_ports(kube_server, namespace):
    ns = ("-n", namespace)
    svc = """apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: NodePort
  selector: {app: web}
  ports:
  - port: 80
"""
    ok(kube_server.kubectl("apply", "-f", "-", *ns, input=svc))
    row = ok(kube_server.kubectl("get", "svc", "web", "--no-headers", *ns)).split()
    assert row[1] == "NodePort" and row[2].startswith("10.43.") and row[4].startswith("80:")
    assert "configured" in ok(kube_server.kubectl("apply", "-f", "-", *ns, input=svc.replace("port: 80",
                                                                                             "port: 8080")))
    got = ok(kube_server.kubectl("get", "svc", "web", "-o",
                                 "jsonpath={.spec.clusterIP} {.spec.ports[*].port} {.spec.ports[0].nodePort}", *ns))
    ip, port, node_port = got.split()
    assert ip == row[2] and port == "8080" and 30000 <= int(node_port) <= 32767
    default = ok(kube_server.kubectl("get", "svc", "kubernetes", "-n", "default", "-o",
                                     "jsonpath={.spec.clusterIP} {.spec.ports[0].port}"))
    assert default == "10.43.0.1 443"
    taken = kube_server.kubectl("create", "-f", "-", *ns, input=svc.replace("name: web", "name: web2")
                                .replace("type: NodePort", f"clusterIP: {row[2]}").replace("NodePort", ""))
    assert taken.returncode == 1 and b"provided IP is already allocated" in taken.stderr


def test_create_token_and_use_it(kube_server, namespace, tmp_path):
    token = ok(kube_server.kubectl("create", "token", "default", "-n", namespace)).strip()
    assert token.count(".") == 2
    cfg = yaml.safe_load(kube_server.kubeconfig.read_text())
    cfg["users"][0]["user"] = {"token": token}
    as_sa = tmp_path / "sa.yaml"
    as_sa.write_text(yaml.safe_dump(cfg))
    denied = kube_server.kubectl("get", "configmaps", "-n", namespace, env={"KUBECONFIG": str(as_sa)})
    assert denied.returncode == 1 and b"(Forbidden)" in denied.stderr  # RBAC: nothing granted yet
    ok(kube_server.kubectl("create", "rolebinding", "sa-view", "--clusterrole=view", "-n", namespace,
                           f"--serviceaccount={namespace}:default"))
    deadline = time.monotonic() + 60  # the authorizer follows bindings through the watch cache
    while True:
        got = kube_server.kubectl("get", "configmaps", "-n", namespace, "-o", "name", env={"KUBECONFIG": str(as_sa)})
        if got.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert "configmap/kube-root-ca.crt" in ok(got)
    short = kube_server.kubectl("create", "token", "default", "-n", namespace, "--duration=1m")
    assert short.returncode == 1 and b"may not specify a duration less than 10 minutes" in short.stderr
