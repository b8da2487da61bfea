"""skiff kubectl's mutating commands against a real skiff server: create, apply, delete, label,
annotate, scale, edit, and the configmap/secret/namespace generators."""

from __future__ import annotations

import base64
import json
import textwrap

import pytest

from tests.integration.kubectl.helpers import assert_same, both, skiff

pytestmark = pytest.mark.interop

MANIFESTS = textwrap.dedent("""\
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: one
      labels: {app: demo}
    data: {a: "1"}
    ---
    apiVersion: v1
    kind: List
    items:
    - apiVersion: v1
      kind: Service
      metadata: {name: websvc, labels: {app: demo}}
      spec:
        selector: {app: web}
        ports: [{port: 80}]
    - apiVersion: apps/v1
      kind: Deployment
      metadata: {name: front, labels: {app: demo}}
      spec:
        replicas: 2
        selector: {matchLabels: {app: front}}
        template:
          metadata: {labels: {app: front}}
          spec:
            containers: [{name: c, image: busybox}]
    """)


def _get(server, namespace, path):
    status, body = server.json("GET", f"/api/v1/namespaces/{namespace}/{path}")
    return status, body


def _ok(result, stdout: str | None = None):
    assert result.returncode == 0, result.stderr.decode()
    if stdout is not None:
        assert result.stdout.decode() == stdout
    return result


def test_create_from_file_directory_and_stdin(kube_server, namespace, tmp_path):
    path = tmp_path / "all.yaml"
    path.write_text(MANIFESTS)
    _ok(skiff(kube_server, "create", "-f", str(path), "-n", namespace),
        "configmap/one created\nservice/websvc created\ndeployment.apps/front created\n")
    ours, theirs = both(kube_server, "create", "-f", str(path), "-n", namespace, "--validate=false")
    assert ours.returncode == theirs.returncode == 1
    assert ours.stderr == theirs.stderr
    assert b'Error from server (AlreadyExists): error when creating "' in ours.stderr
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "b.json").write_text(json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                                                          "metadata": {"name": "from-json"}}))
    (tmp_path / "dir" / "a.yml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-yml}\n")
    (tmp_path / "dir" / "ignored.txt").write_text("not a manifest")
    _ok(skiff(kube_server, "create", "-f", str(tmp_path / "dir"), "-n", namespace, "-o", "name"),
        "configmap/from-yml\nconfigmap/from-json\n")
    _ok(skiff(kube_server, "create", "-f", "-", "-n", namespace, input="apiVersion: v1\nkind: Secret\n"
              "metadata: {name: s}\nstringData: {pw: x}\n"), "secret/s created\n")
    status, body = _get(kube_server, namespace, "secrets/s")
    assert status == 200 and base64.b64decode(body["data"]["pw"]) == b"x"


@pytest.mark.parametrize("content,name", [
    ("apiVersion: v1\nkind: Pod\nmetadata: [name: x\n", "bad.yaml"),
    ("a: b\n c: d\n", "bad2.yaml"),
    ("apiVersion: v1\nkind: Foo\nmetadata: {name: x}\n", "foo.yaml"),
])
def test_bad_manifests_fail_as_kubectl_does(kube_server, namespace, tmp_path, content, name):
    path = tmp_path / name
    path.write_text(content)
    for verb, flags in (("create", ["--validate=false"]), ("delete", []), ("apply", ["--validate=false"])):
        ours, theirs = both(kube_server, verb, "-f", str(path), "-n", namespace, *flags)
        assert ours.returncode == theirs.returncode == 1, verb
        assert ours.stderr.decode() == theirs.stderr.decode(), verb
    status, body = _get(kube_server, namespace, "configmaps")
    assert [i["metadata"]["name"] for i in body["items"]] == ["kube-root-ca.crt"] or body["items"] == []


def test_manifest_without_apiversion(kube_server, namespace, tmp_path):
    path = tmp_path / "noversion.yaml"
    path.write_text("kind: ConfigMap\nmetadata: {name: x}\n")
    result = skiff(kube_server, "create", "-f", str(path), "-n", namespace)
    assert result.returncode == 1
    assert result.stderr.decode() == (f'error: error validating "{path}": error validating data: [apiVersion not set]; '
                                      "if you choose to ignore these errors, turn validation off with --validate=false\n")


def test_missing_file(kube_server, namespace):
    assert_same(kube_server, "create", "-f", "/nonexistent/x.yaml", "-n", namespace)
    assert_same(kube_server, "apply", "-f", "/nonexistent/x.yaml", "-n", namespace)


def test_apply_client_side_lifecycle(kube_server, namespace, tmp_path):
    path = tmp_path / "app.yaml"
    path.write_text(MANIFESTS)
    _ok(skiff(kube_server, "apply", "-f", str(path), "-n", namespace),
        "configmap/one created\nservice/websvc created\ndeployment.apps/front created\n")
    _ok(skiff(kube_server, "apply", "-f", str(path), "-n", namespace),
        "configmap/one unchanged\nservice/websvc unchanged\ndeployment.apps/front unchanged\n")
    # real kubectl agrees nothing changed: our last-applied annotation is one it accepts
    theirs = kube_server.kubectl("apply", "-f", str(path), "-n", namespace, "--validate=false")
    assert theirs.stdout.decode().count("unchanged") == 3, theirs.stdout.decode() + theirs.stderr.decode()
    path.write_text(MANIFESTS.replace("replicas: 2", "replicas: 4").replace('data: {a: "1"}', 'data: {b: "2"}'))
    _ok(skiff(kube_server, "apply", "-f", str(path), "-n", namespace),
        "configmap/one configured\nservice/websvc unchanged\ndeployment.apps/front configured\n")
    status, cm = _get(kube_server, namespace, "configmaps/one")
    assert cm["data"] == {"b": "2"}  # the key the configuration dropped is gone
    status, deploy = kube_server.json("GET", f"/apis/apps/v1/namespaces/{namespace}/deployments/front")
    assert deploy["spec"]["replicas"] == 4
    last = json.loads(deploy["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"])
    assert last["spec"]["replicas"] == 4 and last["metadata"]["annotations"] == {}
    assert last["metadata"]["namespace"] == namespace


def test_apply_server_side_and_conflicts(kube_server, namespace, tmp_path):
    path = tmp_path / "cm.yaml"
    path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa}\ndata: {a: '1'}\n")
    _ok(skiff(kube_server, "apply", "--server-side", "-f", str(path), "-n", namespace), "configmap/ssa serverside-applied\n")
    path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa}\ndata: {a: '2'}\n")
    result = skiff(kube_server, "apply", "--server-side", "--field-manager", "other", "-f", str(path), "-n", namespace)
    assert result.returncode == 1
    assert b"conflict" in result.stderr.lower()
    _ok(skiff(kube_server, "apply", "--server-side", "--field-manager", "other", "--force-conflicts", "-f", str(path),
              "-n", namespace), "configmap/ssa serverside-applied\n")
    status, cm = _get(kube_server, namespace, "configmaps/ssa")
    assert cm["data"] == {"a": "2"}
    assert {m["manager"] for m in cm["metadata"]["managedFields"]} >= {"other"}


def test_delete_forms(kube_server, namespace, tmp_path):
    path = tmp_path / "all.yaml"
    path.write_text(MANIFESTS)
    _ok(skiff(kube_server, "create", "-f", str(path), "-n", namespace))
    for name in ("x1", "x2", "y1"):
        _ok(skiff(kube_server, "create", "configmap", name, "-n", namespace, "--from-literal=k=v"))
    _ok(skiff(kube_server, "label", "cm", "x1", "x2", "group=x", "-n", namespace))
    _ok(skiff(kube_server, "delete", "cm", "-l", "group=x", "-n", namespace),
        'configmap "x1" deleted\nconfigmap "x2" deleted\n')
    assert_same(kube_server, "delete", "cm", "nope", "-n", namespace)
    assert_same(kube_server, "delete", "cm", "nope", "--ignore-not-found", "-n", namespace)
    assert_same(kube_server, "delete", "cm", "-n", namespace)
    _ok(skiff(kube_server, "delete", "cm/y1", "-n", namespace, "--grace-period=0", "--force"), 'configmap "y1" deleted\n')
    # orphaning waits for the garbage collector to drop the finalizer: do not wait for it here
    _ok(skiff(kube_server, "delete", "deploy", "front", "-n", namespace, "--cascade=orphan", "--wait=false"),
        'deployment.apps "front" deleted\n')
    status, deploy = kube_server.json("GET", f"/apis/apps/v1/namespaces/{namespace}/deployments/front")
    if status == 200:
        assert "orphan" in deploy["metadata"].get("finalizers", []) and deploy["metadata"]["deletionTimestamp"]
        kube_server.json("PATCH", f"/apis/apps/v1/namespaces/{namespace}/deployments/front",
                         {"metadata": {"finalizers": None}}, headers={"Content-Type": "application/merge-patch+json"})
    path.write_text(MANIFESTS.split("---")[0])
    _ok(skiff(kube_server, "delete", "-f", str(path), "-n", namespace, "--cascade=background"),
        'configmap "one" deleted\n')
    _ok(skiff(kube_server, "create", "configmap", "z", "-n", namespace))
    _ok(skiff(kube_server, "delete", "cm", "z", "-n", namespace, "--dry-run=server"),
        'configmap "z" deleted (server dry run)\n')
    assert _get(kube_server, namespace, "configmaps/z")[0] == 200
    result = _ok(skiff(kube_server, "delete", "cm", "--all", "-n", namespace))
    assert 'configmap "z" deleted' in result.stdout.decode()
    assert _get(kube_server, namespace, "configmaps/z")[0] == 404


def _twin_runs(server, namespace, steps):
    """Run each step with skiff on `ours` and with kubectl on `theirs` (twin objects), and
    compare what they print once the names are swapped back."""
    for step in steps:
        mine = [a.replace("TARGET", "ours") for a in step]
        real = [a.replace("TARGET", "theirs") for a in step]
        a = skiff(server, *mine, "-n", namespace)
        b = server.kubectl(*real, "-n", namespace)
        ours, theirs = a.stdout.decode().replace("ours", "X"), b.stdout.decode().replace("theirs", "X")
        if "--list" in step:  # kubectl lists a Go map: in random order
            ours, theirs = sorted(ours.splitlines()), sorted(theirs.splitlines())
        assert ours == theirs, step
        assert a.stderr.decode().replace("ours", "X") == b.stderr.decode().replace("theirs", "X"), step
        assert a.returncode == b.returncode, step


def test_label_and_annotate_match_kubectl(kube_server, namespace):
    for name in ("ours", "theirs"):
        _ok(skiff(kube_server, "create", "configmap", name, "-n", namespace))
    _twin_runs(kube_server, namespace, [
        ["label", "cm", "TARGET", "tier=front", "app=web"],
        ["label", "cm", "TARGET", "tier=back"],  # no --overwrite: the error
        ["label", "cm", "TARGET", "tier=back", "--overwrite"],
        ["label", "cm", "TARGET", "tier-"],
        ["label", "cm", "TARGET", "tier-"],  # not there any more
        ["label", "cm", "TARGET", "app=web"],  # unchanged
        ["label", "cm/TARGET", "extra=1", "-o", "name"],
        ["label", "cm", "TARGET", "--list"],
        ["annotate", "cm", "TARGET", "note=hello world"],
        ["annotate", "cm", "TARGET", "note=again"],
        ["annotate", "cm", "TARGET", "note=again", "--overwrite"],
        ["annotate", "cm", "TARGET", "note-"],
        ["label", "cm", "nope-TARGET", "a=b"],
    ])
    status, cm = _get(kube_server, namespace, "configmaps/ours")
    assert cm["metadata"]["labels"] == {"app": "web", "extra": "1"}
    _ok(skiff(kube_server, "label", "cm", "--all", "all=yes", "-n", namespace))
    status, body = _get(kube_server, namespace, "configmaps")
    assert {i["metadata"]["name"] for i in body["items"] if i["metadata"].get("labels", {}).get("all") == "yes"} >= \
        {"ours", "theirs"}


def test_label_nodes_as_seed_001_does(kube_server):
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "kubectl-test-node"}}
    status, body = kube_server.json("POST", "/api/v1/nodes", node)
    assert status in (201, 409), body
    try:
        _ok(skiff(kube_server, "label", "nodes", "kubectl-test-node", "disktype=ssd", "--overwrite"),
            "node/kubectl-test-node labeled\n")
        assert_same(kube_server, "get", "nodes", "kubectl-test-node", "-o", "jsonpath={.metadata.labels.disktype}")
        _ok(skiff(kube_server, "label", "node", "kubectl-test-node", "disktype-"), "node/kubectl-test-node unlabeled\n")
    finally:
        kube_server.json("DELETE", "/api/v1/nodes/kubectl-test-node")


def test_scale_through_the_scale_subresource(kube_server, namespace):
    rc = {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "redis-slave"},
          "spec": {"replicas": 1, "selector": {"app": "redis"},
                   "template": {"metadata": {"labels": {"app": "redis"}},
                                "spec": {"containers": [{"name": "r", "image": "redis"}]}}}}
    status, body = kube_server.json("POST", f"/api/v1/namespaces/{namespace}/replicationcontrollers", rc)
    assert status == 201, body
    _ok(skiff(kube_server, "scale", "rc", "redis-slave", "--replicas=3", "-n", namespace),
        "replicationcontroller/redis-slave scaled\n")
    assert _get(kube_server, namespace, "replicationcontrollers/redis-slave")[1]["spec"]["replicas"] == 3
    result = skiff(kube_server, "scale", "rc/redis-slave", "--replicas=5", "--current-replicas=2", "-n", namespace)
    assert result.returncode == 1
    assert result.stderr.decode() == "error: Expected replicas to be 2, was 3\n"
    assert_same(kube_server, "scale", "rc", "nope", "--replicas=1", "-n", namespace)
    result = skiff(kube_server, "scale", "rc", "redis-slave", "-n", namespace)
    assert result.returncode == 1 and b"--replicas=COUNT" in result.stderr


def test_edit_with_an_editor(kube_server, namespace):
    _ok(skiff(kube_server, "create", "configmap", "ed", "--from-literal=color=blue", "-n", namespace))
    env = {"KUBE_EDITOR": "sed -i s/color:\\ blue/color:\\ green/"}
    _ok(skiff(kube_server, "edit", "cm", "ed", "-n", namespace, env=env), "configmap/ed edited\n")
    assert _get(kube_server, namespace, "configmaps/ed")[1]["data"] == {"color": "green"}
    _ok(skiff(kube_server, "edit", "cm/ed", "-n", namespace, env={"KUBE_EDITOR": "true"}),
        "Edit cancelled, no changes made.\n")
    env = {"EDITOR": "sed -i s/\"green\"/\"red\"/", "KUBE_EDITOR": ""}
    _ok(skiff(kube_server, "edit", "cm", "ed", "-o", "json", "-n", namespace, env=env), "configmap/ed edited\n")
    assert _get(kube_server, namespace, "configmaps/ed")[1]["data"] == {"color": "red"}


def test_generators_build_what_kubectl_builds(kube_server, namespace, tmp_path):
    (tmp_path / "game.properties").write_text("lives=3\nenemies=aliens\n")
    (tmp_path / "app.env").write_text("# settings\nMODE=prod\nLEVEL=3\n")
    sources = ["--from-literal=k=v", "--from-literal=q=\"x y\"", f"--from-file={tmp_path / 'game.properties'}",
               f"--from-file=renamed={tmp_path / 'game.properties'}"]
    for kind in (["configmap"], ["secret", "generic"]):
        ours = _ok(skiff(kube_server, "create", *kind, "ours", *sources, "-n", namespace, "-o", "json"))
        theirs = kube_server.kubectl("create", *kind, "theirs", *sources, "-n", namespace, "-o", "json")
        assert theirs.returncode == 0, theirs.stderr
        a, b = json.loads(ours.stdout), json.loads(theirs.stdout)
        assert a["data"] == b["data"] and a.get("type") == b.get("type"), kind
        env_ours = _ok(skiff(kube_server, "create", *kind, "env-ours", f"--from-env-file={tmp_path / 'app.env'}",
                             "-n", namespace, "--dry-run=client", "-o", "yaml"))
        env_theirs = kube_server.kubectl("create", *kind, "env-theirs", f"--from-env-file={tmp_path / 'app.env'}",
                                         "-n", namespace, "--dry-run=client", "-o", "yaml")
        assert env_ours.stdout.decode().replace("env-ours", "X") == env_theirs.stdout.decode().replace("env-theirs", "X")
    reg = ["--docker-server=reg.example:5000", "--docker-username=u", "--docker-password=p", "--docker-email=e@x"]
    ours = _ok(skiff(kube_server, "create", "secret", "docker-registry", "r1", *reg, "-n", namespace, "-o", "json"))
    theirs = kube_server.kubectl("create", "secret", "docker-registry", "r2", *reg, "-n", namespace, "-o", "json")
    a, b = json.loads(ours.stdout), json.loads(theirs.stdout)
    assert a["type"] == b["type"] == "kubernetes.io/dockerconfigjson"
    assert json.loads(base64.b64decode(a["data"][".dockerconfigjson"])) == \
        json.loads(base64.b64decode(b["data"][".dockerconfigjson"]))
    assert_same(kube_server, "create", "configmap", "dup", "--from-literal=a=1", "--from-literal=a=2", "-n", namespace)
    assert_same(kube_server, "create", "configmap", "bad", "--from-literal=novalue", "-n", namespace)
    assert_same(kube_server, "create", "configmap", "ours", "-n", namespace)  # AlreadyExists


def test_create_namespace(kube_server):
    name = "kubectl-gen-ns-" + base64.b32encode(__import__("os").urandom(3)).decode().lower().strip("=")
    try:
        _ok(skiff(kube_server, "create", "namespace", name), f"namespace/{name} created\n")
        assert kube_server.json("GET", f"/api/v1/namespaces/{name}")[0] == 200
        assert_same(kube_server, "create", "ns", name)
    finally:
        kube_server.json("DELETE", f"/api/v1/namespaces/{name}")


SEED_TYPOS = textwrap.dedent("""\
    apiVersion: v1
    kind: Pod
    metadata:
      name: typo
      label: {app: x}
    spec:
      containers:
      - name: c
        images: busybox
        image: busybox
        ports:
        - containersPort: 80
          containerPort: 80
    """)


def test_seed_misspellings_strict_and_warn(kube_server, namespace, tmp_path):
    """The seeds' misspelled fields: refused under --validate=strict (the default), warned about
    under warn, as kubectl reports them."""
    path = tmp_path / "typo.yaml"
    path.write_text(SEED_TYPOS)
    strict = skiff(kube_server, "create", "-f", str(path), "-n", namespace)
    assert strict.returncode == 1
    assert strict.stderr.decode() == (
        f'Error from server (BadRequest): error when creating "{path}": Pod in version "v1" cannot be handled as a '
        'Pod: strict decoding error: unknown field "metadata.label", unknown field "spec.containers[0].images", '
        'unknown field "spec.containers[0].ports[0].containersPort"\n')
    assert _get(kube_server, namespace, "pods/typo")[0] == 404
    ours, theirs = both(kube_server, "create", "-f", str(path), "-n", namespace, "--validate=warn", "--dry-run=server")
    assert (ours.stdout, ours.stderr, ours.returncode) == (theirs.stdout, theirs.stderr, theirs.returncode)
    assert ours.stderr.decode().count("Warning: unknown field") == 3
