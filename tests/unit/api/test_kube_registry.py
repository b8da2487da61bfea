"""The served kinds, as `kubectl api-resources` lists them on a 1.32 cluster."""

import pytest

from skiff.cluster.api import registry


@pytest.mark.parametrize("group,version,plural,kind,short,namespaced", [
    ("", "v1", "pods", "Pod", ("po",), True),
    ("", "v1", "services", "Service", ("svc",), True),
    ("", "v1", "endpoints", "Endpoints", ("ep",), True),
    ("", "v1", "replicationcontrollers", "ReplicationController", ("rc",), True),
    ("", "v1", "configmaps", "ConfigMap", ("cm",), True),
    ("", "v1", "serviceaccounts", "ServiceAccount", ("sa",), True),
    ("", "v1", "nodes", "Node", ("no",), False),
    ("", "v1", "namespaces", "Namespace", ("ns",), False),
    ("", "v1", "events", "Event", ("ev",), True),
    ("", "v1", "persistentvolumes", "PersistentVolume", ("pv",), False),
    ("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", ("pvc",), True),
    ("", "v1", "limitranges", "LimitRange", ("limits",), True),
    ("", "v1", "resourcequotas", "ResourceQuota", ("quota",), True),
    ("", "v1", "secrets", "Secret", (), True),
    ("apps", "v1", "deployments", "Deployment", ("deploy",), True),
    ("apps", "v1", "replicasets", "ReplicaSet", ("rs",), True),
    ("apps", "v1", "daemonsets", "DaemonSet", ("ds",), True),
    ("apps", "v1", "statefulsets", "StatefulSet", ("sts",), True),
    ("apps", "v1", "controllerrevisions", "ControllerRevision", (), True),
    ("batch", "v1", "jobs", "Job", (), True),
    ("batch", "v1", "cronjobs", "CronJob", ("cj",), True),
    ("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", ("hpa",), True),
    ("autoscaling", "v1", "horizontalpodautoscalers", "HorizontalPodAutoscaler", ("hpa",), True),
    ("coordination.k8s.io", "v1", "leases", "Lease", (), True),
    ("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", (), True),
    ("events.k8s.io", "v1", "events", "Event", ("ev",), True),
    ("scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", ("pc",), False),
])
def test_resource(group, version, plural, kind, short, namespaced):
    res = registry.find(group, version, plural)
    assert res is not None
    assert (res.kind, res.short_names, res.namespaced, res.list_kind) == (kind, short, namespaced, kind + "List")
    assert res.singular == kind.lower()


def test_all_category_is_what_kubectl_get_all_shows():
    in_all = {r.plural for r in registry.all_resources() if "all" in r.categories}
    assert in_all == {"pods", "services", "replicationcontrollers", "daemonsets", "deployments", "replicasets",
                      "statefulsets", "jobs", "cronjobs", "horizontalpodautoscalers"}


def test_subresources_and_verbs():
    pods = registry.find("", "v1", "pods")
    assert {"status", "binding", "log", "exec", "attach", "portforward", "eviction"} <= set(pods.subresources)
    deploy = registry.find("apps", "v1", "deployments")
    assert {"scale", "status"} <= set(deploy.subresources)
    scale = registry.subresource(deploy, "scale")
    assert (scale.group, scale.version, scale.kind, scale.verbs) == ("autoscaling", "v1", "Scale",
                                                                      ("get", "patch", "update"))
    assert registry.subresource(pods, "binding").verbs == ("create",)
    assert registry.subresource(pods, "scale") is None
    namespaces = registry.find("", "v1", "namespaces")
    assert "deletecollection" not in namespaces.verbs
    assert set(registry.ALL_VERBS) == set(pods.verbs)


def test_versions_and_lookup_by_kind():
    assert registry.preferred_versions()["autoscaling"] == "v2"
    assert registry.versions_of("autoscaling") == ["v2", "v1"]
    assert registry.preferred_versions()[""] == "v1"
    assert registry.for_api_version("apps/v1", "Deployment").plural == "deployments"
    assert registry.for_api_version("v1", "Pod").plural == "pods"
    assert registry.for_api_version("apps/v1", "Pod") is None
    res = registry.find("apps", "v1", "deployments")
    assert (res.group_version, res.group_resource, res.definition) == (
        "apps/v1", "deployments.apps", "io.k8s.api.apps.v1.Deployment")


def test_every_kind_has_a_schema():
    from skiff.cluster.api import schema

    for res in registry.all_resources():
        assert res.definition in schema.definitions(), res
