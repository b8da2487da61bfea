"""The strategic three-way diff client-side apply sends, on the built-in Deployment schema."""

from __future__ import annotations

from skiff.cli.kubectl.strategicdiff import three_way
from skiff.cluster.api import schema
from skiff.cluster.apimachinery.patch import strategic_merge_patch


def _dep(containers, finalizers=None):
    meta = {"name": "web"}
    if finalizers is not None:
        meta["finalizers"] = finalizers
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
            "spec": {"template": {"spec": {"containers": containers}}}}


NODE = schema.node_for_kind("apps/v1", "Deployment")


def test_changed_container_sends_only_its_change_by_merge_key():
    original = _dep([{"name": "a", "image": "x:1"}, {"name": "b", "image": "y"}])
    modified = _dep([{"name": "a", "image": "x:2"}, {"name": "b", "image": "y"}])
    live = _dep([{"name": "a", "image": "x:1", "env": [{"name": "E", "value": "1"}]}, {"name": "b", "image": "y"}])
    patch = three_way(original, modified, live, NODE)
    containers = patch["spec"]["template"]["spec"]
    assert containers["containers"] == [{"name": "a", "image": "x:2"}]
    assert containers["$setElementOrder/containers"] == [{"name": "a"}, {"name": "b"}]
    # the server's strategic merge keeps what others added (the env), unlike a merge patch
    merged = strategic_merge_patch(live, patch, NODE)
    assert merged["spec"]["template"]["spec"]["containers"][0] == {"name": "a", "image": "x:2",
                                                                  "env": [{"name": "E", "value": "1"}]}


def test_dropped_container_is_deleted_and_new_one_sent_whole():
    original = _dep([{"name": "a", "image": "x"}, {"name": "b", "image": "y"}])
    modified = _dep([{"name": "a", "image": "x"}, {"name": "c", "image": "z"}])
    live = _dep([{"name": "a", "image": "x"}, {"name": "b", "image": "y"}])
    patch = three_way(original, modified, live, NODE)
    assert patch["spec"]["template"]["spec"]["containers"] == [{"name": "c", "image": "z"},
                                                               {"name": "b", "$patch": "delete"}]
    merged = strategic_merge_patch(live, patch, NODE)
    assert [c["name"] for c in merged["spec"]["template"]["spec"]["containers"]] == ["a", "c"]


def test_unchanged_configuration_is_an_empty_patch_and_primitive_lists_use_directives():
    config = _dep([{"name": "a", "image": "x"}], finalizers=["f1", "f2"])
    live = _dep([{"name": "a", "image": "x", "imagePullPolicy": "Always"}], finalizers=["f1", "f2", "other"])
    assert three_way(config, config, live, NODE) == {}
    modified = _dep([{"name": "a", "image": "x"}], finalizers=["f1", "f3"])
    patch = three_way(config, modified, live, NODE)
    assert patch["metadata"]["finalizers"] == ["f3"]
    assert patch["metadata"]["$deleteFromPrimitiveList/finalizers"] == ["f2"]


def test_unknown_schema_replaces_changed_lists_whole():
    original = {"spec": {"items": [{"name": "a", "v": 1}]}}
    modified = {"spec": {"items": [{"name": "a", "v": 2}]}}
    assert three_way(original, modified, original, None) == {"spec": {"items": [{"name": "a", "v": 2}]}}
