"""`.dockerignore` rules: globs that stay in one directory, `**`, `!` exceptions, leading `/`."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skiff.engine.build.dockerignore import Matcher, filter_names, read_patterns


@pytest.mark.parametrize(("patterns", "path", "excluded"), [
    (["*.md"], "README.md", True),
    (["*.md"], "docs/README.md", False),  # * does not cross a /
    (["**/*.md"], "docs/a/README.md", True),
    (["**/*.md"], "README.md", True),  # ** matches zero directories too
    (["docs"], "docs/a/b.txt", True),  # a directory excludes what is under it
    (["/docs"], "docs/x", True),  # leading / is the context root
    (["./docs/"], "docs/x", True),
    (["*.md", "!README.md"], "README.md", False),
    (["*.md", "!README.md"], "CHANGES.md", True),
    (["!README.md", "*.md"], "README.md", True),  # the last match decides
    (["docs", "!docs/keep.txt"], "docs/keep.txt", False),
    (["docs", "!docs/keep.txt"], "docs/other.txt", True),
    (["a?c"], "abc", True), (["a?c"], "a/c", False),
    (["[a-c]x"], "bx", True), (["[!a-c]x"], "bx", False),
    (["node_modules/**"], "node_modules/x/y", True),
    (["**"], "anything/at/all", True),
    (["# comment only"], "x", False),
])
def test_patterns(patterns, path, excluded):
    assert Matcher(read_patterns("\n".join(patterns))).excluded(path) is excluded


def test_read_patterns_skips_comments_and_blank_lines():
    assert read_patterns("# c\n\n  *.log  \n!keep.log\n") == ["*.log", "!keep.log"]


def test_dockerfile_and_dockerignore_are_always_sent():
    names = ["Dockerfile", ".dockerignore", "app.py", "secret.key", "sub/Dockerfile.dev"]
    assert filter_names(names, ["*", "!app.py"]) == ["Dockerfile", ".dockerignore", "app.py"]
    assert filter_names(names, ["**"], dockerfile="sub/Dockerfile.dev") == [".dockerignore", "sub/Dockerfile.dev"]


def test_may_hold_exceptions():
    m = Matcher(["docs", "!docs/keep.txt"])
    assert m.may_hold_exceptions("docs")
    assert not Matcher(["docs"]).may_hold_exceptions("docs")


_seg = st.from_regex(r"[a-z]{1,5}(\.[a-z]{1,3})?", fullmatch=True)


@given(st.lists(_seg, min_size=1, max_size=4))
def test_a_literal_path_pattern_excludes_it_and_its_children(parts):
    path = "/".join(parts)
    m = Matcher([path])
    assert m.excluded(path)
    assert m.excluded(path + "/child")
    assert not Matcher(["!" + path]).excluded(path)


@given(st.lists(_seg, min_size=1, max_size=4))
def test_exception_after_exclusion_restores(parts):
    path = "/".join(parts)
    assert not Matcher(["**", "!" + path]).excluded(path)
