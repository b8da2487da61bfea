"""kubectl's JSONPath templates, pure."""

import pytest

from skiff.cli.kubectl.jsonpath import JSONPathError, lookup, render

PODS = {"kind": "List", "items": [
    {"metadata": {"name": "a", "labels": {"app": "web", "tier": "front"}},
     "spec": {"containers": [{"name": "c1", "image": "busybox"}, {"name": "c2", "image": "redis"}]},
     "status": {"phase": "Running"}},
    {"metadata": {"name": "b"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]},
     "status": {"phase": "Pending"}},
]}


@pytest.mark.parametrize("template,expected", [
    ("{.items[*].metadata.name}", "a b"),
    ("{.items[0].spec.containers[*].image}", "busybox redis"),
    ("{.items[-1].metadata.name}", "b"),
    ("{.items[0:1].metadata.name}", "a"),
    ('{.items[?(@.status.phase=="Pending")].metadata.name}', "b"),
    ('{.items[?(@.status.phase!="Pending")].metadata.name}', "a"),
    ("{.items[?(@.metadata.labels)].metadata.name}", "a"),
    ("{range .items[*]}{.metadata.name}{\"\\t\"}{.status.phase}{\"\\n\"}{end}", "a\tRunning\nb\tPending\n"),
    ("{..image}", "busybox redis nginx"),
    ("{.items[0].metadata.labels}", '{"app":"web","tier":"front"}'),
    ("{.items[0].metadata.labels['app']}", "web"),
    ("names: {.items[*].metadata.name}!", "names: a b!"),
    ("{.items[0].metadata.missing}", ""),
    ("{.kind}", "List"),
])
def test_templates(template, expected):
    assert render(template, PODS) == expected


def test_nested_range():
    template = "{range .items[*]}{.metadata.name}:{range .spec.containers[*]}[{.name}]{end};{end}"
    assert render(template, PODS) == "a:[c1][c2];b:[c];"


def test_errors():
    with pytest.raises(JSONPathError):
        render("{.items[*]", PODS)
    with pytest.raises(JSONPathError):
        render("{range .items[*]}{.metadata.name}", PODS)
    with pytest.raises(JSONPathError):
        render("{.items[5].metadata.name}", PODS)


def test_lookup_for_custom_columns():
    assert lookup(".metadata.name", PODS["items"][0]) == ["a"]
    assert lookup("{.spec.containers[*].name}", PODS["items"][0]) == ["c1", "c2"]
    assert lookup(".nothing", PODS["items"][0]) == []
