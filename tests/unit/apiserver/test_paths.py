from skiff.cluster.apiserver.paths import RequestInfo, parse


def test_core_namespaced_collection_and_object():
    assert parse("GET", "/api/v1/namespaces/default/pods") == RequestInfo("list", "", "v1", "pods", "default")
    assert parse("GET", "/api/v1/namespaces/default/pods/web") == \
        RequestInfo("get", "", "v1", "pods", "default", "web")
    assert parse("POST", "/api/v1/namespaces/default/pods").verb == "create"
    assert parse("DELETE", "/api/v1/namespaces/default/pods").verb == "deletecollection"
    assert parse("DELETE", "/api/v1/namespaces/default/pods/web").verb == "delete"


def test_watch_and_all_namespaces():
    info = parse("GET", "/api/v1/pods", watch=True)
    assert info == RequestInfo("watch", "", "v1", "pods")


def test_group_paths_and_subresources():
    info = parse("PUT", "/apis/apps/v1/namespaces/ns1/deployments/web/scale")
    assert info == RequestInfo("update", "apps", "v1", "deployments", "ns1", "web", "scale")


def test_namespace_object_and_its_subresources():
    assert parse("GET", "/api/v1/namespaces/ns1") == RequestInfo("get", "", "v1", "namespaces", "ns1", "ns1")
    assert parse("PUT", "/api/v1/namespaces/ns1/finalize") == \
        RequestInfo("update", "", "v1", "namespaces", "ns1", "ns1", "finalize")
    assert parse("GET", "/api/v1/namespaces") == RequestInfo("list", "", "v1", "namespaces")


def test_proxy_keeps_its_path_and_other_deep_paths_are_not_resources():
    assert parse("GET", "/api/v1/namespaces/n/pods/p/proxy/a/b").subresource == "proxy/a/b"
    assert parse("GET", "/api/v1/namespaces/n/pods/p/status/extra") is None
    assert parse("GET", "/healthz") is None
    assert parse("OPTIONS", "/api/v1/pods") is None
