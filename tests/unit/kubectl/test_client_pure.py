"""The pure parts of cluster/client: REST paths, kubeconfig merging and resolution, discovery."""

import base64

import pytest

from skiff.cluster.client import discovery, kubeconfig, paths
from skiff.common.errors import InvalidArgument


def test_resource_paths():
    assert paths.resource_path("", "v1", "pods") == "/api/v1/pods"
    assert paths.resource_path("", "v1", "pods", "ns", "web") == "/api/v1/namespaces/ns/pods/web"
    assert paths.resource_path("apps", "v1", "deployments", "ns", "f", "scale") == \
        "/apis/apps/v1/namespaces/ns/deployments/f/scale"
    assert paths.resource_path("", "v1", "nodes", None, "n:1") == "/api/v1/nodes/n%3A1"
    node = paths.Resource("", "v1", "nodes", "Node", namespaced=False)
    assert paths.path_for(node, "ignored", "n1") == "/api/v1/nodes/n1"


def test_query():
    assert paths.with_query("/p", {"a": None, "b": True, "c": "x y", "d": 5}) == "/p?b=true&c=x+y&d=5"
    assert paths.with_query("/p", {"a": None}) == "/p"
    assert paths.split_api_version("apps/v1") == ("apps", "v1")
    assert paths.split_api_version("v1") == ("", "v1")


def _kc(server, ctx_ns=None, user=None, name="c"):
    ctx = {"cluster": name, "user": name}
    if ctx_ns:
        ctx["namespace"] = ctx_ns
    return {"clusters": [{"name": name, "cluster": {"server": server, "certificate-authority": "ca.crt"}}],
            "users": [{"name": name, "user": user or {"token": "t-" + name}}],
            "contexts": [{"name": name, "context": ctx}], "current-context": name}


def test_merge_first_file_wins_and_paths_are_absolutized():
    merged = kubeconfig.merge([("/a/one.yaml", _kc("https://one", name="c")),
                               ("/b/two.yaml", {**_kc("https://two", name="c"), "current-context": "other"}),
                               ("/b/three.yaml", _kc("https://three", name="d"))])
    assert merged["current-context"] == "c"
    assert [c["name"] for c in merged["clusters"]] == ["c", "d"]
    assert merged["clusters"][0]["cluster"] == {"server": "https://one", "certificate-authority": "/a/ca.crt"}


def test_resolve_context_and_overrides():
    cert = base64.b64encode(b"CERT").decode()
    cfg = kubeconfig.merge([("/k/config", _kc("https://h:6443", ctx_ns="team", user={"client-certificate-data": cert}))])
    conn = kubeconfig.resolve(cfg)
    assert conn.server == "https://h:6443" and conn.namespace == "team" and conn.cert_data == b"CERT"
    assert conn.ca_file == "/k/ca.crt" and conn.token is None
    over = kubeconfig.resolve(cfg, server="other:1", token="tok", namespace="x", insecure=True)
    assert (over.server, over.token, over.namespace, over.insecure) == ("https://other:1", "tok", "x", True)
    with pytest.raises(InvalidArgument, match="context was not found for specified context: nope"):
        kubeconfig.resolve(cfg, context="nope")
    with pytest.raises(InvalidArgument, match="localhost:8080 was refused"):
        kubeconfig.resolve(kubeconfig.merge([]))


def test_default_paths():
    assert kubeconfig.default_paths({"KUBECONFIG": "/a:/b", "HOME": "/h"}) == ["/a", "/b"]
    assert kubeconfig.default_paths({"HOME": "/h"}) == ["/h/.kube/config"]


def test_redacted_and_minified():
    cfg = kubeconfig.merge([("/k", _kc("https://one", name="c", user={"client-key-data": "S", "token": "T"})),
                            ("/k2", _kc("https://two", name="d"))])
    red = kubeconfig.redacted(cfg)
    assert red["users"][0]["user"] == {"client-key-data": "DATA+OMITTED", "token": "REDACTED"}
    assert cfg["users"][0]["user"]["token"] == "T"
    mini = kubeconfig.minified(cfg)
    assert [c["name"] for c in mini["clusters"]] == ["c"] and [u["name"] for u in mini["users"]] == ["c"]


AGG = {"kind": "APIGroupDiscoveryList", "items": [
    {"metadata": {"name": "apps"}, "versions": [{"version": "v1", "resources": [
        {"resource": "deployments", "responseKind": {"kind": "Deployment"}, "scope": "Namespaced",
         "singularResource": "deployment", "shortNames": ["deploy"], "categories": ["all"], "verbs": ["get"],
         "subresources": [{"subresource": "scale"}, {"subresource": "status"}]}]}]},
    {"metadata": {"name": "events.k8s.io"}, "versions": [{"version": "v1", "resources": [
        {"resource": "events", "responseKind": {"kind": "Event"}, "scope": "Namespaced", "shortNames": ["ev"]}]}]},
]}
CORE = {"kind": "APIGroupDiscoveryList", "items": [{"metadata": {}, "versions": [{"version": "v1", "resources": [
    {"resource": "pods", "responseKind": {"kind": "Pod"}, "scope": "Namespaced", "singularResource": "pod",
     "shortNames": ["po"], "categories": ["all"]},
    {"resource": "events", "responseKind": {"kind": "Event"}, "scope": "Namespaced", "shortNames": ["ev"]},
    {"resource": "nodes", "responseKind": {"kind": "Node"}, "scope": "Cluster", "shortNames": ["no"]}]}]}]}


def test_discovery_resolution_prefers_core_and_accepts_every_spelling():
    res = discovery.parse_aggregated(CORE) + discovery.parse_aggregated(AGG)
    for word in ("deploy", "deployments", "deployment", "Deployment", "deployments.apps", "deployment.v1.apps"):
        assert discovery.resolve(res, word).plural == "deployments", word
    assert discovery.resolve(res, "ev").group == ""
    assert discovery.resolve(res, "events.events.k8s.io").group == "events.k8s.io"
    assert discovery.resolve(res, "no").namespaced is False
    assert discovery.resolve(res, "deploy").subresources == ("scale", "status")
    with pytest.raises(discovery.UnknownResource, match='the server doesn\'t have a resource type "foo"'):
        discovery.resolve(res, "foo")
    assert [r.plural for r in discovery.in_category(res, "all")] == ["pods", "deployments"]
    assert discovery.by_kind(res, "apps/v1", "Deployment").plural == "deployments"
    assert discovery.api_versions(res) == ["apps/v1", "events.k8s.io/v1", "v1"]


def test_legacy_discovery_folds_subresources():
    doc = {"groupVersion": "apps/v1", "resources": [
        {"name": "deployments", "kind": "Deployment", "namespaced": True, "singularName": "deployment"},
        {"name": "deployments/scale", "kind": "Scale", "namespaced": True}]}
    (res,) = discovery.parse_resource_list(doc)
    assert (res.group, res.version, res.subresources) == ("apps", "v1", ("scale",))


def test_warning_header_text():
    from skiff.cluster.client.rest import warning_text

    assert warning_text('299 - "unknown field \\"spec.x\\""') == 'unknown field "spec.x"'
    assert warning_text('299 - "plain"') == "plain"
    assert warning_text("not the usual form") == "not the usual form"
