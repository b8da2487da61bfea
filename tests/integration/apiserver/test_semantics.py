"""REST semantics of skiff server over HTTPS: dry run, tables, deletion, subresources, admission, watch."""

from __future__ import annotations

import json
import ssl
import time
import urllib.request

import pytest

from tests.support.server import Server

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


def _cm(name, **meta):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, **meta}, "data": {"a": "b"}}


def _pod(name, **spec):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "busybox"}], **spec}}


def test_public_paths_and_authentication(kube_server):
    for path in ("/healthz", "/livez", "/readyz", "/version"):
        status, _, _ = kube_server.request("GET", path, auth=False)
        assert status == 200, path
    status, _, body = kube_server.request("GET", "/api/v1/namespaces", auth=False)
    assert status == 401 and json.loads(body)["reason"] == "Unauthorized"
    assert json.loads(kube_server.request("GET", "/version")[2])["major"] == "1"


def test_a_certificate_from_another_ca_is_refused(kube_server, tmp_path):
    from skiff.cluster.apiserver import certs

    other = certs.ensure_pki(tmp_path, ["127.0.0.1"])
    ctx = ssl.create_default_context(cafile=str(kube_server.data_dir / "tls" / "server-ca.crt"))
    ctx.load_cert_chain(other.admin_cert, other.admin_key)
    with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
        urllib.request.urlopen(urllib.request.Request(kube_server.url + "/api/v1/namespaces"), context=ctx,
                               timeout=10).read()
    assert kube_server.ready()


def test_bearer_tokens_from_a_token_file(tmp_path):
    tokens = tmp_path / "tokens.csv"
    tokens.write_text('s3cret,alice,1000,"devs"\n')
    srv = Server(root=tmp_path / "srv", extra_args=["--token-auth-file", str(tokens), "--token", "join"]).start()
    try:
        ctx = ssl.create_default_context(cafile=str(srv.data_dir / "tls" / "server-ca.crt"))
        # alice is known but granted nothing (RBAC); the join token's user is bound to cluster-admin
        for token, want in (("s3cret", 403), ("join", 200), ("nope", 401)):
            req = urllib.request.Request(srv.url + "/api/v1/namespaces", headers={"Authorization": f"Bearer {token}"})
            try:
                status = urllib.request.urlopen(req, context=ctx, timeout=10).status
            except urllib.error.HTTPError as e:
                status = e.code
            assert status == want, token
    finally:
        srv.cleanup()


def test_dry_run_stores_nothing(kube_server, namespace):
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    status, body = kube_server.json("POST", path + "?dryRun=All", _cm("dry"))
    assert status == 201 and body["metadata"]["uid"]
    assert kube_server.json("GET", path + "/dry")[0] == 404
    assert kube_server.json("POST", path, _cm("real"))[0] == 201
    status, _ = kube_server.json("DELETE", path + "/real?dryRun=All")
    assert status == 200 and kube_server.json("GET", path + "/real")[0] == 200
    assert kube_server.json("POST", path + "?dryRun=Some", _cm("x"))[0] == 400


def test_generate_name_and_system_fields(kube_server, namespace):
    status, body = kube_server.json("POST", f"/api/v1/namespaces/{namespace}/configmaps",
                                    {"apiVersion": "v1", "kind": "ConfigMap",
                                     "metadata": {"generateName": "gen-", "uid": "mine", "resourceVersion": "9"},
                                     "data": {"k": "v"}})
    meta = body["metadata"]
    assert status == 201 and meta["name"].startswith("gen-") and len(meta["name"]) == 9
    assert meta["uid"] != "mine" and meta["creationTimestamp"]
    assert meta["managedFields"][0]["operation"] == "Update"


def test_server_side_table(kube_server, namespace):
    kube_server.json("POST", f"/api/v1/namespaces/{namespace}/configmaps", _cm("t1", labels={"t": "1"}))
    status, _, raw = kube_server.request("GET", f"/api/v1/namespaces/{namespace}/configmaps?labelSelector=t",
                                         headers={"Accept": TABLE})
    table = json.loads(raw)
    assert status == 200 and table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert [c["name"] for c in table["columnDefinitions"]][:2] == ["Name", "Data"]
    assert table["rows"][0]["cells"][0] == "t1"
    assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    assert table["metadata"]["resourceVersion"]


def test_finalizers_hold_deletion_until_removed(kube_server, namespace):
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    kube_server.json("POST", path, _cm("held", finalizers=["example.com/hold"]))
    status, body = kube_server.json("DELETE", path + "/held")
    assert status == 200 and body["metadata"]["deletionTimestamp"]
    assert kube_server.json("GET", path + "/held")[0] == 200
    status, body = kube_server.request("PATCH", path + "/held", b'{"metadata":{"finalizers":["x.io/new"]}}',
                                       headers={"Content-Type": "application/merge-patch+json"})[0], None
    assert status == 422  # no new finalizers while deleting
    status, _, _ = kube_server.request("PATCH", path + "/held", b'{"metadata":{"finalizers":null}}',
                                       headers={"Content-Type": "application/merge-patch+json"})
    assert status == 200
    assert kube_server.json("GET", path + "/held")[0] == 404


def test_propagation_policies_set_finalizers(kube_server, namespace):
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    kube_server.json("POST", path, _cm("fg"))
    status, body = kube_server.json("DELETE", path + "/fg", {"propagationPolicy": "Foreground"})
    assert status == 200 and body["metadata"]["finalizers"] == ["foregroundDeletion"]
    kube_server.json("POST", path, _cm("or"))
    _, body = kube_server.json("DELETE", path + "/or?propagationPolicy=Orphan")
    assert body["metadata"]["finalizers"] == ["orphan"]
    kube_server.json("POST", path, _cm("bg"))
    status, body = kube_server.json("DELETE", path + "/bg", {"propagationPolicy": "Background"})
    assert status == 200 and body["status"] == "Success" and body["details"]["name"] == "bg"
    assert kube_server.json("DELETE", path + "/x", {"propagationPolicy": "Sideways"})[0] == 400


def test_delete_preconditions(kube_server, namespace):
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    _, made = kube_server.json("POST", path, _cm("pre"))
    status, body = kube_server.json("DELETE", path + "/pre", {"preconditions": {"uid": "wrong"}})
    assert status == 409 and "Precondition failed: UID in precondition: wrong" in body["message"]
    status, _ = kube_server.json("DELETE", path + "/pre", {"preconditions": {"uid": made["metadata"]["uid"],
                                                                             "resourceVersion": made["metadata"]["resourceVersion"]}})
    assert status == 200


def test_delete_collection_by_label(kube_server, namespace):
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    for name, tier in (("a", "x"), ("b", "x"), ("c", "y")):
        kube_server.json("POST", path, _cm(name, labels={"tier": tier}))
    status, body = kube_server.json("DELETE", path + "?labelSelector=tier%3Dx")
    assert status == 200 and sorted(i["metadata"]["name"] for i in body["items"]) == ["a", "b"]
    _, left = kube_server.json("GET", path + "?labelSelector=tier")
    assert [i["metadata"]["name"] for i in left["items"]] == ["c"]


def test_status_subresource_and_binding(kube_server, namespace):
    path = f"/api/v1/namespaces/{namespace}/pods"
    _, pod = kube_server.json("POST", path, _pod("p"))
    del pod["metadata"]["resourceVersion"]  # the scheduler may write the pod's status meanwhile
    pod["status"] = {"phase": "Running"}
    pod["spec"]["activeDeadlineSeconds"] = 5
    status, body = kube_server.json("PUT", path + "/p/status", pod)
    assert status == 200 and body["status"]["phase"] == "Running" and "activeDeadlineSeconds" not in body["spec"]
    binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p"},
               "target": {"apiVersion": "v1", "kind": "Node", "name": "node-1"}}
    status, body = kube_server.json("POST", path + "/p/binding", binding)
    assert status == 201 and body["status"] == "Success"
    assert kube_server.json("GET", path + "/p")[1]["spec"]["nodeName"] == "node-1"
    status, body = kube_server.json("POST", path + "/p/binding", binding)
    assert status == 409 and 'already assigned to node "node-1"' in body["message"]
    status, body = kube_server.json("GET", path + "/p/proxy")  # bound, but no kubelet gave it an IP
    assert status == 503 and 'pod "p" has no IP address yet' in body["message"]


def test_namespace_lifecycle(kube_server):
    status, _ = kube_server.json("POST", "/api/v1/namespaces", {"metadata": {"name": "doomed"}})
    assert status == 201
    kube_server.json("POST", "/api/v1/namespaces/doomed/configmaps", _cm("inside"))
    status, body = kube_server.json("DELETE", "/api/v1/namespaces/doomed")
    assert status == 200 and body["status"]["phase"] == "Terminating"
    deadline = time.monotonic() + 60
    while kube_server.json("GET", "/api/v1/namespaces/doomed")[0] != 404:
        assert time.monotonic() < deadline, "namespace never finished terminating"
        time.sleep(0.1)
    assert kube_server.json("GET", "/api/v1/namespaces/doomed/configmaps/inside")[0] == 404
    status, body = kube_server.json("DELETE", "/api/v1/namespaces/kube-system")
    assert status == 403 and "may not be deleted" in body["message"]
    assert kube_server.json("POST", "/api/v1/namespaces/missing/configmaps", _cm("x"))[0] == 404


def test_admission_limits_quota_priority(kube_server, namespace):
    base = f"/api/v1/namespaces/{namespace}"
    kube_server.json("POST", base + "/limitranges", {"metadata": {"name": "lr"}, "spec": {"limits": [
        {"type": "Container", "default": {"cpu": "500m"}, "defaultRequest": {"cpu": "100m"}, "max": {"cpu": "1"}}]}})
    _, pod = kube_server.json("POST", base + "/pods", _pod("defaulted"))
    assert pod["spec"]["containers"][0]["resources"] == {"limits": {"cpu": "500m"}, "requests": {"cpu": "100m"}}
    big = _pod("big")
    big["spec"]["containers"][0]["resources"] = {"limits": {"cpu": "2"}}
    status, body = kube_server.json("POST", base + "/pods", big)
    assert status == 403 and "maximum cpu usage per Container is 1, but limit is 2" in body["message"]
    kube_server.json("POST", base + "/resourcequotas", {"metadata": {"name": "q"}, "spec": {"hard": {"pods": "2"}}})
    assert kube_server.json("POST", base + "/pods", _pod("second"))[0] == 201
    status, body = kube_server.json("POST", base + "/pods", _pod("third"))
    assert status == 403 and "exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2" in body["message"]
    kube_server.json("DELETE", base + "/resourcequotas/q")
    status, body = kube_server.json("POST", base + "/pods", _pod("prio", priorityClassName="nope"))
    assert status == 403 and "no PriorityClass with name nope was found" in body["message"]
    _, crit = kube_server.json("POST", base + "/pods", _pod("crit", priorityClassName="system-cluster-critical"))
    assert crit["spec"]["priority"] == 2000000000


def test_aggregated_discovery_and_metrics(kube_server):
    accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
    status, headers, raw = kube_server.request("GET", "/apis", headers={"Accept": accept})
    assert status == 200 and "as=APIGroupDiscoveryList" in headers["Content-Type"]
    assert json.loads(raw)["kind"] == "APIGroupDiscoveryList"
    status, _, raw = kube_server.request("GET", "/metrics")
    text = raw.decode()
    assert status == 200 and 'apiserver_request_total{code="200"' in text
    assert "apiserver_request_duration_seconds_bucket" in text and "etcd_request_duration_seconds" in text


def test_watch_bookmarks_and_timeout(kube_server, namespace):
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    _, listed = kube_server.json("GET", path)
    rv = listed["metadata"]["resourceVersion"]
    kube_server.json("POST", path, _cm("w"))
    started = time.monotonic()
    status, _, raw = kube_server.request("GET", f"{path}?watch=1&resourceVersion={rv}&timeoutSeconds=1"
                                                 "&allowWatchBookmarks=true")
    events = [json.loads(line) for line in raw.splitlines() if line.strip()]
    assert status == 200 and time.monotonic() - started < 20
    assert events[0]["type"] == "ADDED" and events[0]["object"]["metadata"]["name"] == "w"
    assert all(e["type"] in ("ADDED", "BOOKMARK") for e in events)


def test_get_at_resource_versions(kube_server, namespace):
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    _, made = kube_server.json("POST", path, _cm("rv"))
    rv = made["metadata"]["resourceVersion"]
    for query in ("", "?resourceVersion=0", f"?resourceVersion={rv}"):
        status, body = kube_server.json("GET", f"{path}/rv{query}")
        assert status == 200 and body["metadata"]["uid"] == made["metadata"]["uid"], query
    assert kube_server.json("GET", f"{path}/rv?resourceVersion=abc")[0] == 400
    assert kube_server.json("GET", f"{path}/missing?resourceVersion=0")[0] == 404


def test_patch_is_conditional_only_when_it_names_a_resource_version(kube_server, namespace):
    path = f"/api/v1/namespaces/{namespace}/configmaps/pc"
    _, made = kube_server.json("POST", f"/api/v1/namespaces/{namespace}/configmaps", _cm("pc"))
    stale = made["metadata"]["resourceVersion"]
    kube_server.json("PUT", path, {**_cm("pc"), "data": {"a": "changed"}})
    merge = {"Content-Type": "application/merge-patch+json"}
    status, _, _ = kube_server.request("PATCH", path, json.dumps({"metadata": {"resourceVersion": stale},
                                                                  "data": {"b": "1"}}).encode(), headers=merge)
    assert status == 409
    status, _, raw = kube_server.request("PATCH", path, b'{"data": {"b": "2"}}', headers=merge)
    assert status == 200 and json.loads(raw)["data"] == {"a": "changed", "b": "2"}


def test_ready_means_the_default_namespaces_are_usable(tmp_path):
    """A pod created the moment /readyz says ok is admitted: its namespace's `default` account
    and kube-root-ca.crt were made before (admission waits only briefly for the account)."""
    server = Server(tmp_path / "s").start()
    try:
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
            assert server.json("GET", f"/api/v1/namespaces/{ns}/serviceaccounts/default")[0] == 200, ns
            status, cm = server.json("GET", f"/api/v1/namespaces/{ns}/configmaps/kube-root-ca.crt")
            assert status == 200 and cm["data"]["ca.crt"].startswith("-----BEGIN CERTIFICATE-----"), ns
    finally:
        server.stop()

