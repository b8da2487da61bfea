"""Name and label syntax (k8s.io/apimachinery/pkg/util/validation)."""

import pytest

from skiff.cluster.apimachinery import meta, names


@pytest.mark.parametrize("value,ok", [("a", True), ("my-name", True), ("123-abc", True), ("A", False),
                                      ("-a", False), ("a-", False), ("a.b", False), ("a" * 63, True),
                                      ("a" * 64, False)])
def test_dns1123_label(value, ok):
    assert (names.dns1123_label(value) == []) is ok


@pytest.mark.parametrize("value,ok", [("example.com", True), ("a.b-c.d", True), ("Web", False), ("a..b", False),
                                      ("a_b", False), ("a" * 253, True), ("a" * 254, False)])
def test_dns1123_subdomain(value, ok):
    assert (names.dns1123_subdomain(value) == []) is ok


@pytest.mark.parametrize("value,ok", [("app", True), ("example.com/app", True), ("app.kubernetes.io/name", True),
                                      ("/app", False), ("a/b/c", False), ("-app", False), ("Example.com/x", False),
                                      ("MyName", True), ("my_name", True)])
def test_qualified_name(value, ok):
    assert (names.qualified_name(value) == []) is ok


def test_label_value_may_be_empty():
    assert names.label_value("") == []
    assert names.label_value("a b") != []


def test_service_names_are_dns1035():
    assert names.dns1035_label("1web") != []
    assert names.dns1035_label("web1") == []


def test_generate_name():
    name = meta.generate_name("web-")
    assert name.startswith("web-") and len(name) == 9
    assert all(c in meta.NAME_ALPHABET for c in name[4:])
    assert len(meta.generate_name("x" * 80)) == 63


def test_rfc3339():
    stamp = meta.now_rfc3339()
    assert stamp.endswith("Z") and "." not in stamp
    assert meta.format_rfc3339(meta.parse_rfc3339(stamp)) == stamp
