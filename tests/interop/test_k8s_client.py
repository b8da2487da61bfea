"""The `kubernetes` Python client against `skiff server`: CRUD, optimistic concurrency, paging, watch."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.interop

k8s = pytest.importorskip("kubernetes")
from kubernetes import client, config, watch  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402


@pytest.fixture(scope="module")
def api_client(kube_server):
    c = config.new_client_from_config(str(kube_server.kubeconfig))
    yield c
    c.close()


@pytest.fixture
def core(api_client):
    return client.CoreV1Api(api_client)


def _cm(name: str, labels: dict | None = None, data: dict | None = None) -> client.V1ConfigMap:
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels=labels), data=data or {"k": "v"})


def test_crud(core, namespace):
    made = core.create_namespaced_config_map(namespace, _cm("one", {"app": "x"}))
    assert made.metadata.uid and made.metadata.resource_version
    got = core.read_namespaced_config_map("one", namespace)
    assert got.data == {"k": "v"} and got.metadata.labels == {"app": "x"}
    got.data["k"] = "w"
    replaced = core.replace_namespaced_config_map("one", namespace, got)
    assert int(replaced.metadata.resource_version) > int(made.metadata.resource_version)
    patched = core.patch_namespaced_config_map("one", namespace, {"data": {"extra": "1"}})
    assert patched.data == {"k": "w", "extra": "1"}
    core.delete_namespaced_config_map("one", namespace)
    with pytest.raises(ApiException) as e:
        core.read_namespaced_config_map("one", namespace)
    assert e.value.status == 404


def test_stale_update_is_a_conflict(core, namespace):
    core.create_namespaced_config_map(namespace, _cm("racy"))
    first = core.read_namespaced_config_map("racy", namespace)
    second = core.read_namespaced_config_map("racy", namespace)
    first.data = {"k": "first"}
    core.replace_namespaced_config_map("racy", namespace, first)
    second.data = {"k": "second"}
    with pytest.raises(ApiException) as e:
        core.replace_namespaced_config_map("racy", namespace, second)
    assert e.value.status == 409
    assert "the object has been modified" in e.value.body
    assert core.read_namespaced_config_map("racy", namespace).data == {"k": "first"}


def test_list_pagination_and_selectors(core, namespace):
    for i in range(7):
        core.create_namespaced_config_map(namespace, _cm(f"page-{i}", {"parity": "even" if i % 2 == 0 else "odd"}))
    names, token, pages = [], None, 0
    while True:
        page = core.list_namespaced_config_map(namespace, limit=3, _continue=token, label_selector="parity")
        names += [cm.metadata.name for cm in page.items]
        pages += 1
        token = page.metadata._continue
        if not token:
            break
    assert names == [f"page-{i}" for i in range(7)] and pages == 3
    even = core.list_namespaced_config_map(namespace, label_selector="parity=even")
    assert [cm.metadata.name for cm in even.items] == ["page-0", "page-2", "page-4", "page-6"]
    one = core.list_namespaced_config_map(namespace, field_selector="metadata.name=page-3")
    assert [cm.metadata.name for cm in one.items] == ["page-3"]


def test_watch_resumes_from_a_resource_version(core, namespace):
    start = core.list_namespaced_config_map(namespace).metadata.resource_version
    core.create_namespaced_config_map(namespace, _cm("w1"))
    core.patch_namespaced_config_map("w1", namespace, {"data": {"k": "2"}})
    core.delete_namespaced_config_map("w1", namespace)
    w = watch.Watch()
    seen = []
    for ev in w.stream(core.list_namespaced_config_map, namespace, resource_version=start, timeout_seconds=5):
        seen.append((ev["type"], ev["object"].metadata.name))
        if len(seen) == 3:
            w.stop()
    assert seen == [("ADDED", "w1"), ("MODIFIED", "w1"), ("DELETED", "w1")]


def test_watch_starts_with_current_objects(core, namespace):
    core.create_namespaced_config_map(namespace, _cm("present", {"watched": "yes"}))
    w = watch.Watch()
    for ev in w.stream(core.list_namespaced_config_map, namespace, label_selector="watched", timeout_seconds=5):
        assert (ev["type"], ev["object"].metadata.name) == ("ADDED", "present")
        w.stop()


def test_deployment_scale_subresource(api_client, namespace):
    apps = client.AppsV1Api(api_client)
    body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}
    apps.create_namespaced_deployment(namespace, body)
    scale = apps.read_namespaced_deployment_scale("web", namespace)
    assert scale.spec.replicas == 1 and scale.status.selector == "app=web"
    apps.patch_namespaced_deployment_scale("web", namespace, {"spec": {"replicas": 4}})
    assert apps.read_namespaced_deployment("web", namespace).spec.replicas == 4


def test_invalid_object_is_422_with_causes(core, namespace):
    with pytest.raises(ApiException) as e:
        core.create_namespaced_config_map(namespace, _cm("Not_Valid"))
    assert e.value.status == 422
    assert '"reason":"Invalid"' in e.value.body.replace(" ", "")


def test_service_account_tokens(core, kube_server, namespace):
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
            "spec": {"expirationSeconds": 3600, "audiences": ["skiff"]}}
    made = core.create_namespaced_service_account_token("default", namespace, body)
    token = made.status.token
    assert made.spec.expiration_seconds == 3600 and token.count(".") == 2
    cfg = client.Configuration()
    cfg.host = kube_server.url
    cfg.ssl_ca_cert = str(kube_server.data_dir / "tls" / "server-ca.crt")
    cfg.api_key = {"authorization": "Bearer " + token}
    with client.ApiClient(cfg) as as_sa, pytest.raises(ApiException) as denied:
        client.CoreV1Api(as_sa).list_namespaced_config_map(namespace)
    assert denied.value.status == 403  # RBAC: nothing granted yet
    client.RbacAuthorizationV1Api(core.api_client).create_namespaced_role_binding(namespace, {
        "metadata": {"name": "sa-view"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                                     "name": "view"},
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": namespace}]})
    with client.ApiClient(cfg) as as_sa:
        deadline = time.monotonic() + 60  # the authorizer follows bindings through the watch cache
        while True:
            try:
                listed = client.CoreV1Api(as_sa).list_namespaced_config_map(namespace)
                break
            except ApiException as e:
                if e.status != 403 or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert listed.metadata.resource_version
    with pytest.raises(ApiException) as e:
        core.create_namespaced_service_account_token("default", namespace,
                                                     {**body, "spec": {"expirationSeconds": 60}})
    assert e.value.status == 422 and "less than 10 minutes" in e.value.body
    core.delete_namespaced_service_account("default", namespace)
    cfg2 = client.Configuration()
    cfg2.host, cfg2.ssl_ca_cert, cfg2.api_key = cfg.host, cfg.ssl_ca_cert, cfg.api_key
    with client.ApiClient(cfg2) as as_gone, pytest.raises(ApiException) as e:
        client.CoreV1Api(as_gone).list_namespaced_config_map(namespace)
    assert e.value.status == 401


def test_hpa_across_versions(api_client, namespace):
    v2 = client.AutoscalingV2Api(api_client)
    v1 = client.AutoscalingV1Api(api_client)
    target = client.V2CrossVersionObjectReference(api_version="apps/v1", kind="Deployment", name="web")
    metric = client.V2MetricSpec(type="Resource", resource=client.V2ResourceMetricSource(
        name="cpu", target=client.V2MetricTarget(type="Utilization", average_utilization=70)))
    v2.create_namespaced_horizontal_pod_autoscaler(namespace, client.V2HorizontalPodAutoscaler(
        metadata=client.V1ObjectMeta(name="web"),
        spec=client.V2HorizontalPodAutoscalerSpec(scale_target_ref=target, max_replicas=4, metrics=[metric])))
    old = v1.read_namespaced_horizontal_pod_autoscaler("web", namespace)
    assert old.spec.target_cpu_utilization_percentage == 70
    v1.patch_namespaced_horizontal_pod_autoscaler("web", namespace, {"spec": {"targetCPUUtilizationPercentage": 55}})
    new = v2.read_namespaced_horizontal_pod_autoscaler("web", namespace)
    assert new.spec.metrics[0].resource.target.average_utilization == 55
