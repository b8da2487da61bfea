"""Label and field selectors, against the semantics documented for kubectl -l and --field-selector."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skiff.cluster.apimachinery.errors import ApiError
from skiff.cluster.apimachinery.selectors import FieldSelector, LabelSelector, format_label_selector

WEB = {"app": "web", "tier": "frontend", "version": "2", "empty": ""}


@pytest.mark.parametrize("text,expected", [
    ("app=web", True), ("app==web", True), ("app!=web", False), ("app=db", False),
    ("app in (web,db)", True), ("app notin (web,db)", False), ("app notin (db)", True),
    ("app", True), ("!app", False), ("missing", False), ("!missing", True),
    ("missing!=x", True),  # != and notin match objects without the key
    ("missing notin (x)", True), ("missing in (x)", False),
    ("app=web,tier=frontend", True), ("app=web,tier=backend", False),
    ("version>1", True), ("version<2", False), ("environment in (production, qa),tier notin (backend)", False),
    ("", True), ("app=", False), ("empty=", True),
])
def test_label_selector_matches(text, expected):
    assert LabelSelector.parse(text).matches(WEB) is expected


@pytest.mark.parametrize("text", ["app in web", "app=(x)", "=web", "app in (a", "a b", "app=web,", "-bad=x",
                                  "app=with space"])
def test_label_selector_rejects(text):
    with pytest.raises(ApiError) as info:
        LabelSelector.parse(text)
    assert info.value.code == 400


def test_label_selector_canonical_string_sorted():
    assert str(LabelSelector.parse("tier in (b,a), app=web")) == "app=web,tier in (a,b)"


def test_from_object_nil_selects_nothing_empty_everything():
    assert not LabelSelector.from_object(None).matches(WEB)
    assert LabelSelector.from_object({}).matches(WEB)
    sel = LabelSelector.from_object({"matchLabels": {"app": "web"},
                                     "matchExpressions": [{"key": "tier", "operator": "In", "values": ["frontend"]},
                                                          {"key": "gone", "operator": "DoesNotExist"}]})
    assert sel.matches(WEB) and not sel.matches({"app": "web"})


def test_format_label_selector():
    assert format_label_selector({"matchLabels": {"app": "nginx"}}) == "app=nginx"
    assert format_label_selector({}) == "<none>"
    assert format_label_selector({"matchExpressions": [{"key": "a", "operator": "Exists"}]}) == "a"


def test_field_selector():
    fields = {"metadata.name": "web", "status.phase": "Running", "spec.nodeName": ""}
    assert FieldSelector.parse("status.phase=Running").matches(fields)
    assert FieldSelector.parse("status.phase!=Running,metadata.name=web").matches(fields) is False
    assert FieldSelector.parse("spec.nodeName=").matches(fields)
    assert FieldSelector.parse("metadata.name==web").value_of("metadata.name") == "web"
    with pytest.raises(ApiError):
        FieldSelector.parse("status.phase")


def test_field_selector_escapes():
    sel = FieldSelector.parse(r"metadata.name=a\,b")
    assert sel.matches({"metadata.name": "a,b"})
    assert str(sel) == r"metadata.name=a\,b"


label_text = st.from_regex(r"[a-z0-9]([a-z0-9.-]{0,10}[a-z0-9])?", fullmatch=True)


@given(st.dictionaries(label_text, label_text, max_size=4), st.dictionaries(label_text, label_text, max_size=4))
def test_set_selector_is_subset_test(wanted, labels):
    sel = LabelSelector.from_set(wanted)
    assert sel.matches(labels) == all(labels.get(k) == v for k, v in wanted.items())
    # the canonical text parses back to the same selector
    assert LabelSelector.parse(str(sel)).matches(labels) == sel.matches(labels)


@given(label_text, st.lists(label_text, min_size=1, max_size=3), st.dictionaries(label_text, label_text, max_size=3))
def test_in_and_notin_are_complements_when_key_present(key, values, labels):
    inside = LabelSelector.parse(f"{key} in ({','.join(values)})").matches(labels)
    outside = LabelSelector.parse(f"{key} notin ({','.join(values)})").matches(labels)
    if key in labels:
        assert inside != outside
    else:
        assert not inside and outside
