"""Server-side apply and managedFields, following the documented SSA behaviour
(https://kubernetes.io/docs/reference/using-api/server-side-apply/)."""

import copy

import pytest

from skiff.cluster.api.schema import node_for
from skiff.cluster.apimachinery import fieldset
from skiff.cluster.apimachinery.apply import server_side_apply, update_managed_fields
from skiff.cluster.apimachinery.errors import ApiError

DEPLOY = node_for("io.k8s.api.apps.v1.Deployment")
CM = node_for("io.k8s.api.core.v1.ConfigMap")


def deployment(replicas=2, image="nginx:1", labels=True):
    obj = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
           "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}},
                                 "spec": {"containers": [{"name": "nginx", "image": image}]}}}}
    if labels:
        obj["metadata"]["labels"] = {"app": "web"}
    return obj


def managers(obj):
    return [(e["manager"], e["operation"]) for e in obj["metadata"].get("managedFields", [])]


def fields_of(obj, manager):
    for e in obj["metadata"]["managedFields"]:
        if e["manager"] == manager:
            return fieldset.from_fields_v1(e["fieldsV1"])
    return set()


def test_create_by_apply_records_the_applied_fields():
    obj = server_side_apply(None, deployment(), "kubectl", False, DEPLOY)
    entry = obj["metadata"]["managedFields"][0]
    assert (entry["manager"], entry["operation"], entry["apiVersion"], entry["fieldsType"]) == \
        ("kubectl", "Apply", "apps/v1", "FieldsV1")
    v1 = entry["fieldsV1"]
    assert v1["f:metadata"]["f:labels"] == {".": {}, "f:app": {}}
    assert "f:name" not in v1["f:metadata"]  # server-owned metadata is not tracked
    assert v1["f:spec"]["f:selector"] == {}  # LabelSelector is atomic
    assert v1["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"nginx"}'] == \
        {".": {}, "f:image": {}, "f:name": {}}


def test_conflict_with_another_manager_then_force():
    live = server_side_apply(None, deployment(), "kubectl", False, DEPLOY)
    scaled = copy.deepcopy(live)
    scaled["spec"]["replicas"] = 5
    update_managed_fields(live, scaled, "kubectl-scale", "Update", DEPLOY)
    assert ("kubectl-scale", "Update") in managers(scaled)
    assert ("f:spec", "f:replicas") not in fields_of(scaled, "kubectl")  # ownership moved with the change
    with pytest.raises(ApiError) as info:
        server_side_apply(scaled, deployment(replicas=3), "other", False, DEPLOY)
    err = info.value
    assert err.code == 409
    assert 'conflict with "kubectl-scale" using apps/v1: .spec.replicas' in err.message
    forced = server_side_apply(scaled, deployment(replicas=3), "other", True, DEPLOY)
    assert forced["spec"]["replicas"] == 3
    assert ("f:spec", "f:replicas") in fields_of(forced, "other")
    assert ("kubectl-scale", "Update") not in managers(forced)  # its only field was taken


def test_same_value_is_shared_not_a_conflict():
    live = server_side_apply(None, deployment(), "a", False, DEPLOY)
    both = server_side_apply(live, deployment(), "b", False, DEPLOY)
    assert ("f:spec", "f:replicas") in fields_of(both, "a")
    assert ("f:spec", "f:replicas") in fields_of(both, "b")


def test_reapply_without_a_field_removes_it():
    live = server_side_apply(None, deployment(), "kubectl", False, DEPLOY)
    again = server_side_apply(live, deployment(labels=False), "kubectl", False, DEPLOY)
    assert "labels" not in again["metadata"]
    assert again["spec"]["replicas"] == 2


def test_field_owned_by_another_manager_survives_removal():
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}}
    live = server_side_apply(None, cm, "one", False, CM)
    live = server_side_apply(live, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                                    "data": {"b": "2"}}, "two", False, CM)
    out = server_side_apply(live, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                                   "data": {"c": "3"}}, "one", False, CM)
    assert out["data"] == {"b": "2", "c": "3"}  # a removed (only "one" owned it), b kept (shared with "two")


def test_list_items_merge_by_key():
    live = server_side_apply(None, deployment(), "kubectl", False, DEPLOY)
    side = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"template": {"spec": {"containers": [{"name": "sidecar", "image": "busybox"}]}}}}
    out = server_side_apply(live, side, "injector", False, DEPLOY)
    assert [c["name"] for c in out["spec"]["template"]["spec"]["containers"]] == ["nginx", "sidecar"]


def test_apply_needs_a_manager_and_no_managed_fields():
    with pytest.raises(ApiError) as info:
        server_side_apply(None, deployment(), "", False, DEPLOY)
    assert info.value.code == 400
    bad = deployment()
    bad["metadata"]["managedFields"] = [{"manager": "x"}]
    with pytest.raises(ApiError):
        server_side_apply(None, bad, "kubectl", False, DEPLOY)


def test_update_on_create_owns_everything_and_noop_update_adds_nothing():
    obj = deployment()
    update_managed_fields(None, obj, "kubectl-create", "Update", DEPLOY)
    assert managers(obj) == [("kubectl-create", "Update")]
    same = copy.deepcopy(obj)
    update_managed_fields(obj, same, "someone", "Update", DEPLOY)
    assert managers(same) == [("kubectl-create", "Update")]


def test_status_subresource_entry_is_separate():
    obj = deployment()
    update_managed_fields(None, obj, "kubectl", "Update", DEPLOY)
    new = copy.deepcopy(obj)
    new["status"] = {"replicas": 2}
    update_managed_fields(obj, new, "controller", "Update", DEPLOY, subresource="status")
    entry = [e for e in new["metadata"]["managedFields"] if e["manager"] == "controller"][0]
    assert entry["subresource"] == "status"
    assert entry["fieldsV1"] == {"f:status": {"f:replicas": {}}}


def test_fields_v1_round_trip():
    paths = {("f:a",), ("f:b", "f:c"), ("f:b",), ("f:l", 'k:{"name":"x"}'), ("f:l", 'k:{"name":"x"}', "f:v")}
    tree = fieldset.to_fields_v1(paths)
    assert tree["f:b"] == {".": {}, "f:c": {}}
    assert fieldset.from_fields_v1(tree) == paths
    assert fieldset.path_text(("f:spec", "f:containers", 'k:{"name":"nginx"}', "f:image")) == \
        '.spec.containers[name="nginx"].image'


def test_reapply_keeps_inside_of_atomic_field_owned_at_finer_grain():
    # kubectl's client-side-apply migration can record an atomic field's insides; a re-apply keeps them
    live = server_side_apply(None, deployment(), "kubectl", False, DEPLOY)
    entry = live["metadata"]["managedFields"][0]
    entry["fieldsV1"]["f:spec"]["f:selector"] = {".": {}, "f:matchLabels": {".": {}, "f:app": {}}}
    again = server_side_apply(live, deployment(), "kubectl", False, DEPLOY)
    assert again["spec"]["selector"] == {"matchLabels": {"app": "web"}}


def test_conflict_names_the_subresource_and_apply_managers_plainly():
    live = server_side_apply(None, deployment(), "kubectl", False, DEPLOY)
    scaled = copy.deepcopy(live)
    scaled["spec"]["replicas"] = 7
    update_managed_fields(live, scaled, "kube-controller-manager", "Update", DEPLOY, subresource="scale")
    with pytest.raises(ApiError) as info:
        server_side_apply(scaled, deployment(replicas=3), "kubectl", False, DEPLOY)
    assert info.value.message == ('Apply failed with 1 conflict: conflict with "kube-controller-manager" with '
                                  'subresource "scale" using apps/v1: .spec.replicas')
    with pytest.raises(ApiError) as info:
        server_side_apply(live, deployment(replicas=3), "other", False, DEPLOY)
    assert info.value.message == 'Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas'


def test_update_without_a_schema_argument_finds_the_kinds_schema():
    # importing the kinds (as the API server does) registers the lookup
    obj = deployment()
    update_managed_fields(None, obj, "kubectl-create", "Update")
    v1 = obj["metadata"]["managedFields"][0]["fieldsV1"]
    assert v1["f:spec"]["f:selector"] == {}  # atomic, as with the schema passed
    assert "." not in v1["f:spec"]  # a struct is not a member of the set
    assert 'k:{"name":"nginx"}' in v1["f:spec"]["f:template"]["f:spec"]["f:containers"]


def test_main_resource_writes_do_not_own_status():
    obj = deployment()
    obj["status"] = {}
    update_managed_fields(None, obj, "kubectl-create", "Update", DEPLOY)
    assert "f:status" not in obj["metadata"]["managedFields"][0]["fieldsV1"]


def test_noop_apply_changes_nothing():
    live = server_side_apply(None, deployment(), "kubectl", False, DEPLOY)
    live["metadata"]["managedFields"][0]["time"] = "2020-01-01T00:00:00Z"
    again = server_side_apply(live, deployment(), "kubectl", False, DEPLOY)
    assert again == live
    changed = server_side_apply(live, deployment(replicas=4), "kubectl", False, DEPLOY)
    assert changed["metadata"]["managedFields"][0]["time"] != "2020-01-01T00:00:00Z"


def test_fields_v1_marks_pointer_structs_as_members_like_kubernetes():
    obj = deployment()
    obj["spec"]["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%"}}
    update_managed_fields(None, obj, "kubectl-create", "Update", DEPLOY)
    spec = obj["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]
    assert spec["f:strategy"] == {"f:rollingUpdate": {".": {}, "f:maxSurge": {}}, "f:type": {}}
    assert "." not in spec["f:template"] and "." not in spec["f:template"]["f:spec"]
