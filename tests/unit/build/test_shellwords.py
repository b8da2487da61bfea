"""Build-time variable substitution and quoting, as Docker's shell lexer does it."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skiff.common.errors import InvalidArgument
from skiff.engine.build.shellwords import process_word, process_words

ENV = {"A": "x y", "E": "", "N1": "1"}


@pytest.mark.parametrize(("text", "want"), [
    ("$A", "x y"), ("${A}", "x y"), ("pre${A}post", "prex ypost"), ("$UNSET", ""), ("${UNSET}z", "z"),
    ("${E:-d}", "d"), ("${E-d}", ""), ("${UNSET-d}", "d"), ("${A:-d}", "x y"),
    ("${A:+p}", "p"), ("${E:+p}", ""), ("${E+p}", "p"), ("${UNSET+p}", ""),
    ("'$A'", "$A"), ('"$A"', "x y"), ("\\$A", "$A"), ('"\\$A"', "$A"), ('"a\\b"', "a\\b"),
    ("$", "$"), ("a$-b", "a$-b"), ("${A:-${N1}}", "x y"), ("${UNSET:-${N1}x}", "1x"), ("$1", ""),
])
def test_process_word(text, want):
    assert process_word(text, ENV) == want


def test_escape_token_backtick():
    assert process_word("`$A", ENV, "`") == "$A"
    assert process_word("c:\\dir", ENV, "`") == "c:\\dir"


def test_process_words_splits_unquoted_expansions_only():
    assert process_words('a $A "b c" d\\ e', ENV) == ["a", "x", "y", "b c", "d e"]
    assert process_words('"$A" z', ENV) == ["x y", "z"]


def test_required_variable_and_bad_substitution():
    with pytest.raises(InvalidArgument, match="UNSET: must be set"):
        process_word("${UNSET:?must be set}", ENV)
    with pytest.raises(InvalidArgument, match="unsupported modifier"):
        process_word("${A%x}", ENV)
    with pytest.raises(InvalidArgument, match="missing '}'"):
        process_word("${A:-x", ENV)
    with pytest.raises(InvalidArgument, match="double-quote"):
        process_word('"abc', ENV)


_plain = st.text(alphabet=st.sampled_from("abcXYZ019_-./:@=, "), max_size=30)


@given(_plain)
def test_text_without_special_characters_is_unchanged(text):
    assert process_word(text, ENV) == text
    assert process_words(text, ENV) == text.split()


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="'"), max_size=30))
def test_single_quotes_keep_everything_literal(text):
    assert process_word("'" + text + "'", ENV) == text


@given(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True), st.text(
    alphabet=st.sampled_from("abc xyz/"), max_size=10))
def test_defined_variable_expands_in_both_forms(name, value):
    env = {name: value}
    assert process_word("$" + name, env) == value
    assert process_word("${" + name + "}", env) == value
    assert process_word('"${' + name + ':-zz}"', env) == (value or "zz")


@given(st.text(max_size=40))
def test_never_crashes(text):
    try:
        process_words(text, ENV)
    except InvalidArgument:
        pass
