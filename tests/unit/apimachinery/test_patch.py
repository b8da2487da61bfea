"""JSON merge patch (RFC 7386 appendix A), JSON patch (RFC 6902 appendix A), strategic merge patch."""

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skiff.cluster.api.schema import node_for
from skiff.cluster.apimachinery.errors import ApiError
from skiff.cluster.apimachinery.patch import json_merge_patch, json_patch, strategic_merge_patch

# RFC 7386 appendix A: (original, patch, result)
RFC7386 = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize("original,patch,result", RFC7386)
def test_rfc7386_examples(original, patch, result):
    before = copy.deepcopy(original)
    assert json_merge_patch(original, patch) == result
    assert original == before  # inputs untouched


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=3),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner,
                                                                                        max_size=3), max_leaves=8)
json_objects = st.dictionaries(st.text(max_size=2), json_values, max_size=4)


@given(json_objects, json_objects)
def test_merge_patch_is_idempotent(obj, patch):
    once = json_merge_patch(obj, patch)
    assert json_merge_patch(once, patch) == once


@given(json_objects)
def test_empty_merge_patch_changes_nothing_but_nulls_are_kept(obj):
    assert json_merge_patch(obj, {}) == obj


# RFC 6902 appendix A
@pytest.mark.parametrize("doc,ops,result", [
    ({"foo": "bar"}, [{"op": "add", "path": "/baz", "value": "qux"}], {"baz": "qux", "foo": "bar"}),
    ({"foo": ["bar", "baz"]}, [{"op": "add", "path": "/foo/1", "value": "qux"}], {"foo": ["bar", "qux", "baz"]}),
    ({"baz": "qux", "foo": "bar"}, [{"op": "remove", "path": "/baz"}], {"foo": "bar"}),
    ({"foo": ["bar", "qux", "baz"]}, [{"op": "remove", "path": "/foo/1"}], {"foo": ["bar", "baz"]}),
    ({"baz": "qux", "foo": "bar"}, [{"op": "replace", "path": "/baz", "value": "boo"}], {"baz": "boo", "foo": "bar"}),
    ({"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}},
     [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}],
     {"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}}),
    ({"foo": ["all", "grass", "cows", "eat"]}, [{"op": "move", "from": "/foo/1", "path": "/foo/3"}],
     {"foo": ["all", "cows", "eat", "grass"]}),
    ({"baz": "qux", "foo": ["a", 2, "c"]}, [{"op": "test", "path": "/baz", "value": "qux"},
                                           {"op": "test", "path": "/foo/1", "value": 2}],
     {"baz": "qux", "foo": ["a", 2, "c"]}),
    ({"foo": "bar"}, [{"op": "add", "path": "/child", "value": {"grandchild": {}}}],
     {"foo": "bar", "child": {"grandchild": {}}}),
    ({"foo": ["bar"]}, [{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}], {"foo": ["bar", ["abc", "def"]]}),
    ({"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": 10}], {"/": 9, "~1": 10}),
    ({"a": 1}, [{"op": "copy", "from": "/a", "path": "/b"}], {"a": 1, "b": 1}),
])
def test_rfc6902_examples(doc, ops, result):
    assert json_patch(doc, ops) == result


@pytest.mark.parametrize("doc,ops", [
    ({"baz": "qux"}, [{"op": "test", "path": "/baz", "value": "bar"}]),
    ({"foo": "bar"}, [{"op": "add", "path": "/baz/bat", "value": "qux"}]),
    ({"foo": "bar"}, [{"op": "remove", "path": "/nothing"}]),
    ({"foo": "bar"}, [{"op": "replace", "path": "/nothing", "value": 1}]),
    ({"foo": [1]}, [{"op": "add", "path": "/foo/5", "value": 1}]),
])
def test_rfc6902_failures_are_422(doc, ops):
    with pytest.raises(ApiError) as info:
        json_patch(doc, ops)
    assert info.value.code == 422


def test_json_patch_malformed_is_400():
    with pytest.raises(ApiError) as info:
        json_patch({}, {"op": "add"})
    assert info.value.code == 400
    with pytest.raises(ApiError) as info:
        json_patch({}, [{"op": "frobnicate", "path": "/a"}])
    assert info.value.code == 400


POD = node_for("io.k8s.api.core.v1.Pod")
LIVE = {"metadata": {"labels": {"app": "web"}, "finalizers": ["a"]},
        "spec": {"containers": [{"name": "app", "image": "nginx:1", "env": [{"name": "A", "value": "1"}]},
                                {"name": "side", "image": "busybox"}],
                 "tolerations": [{"key": "x"}]}}


def test_smp_merges_containers_by_name():
    out = strategic_merge_patch(LIVE, {"spec": {"containers": [{"name": "app", "image": "nginx:2"}]}}, POD)
    assert [c["image"] for c in out["spec"]["containers"]] == ["nginx:2", "busybox"]
    assert out["spec"]["containers"][0]["env"] == [{"name": "A", "value": "1"}]
    assert LIVE["spec"]["containers"][0]["image"] == "nginx:1"


def test_smp_appends_new_items_and_nested_merge():
    out = strategic_merge_patch(LIVE, {"spec": {"containers": [
        {"name": "app", "env": [{"name": "B", "value": "2"}]}, {"name": "new", "image": "x"}]}}, POD)
    assert [c["name"] for c in out["spec"]["containers"]] == ["app", "side", "new"]
    assert out["spec"]["containers"][0]["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]


def test_smp_atomic_lists_are_replaced_and_sets_unioned():
    out = strategic_merge_patch(LIVE, {"spec": {"tolerations": [{"key": "y"}]},
                                       "metadata": {"finalizers": ["b"]}}, POD)
    assert out["spec"]["tolerations"] == [{"key": "y"}]
    assert out["metadata"]["finalizers"] == ["a", "b"]


def test_smp_directives():
    delete = strategic_merge_patch(LIVE, {"spec": {"containers": [{"name": "side", "$patch": "delete"}]}}, POD)
    assert [c["name"] for c in delete["spec"]["containers"]] == ["app"]
    replace = strategic_merge_patch(LIVE, {"spec": {"containers": [{"name": "only", "image": "x"},
                                                                   {"$patch": "replace"}]}}, POD)
    assert replace["spec"]["containers"] == [{"name": "only", "image": "x"}]
    whole = strategic_merge_patch(LIVE, {"metadata": {"labels": {"$patch": "replace", "tier": "db"}}}, POD)
    assert whole["metadata"]["labels"] == {"tier": "db"}
    gone = strategic_merge_patch(LIVE, {"metadata": {"finalizers": None, "$deleteFromPrimitiveList/finalizers": []}},
                                 POD)
    assert "finalizers" not in gone["metadata"]
    prim = strategic_merge_patch(LIVE, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}, POD)
    assert prim["metadata"]["finalizers"] == []
    order = strategic_merge_patch(LIVE, {"spec": {"$setElementOrder/containers": [{"name": "side"}, {"name": "app"}],
                                                  "containers": [{"name": "app", "image": "nginx:3"}]}}, POD)
    assert [c["name"] for c in order["spec"]["containers"]] == ["side", "app"]


def test_smp_retain_keys():
    live = {"spec": {"volumes": [{"name": "v", "emptyDir": {}}]}}
    out = strategic_merge_patch(live, {"spec": {"volumes": [
        {"name": "v", "hostPath": {"path": "/x"}, "$retainKeys": ["hostPath", "name"]}]}}, POD)
    assert out["spec"]["volumes"] == [{"name": "v", "hostPath": {"path": "/x"}}]


def test_smp_without_schema_behaves_like_merge_patch_for_lists():
    out = strategic_merge_patch({"a": [1, 2], "b": {"c": 1}}, {"a": [3], "b": {"d": 2}}, None)
    assert out == {"a": [3], "b": {"c": 1, "d": 2}}


def test_smp_item_without_its_merge_key_is_400():
    with pytest.raises(ApiError) as info:
        strategic_merge_patch(LIVE, {"spec": {"containers": [{"image": "x"}]}}, POD)
    assert info.value.code == 400
    assert info.value.message == "map: map[image:x] does not contain declared merge key: name"


# no "$" keys anywhere: those are strategic merge directives
safe_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=3),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                               st.text(alphabet="abc", max_size=2), inner, max_size=3), max_leaves=8)
directive_free = st.dictionaries(st.text(alphabet="abc", min_size=1, max_size=2), safe_values, max_size=4)


@given(directive_free, directive_free)
def test_smp_without_schema_equals_merge_patch(obj, patch):
    assert strategic_merge_patch(obj, patch, None) == json_merge_patch(obj, patch)


@given(json_objects, st.text(alphabet="xyz~/", min_size=1, max_size=4), json_values)
def test_json_patch_add_then_remove_restores(obj, key, value):
    if key in obj:
        return
    pointer = "/" + key.replace("~", "~0").replace("/", "~1")
    added = json_patch(obj, [{"op": "add", "path": pointer, "value": value}])
    assert added[key] == value
    assert json_patch(added, [{"op": "remove", "path": pointer}]) == obj


@given(json_objects, st.text(alphabet="ab", min_size=1, max_size=2))
def test_json_patch_copy_then_test(obj, key):
    if not obj:
        return
    source = sorted(obj)[0]
    pointer = "/" + source.replace("~", "~0").replace("/", "~1")
    out = json_patch(obj, [{"op": "copy", "from": pointer, "path": "/copied"},
                           {"op": "test", "path": "/copied", "value": obj[source]}])
    assert out["copied"] == obj[source]


def test_set_element_order_keeps_server_only_items_in_place():
    # kubectl apply lists only the containers it manages; one added by someone else stays where it was
    live = {"spec": {"containers": [{"name": "a"}, {"name": "injected"}, {"name": "b"}]}}
    patch = {"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
                      "containers": [{"name": "a", "image": "x"}]}}
    out = strategic_merge_patch(live, patch, POD)
    assert [c["name"] for c in out["spec"]["containers"]] == ["injected", "b", "a"]  # before b, as live
    patch = {"spec": {"$setElementOrder/containers": [{"name": "a"}, {"name": "b"}, {"name": "c"}],
                      "containers": [{"name": "c", "image": "y"}]}}
    out = strategic_merge_patch(live, patch, POD)
    assert [c["name"] for c in out["spec"]["containers"]] == ["a", "injected", "b", "c"]
