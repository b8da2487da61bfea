import pytest
from hypothesis import given
from hypothesis import strategies as st

from skiff.common.errors import InvalidArgument
from skiff.oci.reference import check_tag, parse_reference, parse_repository

HEX = "a" * 64


@pytest.mark.parametrize("text,name,tag,digest,familiar", [
    ("busybox", "docker.io/library/busybox", "latest", "", "busybox:latest"),
    ("busybox:1.36", "docker.io/library/busybox", "1.36", "", "busybox:1.36"),
    ("library/busybox", "docker.io/library/busybox", "latest", "", "busybox:latest"),
    ("docker.io/library/busybox", "docker.io/library/busybox", "latest", "", "busybox:latest"),
    ("index.docker.io/busybox", "docker.io/library/busybox", "latest", "", "busybox:latest"),
    ("user/app:v2", "docker.io/user/app", "v2", "", "user/app:v2"),
    ("localhost/app", "localhost/app", "latest", "", "localhost/app:latest"),
    ("localhost:5000/ns/app:t", "localhost:5000/ns/app", "t", "", "localhost:5000/ns/app:t"),
    ("my.registry.io/a/b/c", "my.registry.io/a/b/c", "latest", "", "my.registry.io/a/b/c:latest"),
    ("[::1]:5000/app:x", "[::1]:5000/app", "x", "", "[::1]:5000/app:x"),
    (f"busybox@sha256:{HEX}", "docker.io/library/busybox", "", f"sha256:{HEX}", f"busybox@sha256:{HEX}"),
    (f"busybox:1@sha256:{HEX}", "docker.io/library/busybox", "1", f"sha256:{HEX}", f"busybox:1@sha256:{HEX}"),
    ("a_b-c__d/f--g", "docker.io/a_b-c__d/f--g", "latest", "", "a_b-c__d/f--g:latest"),
])
def test_valid(text, name, tag, digest, familiar):
    ref = parse_reference(text)
    assert (ref.name, ref.tag, ref.digest) == (name, tag, digest)
    assert ref.familiar() == familiar


def test_uppercase_message_is_dockers():
    with pytest.raises(InvalidArgument) as e:
        parse_reference("Busybox")
    assert e.value.message == "invalid reference format: repository name (library/Busybox) must be lowercase"
    assert e.value.status == 400


def test_uppercase_registry_host_is_allowed():
    assert parse_reference("MyHost:5000/app").domain == "MyHost:5000"


@pytest.mark.parametrize("text", [
    "busybox:", ":tag", "a:b:c", "bad name", "busybox:" + "t" * 129, "-app", "app-", "a//b", "a/", "/a",
    "busybox@sha256:abc", "app:-tag", "a..b", "a@", "app:ta$g", "a_b.c/app",
])
def test_invalid(text):
    with pytest.raises(InvalidArgument) as e:
        parse_reference(text)
    assert e.value.message.startswith("invalid reference format") or "invalid" in e.value.message


def test_tag_limit_128():
    assert parse_reference("a:" + "t" * 128).tag == "t" * 128


def test_name_too_long():
    with pytest.raises(InvalidArgument, match="255"):
        parse_reference("a/" + "b" * 260)


def test_64_hex_is_not_a_name():
    with pytest.raises(InvalidArgument, match="64-byte hexadecimal"):
        parse_reference("f" * 64)


def test_no_default_tag():
    assert parse_reference("busybox", default_tag=False).tag == ""


def test_repository_and_tag_helpers():
    assert parse_repository("user/app").tag == ""
    with pytest.raises(InvalidArgument):
        parse_repository(f"app@sha256:{HEX}")
    assert check_tag("v1.0_rc-2") == "v1.0_rc-2"
    with pytest.raises(InvalidArgument):
        check_tag(".hidden")


component = st.from_regex(r"[a-z0-9]{1,8}([_-][a-z0-9]{1,8}){0,2}", fullmatch=True)  # a dot would make it a registry host
tags = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True)


@given(st.lists(component, min_size=1, max_size=3), st.one_of(st.none(), tags))
def test_roundtrip_familiar(parts, tag):
    text = "/".join(parts) + (f":{tag}" if tag else "")
    ref = parse_reference(text)
    again = parse_reference(ref.familiar())
    assert again == ref
    assert parse_reference(str(ref)) == ref
    assert ref.tag == (tag or "latest")


@given(st.text(max_size=40))
def test_never_crashes(text):
    try:
        ref = parse_reference(text)
    except InvalidArgument:
        return
    assert ref.name.islower() or ":" in ref.domain or "." in ref.domain or ref.domain == "localhost" or \
        ref.domain != ref.domain.lower()
