"""Bad input to skiff server: each a clear Status with Kubernetes' code, nothing stored, the server still serving."""

from __future__ import annotations

import json

import pytest

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
       "spec": {"containers": [{"name": "c", "image": "busybox"}]}}


def _status(raw: bytes) -> dict:
    body = json.loads(raw)
    assert body["kind"] == "Status" and body["status"] == "Failure"
    return body


def _nothing_stored(kube_server, namespace):
    status, body = kube_server.json("GET", f"/api/v1/namespaces/{namespace}/pods")
    assert status == 200 and body["items"] == []


@pytest.mark.parametrize("raw,content_type,code,words", [
    (b'{"apiVersion": "v1", "kind": "Pod", ', "application/json", 400, "json parse error"),
    (b"apiVersion: v1\nkind: Pod\nmetadata: [name: x\n", "application/yaml", 400, "error converting YAML"),
    (b"\x6b\x38\x73\x00\x0a", "application/vnd.kubernetes.protobuf", 400, "protobuf"),
    (b"<pod/>", "application/xml", 415, "unknown format"),
    (b'[1, 2]', "application/json", 400, "cannot unmarshal array"),
    (json.dumps({**POD, "apiVersion": "apps/v1"}).encode(), "application/json", 400,
     "does not match the expected API version"),
    (json.dumps({**POD, "kind": "Service"}).encode(), "application/json", 400, "does not match the expected kind"),
    (json.dumps({**POD, "metadata": {"name": "Bad_Name"}}).encode(), "application/json", 422,
     'Pod "Bad_Name" is invalid'),
    (json.dumps({**POD, "metadata": {}}).encode(), "application/json", 422, "name or generateName is required"),
    (json.dumps({**POD, "spec": {"containers": [{"name": "c"}]}}).encode(), "application/json", 422,
     "spec.containers[0].image: Required value"),
])
def test_bad_bodies(kube_server, namespace, raw, content_type, code, words):
    status, _, body = kube_server.request("POST", f"/api/v1/namespaces/{namespace}/pods", raw,
                                          headers={"Content-Type": content_type})
    assert status == code, body
    assert words in _status(body)["message"]
    _nothing_stored(kube_server, namespace)
    assert kube_server.ready()


def test_body_over_3_mib_is_413(kube_server, namespace):
    big = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"}, "data": {"x": "a" * (3 << 20)}}
    status, _, body = kube_server.request("POST", f"/api/v1/namespaces/{namespace}/configmaps", big)
    assert status == 413 and _status(body)["reason"] == "RequestEntityTooLarge"
    status, _ = kube_server.json("GET", f"/api/v1/namespaces/{namespace}/configmaps/big")
    assert status == 404


def test_unknown_fields_strict_warn_ignore(kube_server, namespace):
    pod = {**POD, "spec": {"containers": [{"name": "c", "image": "busybox", "containersPort": 80}]}}
    path = f"/api/v1/namespaces/{namespace}/pods"
    status, _, body = kube_server.request("POST", path + "?fieldValidation=Strict", pod)
    assert status == 400
    assert 'strict decoding error: unknown field "spec.containers[0].containersPort"' in _status(body)["message"]
    status, headers, body = kube_server.request("POST", path + "?fieldValidation=Warn", pod)
    assert status == 201
    assert 'unknown field \\"spec.containers[0].containersPort\\"' in headers.get("Warning", "")
    assert "containersPort" not in body.decode()
    status, headers, _ = kube_server.request("POST", path + "?fieldValidation=Ignore",
                                             {**pod, "metadata": {"name": "p2"}})
    assert status == 201 and "Warning" not in headers
    status, _, body = kube_server.request("POST", path + "?fieldValidation=Sloppy", pod)
    assert status == 400


def test_unknown_resource_and_wrong_scope(kube_server, namespace):
    status, _, body = kube_server.request("GET", "/api/v1/namespaces/default/gods")
    assert status == 404 and _status(body)["reason"] == "NotFound"
    status, _, _ = kube_server.request("GET", "/apis/nope.example/v1/things")
    assert status == 404
    status, _, _ = kube_server.request("DELETE", "/api/v1/namespaces")
    assert status == 405


def test_conflicting_names_and_namespaces(kube_server, namespace):
    path = f"/api/v1/namespaces/{namespace}/pods"
    status, _, body = kube_server.request("POST", path, {**POD, "metadata": {"name": "p", "namespace": "other"}})
    assert status == 400 and "does not match the namespace" in _status(body)["message"]
    assert kube_server.json("POST", path, POD)[0] == 201
    status, _, body = kube_server.request("PUT", path + "/q", POD)
    assert status == 400 and "does not match the name on the URL" in _status(body)["message"]
    status, _, body = kube_server.request("POST", path, POD)
    assert status == 409 and _status(body)["reason"] == "AlreadyExists"


def test_bad_query_parameters(kube_server, namespace):
    path = f"/api/v1/namespaces/{namespace}/pods"
    for query, words in [("labelSelector=a%3D%3D%3Db", "unable to parse requirement"),
                         ("continue=garbage", "continue key is not valid"),
                         ("resourceVersionMatch=Exact", "resourceVersionMatch is forbidden"),
                         ("fieldSelector=spec.bogus%3Dx", "field label not supported"),
                         ("limit=ten", "invalid value for limit")]:
        status, _, body = kube_server.request("GET", f"{path}?{query}")
        assert status == 400, (query, body)
        assert words in _status(body)["message"], (query, body)


def test_warn_warnings_come_with_a_failed_write(kube_server, namespace):
    # an unknown field (Warn: reported, dropped) and a missing image (422): the Status carries both
    pod = {**POD, "metadata": {"name": "warned"}, "spec": {"containers": [{"name": "c", "containersPort": 80}]}}
    status, headers, body = kube_server.request("POST", f"/api/v1/namespaces/{namespace}/pods?fieldValidation=Warn",
                                                pod)
    assert status == 422, body
    assert "spec.containers[0].image: Required value" in _status(body)["message"]
    assert 'unknown field \\"spec.containers[0].containersPort\\"' in headers.get("Warning", "")
    _nothing_stored(kube_server, namespace)


@pytest.mark.parametrize("method,raw,content_type,code,words", [
    ("PUT", b'{"apiVersion": "v1", "kind": ', "application/json", 400, "json parse error"),
    ("PUT", b"kind: ConfigMap\ndata: {a: [\n", "application/yaml", 400, "error converting YAML"),
    ("PUT", json.dumps({"apiVersion": "apps/v1", "kind": "ConfigMap", "metadata": {"name": "cm"}}).encode(),
     "application/json", 400, "does not match the expected API version"),
    ("PUT", json.dumps({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "cm"}}).encode(),
     "application/json", 400, "does not match the expected kind"),
    ("PATCH", b'{"data": ', "application/merge-patch+json", 400, "json parse error"),
    ("PATCH", b'{"op": "add"}', "application/json-patch+json", 400, "cannot unmarshal object"),
    ("PATCH", b'[{"op": "test", "path": "/data/a", "value": "no"}]', "application/json-patch+json", 422, "test"),
    ("PATCH", json.dumps({"metadata": {"name": "Bad_Name"}}).encode(), "application/merge-patch+json", 400,
     "does not match the name on the URL"),
])
def test_bad_updates_leave_the_object_alone(kube_server, namespace, method, raw, content_type, code, words):
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    status, created = kube_server.json("POST", path, {"metadata": {"name": "cm"}, "data": {"a": "b"}})
    assert status == 201, created
    status, _, body = kube_server.request(method, f"{path}/cm", raw, headers={"Content-Type": content_type})
    assert status == code, body
    assert words in _status(body)["message"], body
    status, after = kube_server.json("GET", f"{path}/cm")
    assert after["data"] == {"a": "b"}
    assert after["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    assert kube_server.ready()


def test_writes_without_valid_credentials_store_nothing(kube_server, namespace, tmp_path):
    path = f"/api/v1/namespaces/{namespace}/pods"
    status, _, body = kube_server.request("POST", path, POD, auth=False)
    assert status == 401 and _status(body)["reason"] == "Unauthorized"
    status, _, body = kube_server.request("POST", path, POD, auth=False,
                                          headers={"Authorization": "Bearer not-a-known-token"})
    assert status == 401 and _status(body)["reason"] == "Unauthorized"
    _nothing_stored(kube_server, namespace)
    # real kubectl with a kubeconfig whose only credential is a token the server does not know
    config = tmp_path / "anon.yaml"
    config.write_text(f"""apiVersion: v1
kind: Config
clusters: [{{name: c, cluster: {{server: "{kube_server.url}", certificate-authority: "{kube_server.data_dir}/tls/server-ca.crt"}}}}]
users: [{{name: nobody, user: {{token: not-a-known-token}}}}]
contexts: [{{name: c, context: {{cluster: c, user: nobody}}}}]
current-context: c
""")
    out = kube_server.kubectl("--kubeconfig", str(config), "run", "p", "--image=busybox", "-n", namespace,
                              env={"KUBECONFIG": str(config)})
    assert out.returncode == 1
    assert b"error: You must be logged in to the server" in out.stderr
    _nothing_stored(kube_server, namespace)
    assert kube_server.ready()
