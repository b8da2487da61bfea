"""Endpoint hostnames, which give StatefulSet pods their `<pod>.<svc>` DNS names: set by the
endpoint controllers only for a pod whose subdomain is the Service, in its namespace."""

from skiff.cluster.controllers.endpoints_util import endpoints_subsets, slice_endpoints


def pod(name, ip, ns="default", **spec):
    return {"metadata": {"name": name, "namespace": ns, "labels": {"app": "web"}},
            "spec": {"nodeName": "n1", **spec},
            "status": {"podIP": ip, "phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}


SERVICE = {"metadata": {"name": "web", "namespace": "default"},
           "spec": {"clusterIP": "None", "selector": {"app": "web"}, "ports": [{"name": "http", "port": 80}]}}


def test_hostname_only_with_the_services_subdomain():
    pods = [pod("web-0", "10.42.0.2", hostname="web-0", subdomain="web"),
            pod("other", "10.42.0.3", hostname="other", subdomain="not-web"),
            pod("plain", "10.42.0.4")]
    [(_, endpoints)] = slice_endpoints(SERVICE, pods)
    assert [(e["addresses"][0], e.get("hostname")) for e in endpoints] == [
        ("10.42.0.2", "web-0"), ("10.42.0.3", None), ("10.42.0.4", None)]
    [subset] = endpoints_subsets(SERVICE, pods)
    assert [a.get("hostname") for a in subset["addresses"]] == ["web-0", None, None]


def test_no_hostname_across_namespaces():
    [(_, endpoints)] = slice_endpoints(SERVICE, [pod("web-0", "10.42.0.2", ns="other", hostname="web-0",
                                                     subdomain="web")])
    assert "hostname" not in endpoints[0]
