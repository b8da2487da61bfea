"""resource.Quantity parsing and canonical form (examples from Kubernetes' documentation)."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skiff.cluster.apimachinery import quantity
from skiff.cluster.apimachinery.errors import ApiError


@pytest.mark.parametrize("text,value", [
    ("100m", Fraction(1, 10)), ("1", 1), ("0.5", Fraction(1, 2)), ("1Ki", 1024), ("1Gi", 1024**3),
    ("1k", 1000), ("1M", 10**6), ("1e3", 1000), ("1E3", 1000), ("12e6", 12 * 10**6), ("128974848", 128974848),
    ("129e6", 129 * 10**6), ("129M", 129 * 10**6), ("123Mi", 123 * 2**20), ("-1", -1), ("1n", Fraction(1, 10**9)),
])
def test_parse(text, value):
    assert quantity.parse_quantity(text) == value


@pytest.mark.parametrize("text,canonical", [
    ("100m", "100m"), ("0.5", "500m"), ("1000m", "1"), ("1000", "1k"), ("1500", "1500"), ("1024Mi", "1Gi"),
    ("1.5Gi", "1536Mi"), ("1e3", "1e3"), ("2", "2"), ("0", "0"), ("0.1", "100m"), ("1.5", "1500m"),
    ("128974848000m", "128974848"), ("0.5Ki", "512"),
])
def test_canonical(text, canonical):
    assert quantity.canonical(text) == canonical


@pytest.mark.parametrize("text", ["", "abc", "1.2.3", "1Zi", "Mi", "1 Gi", "1iB"])
def test_rejects(text):
    with pytest.raises(ApiError) as info:
        quantity.parse(text)
    assert info.value.code == 400


def test_compare_across_units():
    assert quantity.parse("1Gi") > quantity.parse("1G")
    assert quantity.parse("500m") == quantity.parse("0.5")
    assert quantity.parse("128974848") == quantity.parse("123Mi")  # the docs: "roughly the same value"


@given(st.integers(min_value=0, max_value=10**15), st.sampled_from(["", "k", "M", "G", "m", "Ki", "Mi", "Gi"]))
def test_canonical_form_round_trips(n, suffix):
    q = quantity.parse(f"{n}{suffix}")
    again = quantity.parse(str(q))
    assert again.value == q.value
    assert str(again) == str(q)  # canonical is a fixed point
