import pytest

from skiff.cluster.api import registry
from skiff.cluster.apimachinery.errors import ApiError
from skiff.cluster.apiserver import objectmeta

PODS = registry.find("", "v1", "pods")
DEPLOY = registry.find("apps", "v1", "deployments")


def test_create_sets_system_fields_and_generates_names():
    obj = {"metadata": {"generateName": "web-", "uid": "client-set", "resourceVersion": "5"}}
    objectmeta.fill_on_create(PODS, obj)
    meta = obj["metadata"]
    assert meta["name"].startswith("web-") and len(meta["name"]) == 9
    assert meta["uid"] != "client-set" and "resourceVersion" not in meta and meta["creationTimestamp"]


def test_create_without_a_name_is_invalid():
    with pytest.raises(ApiError) as e:
        objectmeta.fill_on_create(PODS, {"metadata": {}})
    assert e.value.code == 422 and "name or generateName is required" in e.value.message


def test_type_and_namespace_checks():
    with pytest.raises(ApiError) as e:
        objectmeta.check_type(DEPLOY, {"apiVersion": "v1", "kind": "Deployment"})
    assert "does not match the expected API version (apps/v1)" in e.value.message
    with pytest.raises(ApiError) as e:
        objectmeta.check_type(PODS, {"apiVersion": "v1", "kind": "Service"})
    assert e.value.code == 400
    obj = {"metadata": {"namespace": "a"}}
    with pytest.raises(ApiError):
        objectmeta.check_namespace(PODS, obj, "b")
    objectmeta.check_namespace(PODS, obj, "a")
    assert obj["metadata"]["namespace"] == "a"


def test_update_keeps_system_fields_and_refuses_new_finalizers_while_deleting():
    old = {"metadata": {"name": "p", "uid": "u1", "creationTimestamp": "t", "deletionTimestamp": "d",
                        "finalizers": ["a"]}}
    new = {"metadata": {"name": "p", "uid": "other", "finalizers": ["a"]}}
    objectmeta.carry_on_update(PODS, new, old)
    assert new["metadata"]["uid"] == "u1" and new["metadata"]["deletionTimestamp"] == "d"
    with pytest.raises(ApiError) as e:
        objectmeta.carry_on_update(PODS, {"metadata": {"name": "p", "finalizers": ["a", "b"]}}, old)
    assert "no new finalizers" in e.value.message


def test_finished_deleting():
    assert objectmeta.finished_deleting({"metadata": {"deletionTimestamp": "t", "finalizers": []}})
    assert not objectmeta.finished_deleting({"metadata": {"deletionTimestamp": "t", "finalizers": ["x"]}})
    assert not objectmeta.finished_deleting({"metadata": {}})
    assert not objectmeta.finished_deleting({"kind": "Namespace", "metadata": {"deletionTimestamp": "t"},
                                             "spec": {"finalizers": ["kubernetes"]}})


def test_drop_path_removes_unknown_fields_only():
    from skiff.cluster.apiserver.writes import drop_path

    obj = {"spec": {"containers": [{"name": "c", "containersPort": 80}]}, "metadata": {"label": {"a": "b"}}}
    drop_path(obj, "spec.containers[0].containersPort")
    drop_path(obj, "metadata.label")
    drop_path(obj, "spec.containers[3].x")  # a path that is not there changes nothing
    assert obj == {"spec": {"containers": [{"name": "c"}]}, "metadata": {}}


def test_only_a_resource_version_the_client_sent_is_a_precondition():
    from skiff.cluster.apiserver.writes import body_precondition, patch_precondition

    assert patch_precondition("application/merge-patch+json", {"spec": {"replicas": 3}}) == ""
    assert patch_precondition("application/merge-patch+json", {"metadata": {"resourceVersion": "7"}}) == "7"
    assert patch_precondition("application/json-patch+json",
                              [{"op": "test", "path": "/metadata/resourceVersion", "value": "9"}]) == "9"
    assert patch_precondition("application/json-patch+json", [{"op": "add", "path": "/x", "value": 1}]) == ""
    assert body_precondition({"metadata": {"resourceVersion": "5"}}) == "5"
    assert body_precondition({"metadata": {}}) == ""
