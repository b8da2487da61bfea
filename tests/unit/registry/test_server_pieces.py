"""The registry server's config, htpasswd, path routing and storage (no network)."""

import hashlib

import bcrypt
import pytest

from skiff.common.errors import InvalidArgument
from skiff.engine.registry.server.config import parse_config, split_addr
from skiff.engine.registry.server.errors import RegistryError
from skiff.engine.registry.server.htpasswd import Htpasswd, basic_credentials, parse_htpasswd
from skiff.engine.registry.server.paths import Route, page, route
from skiff.engine.registry.server.storage import Storage, check_name


def test_reference_config_format():
    cfg = parse_config("""
version: 0.1
log: {level: info}
storage:
  filesystem:
    rootdirectory: /srv/reg
  delete:
    enabled: false
http:
  addr: 127.0.0.1:5001
auth:
  htpasswd:
    realm: my-realm
    path: /etc/reg/htpasswd
""")
    assert (cfg.root, cfg.addr, cfg.realm, cfg.htpasswd_path, cfg.delete_enabled) == \
        ("/srv/reg", "127.0.0.1:5001", "my-realm", "/etc/reg/htpasswd", False)
    assert cfg.host_port == ("127.0.0.1", 5001)


@pytest.mark.parametrize("text,words", [
    ("storage: {}", "configuration version"),
    ("version: 0.2", "unsupported configuration version"),
    ("version: 0.1\nstorage: {s3: {bucket: x}}", "'s3' is not supported"),
    ("version: 0.1\nauth: {token: {realm: x}}", "'token' is not supported"),
    ("version: 0.1\nauth: {htpasswd: {realm: x}}", "path is required"),
    ("version: 0.1\nhttp: {addr: nope}", "invalid address"),
    ("[1, 2", "configuration error"),
])
def test_bad_config_is_explained(text, words):
    with pytest.raises(InvalidArgument, match=words):
        parse_config(text)


def test_split_addr():
    assert split_addr(":5000") == ("0.0.0.0", 5000)
    assert split_addr("[::1]:80") == ("::1", 80)
    with pytest.raises(InvalidArgument):
        split_addr("h:99999")


def test_htpasswd_bcrypt_only():
    hashed = bcrypt.hashpw(b"pw", bcrypt.gensalt(rounds=4)).decode()
    ht = Htpasswd(parse_htpasswd(f"# users\nalice:{hashed}\n"))
    assert ht.check("alice", "pw")
    assert ht.check("alice", "pw")  # remembered
    assert not ht.check("alice", "wrong")
    assert not ht.check("bob", "pw")
    with pytest.raises(InvalidArgument, match="bcrypt"):
        parse_htpasswd("bob:{SHA}abc")


def test_basic_credentials():
    assert basic_credentials("Basic YWxpY2U6cDpx") == ("alice", "p:q")
    assert basic_credentials("Bearer x") is None
    assert basic_credentials("Basic !!") is None


@pytest.mark.parametrize("tail,expected", [
    ("", Route("base")),
    ("_catalog", Route("catalog")),
    ("a/b/tags/list", Route("tags", "a/b")),
    ("a/manifests/v1", Route("manifest", "a", "v1")),
    ("a/b/blobs/uploads/", Route("uploads", "a/b")),
    ("a/b/blobs/uploads/123", Route("upload", "a/b", "123")),
    ("a/blobs/sha256:00", Route("blob", "a", "sha256:00")),
    ("a/nothing", None),
])
def test_routes(tail, expected):
    assert route(tail) == expected


def test_pagination():
    items = ["a", "b", "c", "d"]
    assert page(items, None, None) == (items, False)
    assert page(items, "2", None) == (["a", "b"], True)
    assert page(items, "2", "b") == (["c", "d"], False)
    with pytest.raises(ValueError):
        page(items, "-1", None)


@pytest.mark.parametrize("name", ["A", "a//b", "../x", "a/_manifests", "-a", "a" * 256])
def test_bad_names(name):
    with pytest.raises(RegistryError) as e:
        check_name(name)
    assert e.value.code == "NAME_INVALID"


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_storage_upload_verify_and_mount(tmp_path):
    st = Storage(tmp_path)
    up = st.start_upload("a/b")
    st.append(up, b"hello ")
    st.append(up, b"world")
    st.finish_upload(up, _digest(b"hello world"))
    assert st.blob_in_repo("a/b", _digest(b"hello world")).read_bytes() == b"hello world"
    assert not list((tmp_path / "_uploads").iterdir())
    with pytest.raises(RegistryError) as e:
        st.blob_in_repo("c", _digest(b"hello world"))
    assert e.value.code == "BLOB_UNKNOWN"
    assert st.mount_blob("c", _digest(b"hello world"), "a/b")
    assert not st.mount_blob("c", _digest(b"other"), "a/b")
    st.blob_in_repo("c", _digest(b"hello world"))


def test_storage_rejects_a_mismatching_blob_and_keeps_nothing(tmp_path):
    st = Storage(tmp_path)
    up = st.start_upload("a")
    st.append(up, b"data")
    with pytest.raises(RegistryError) as e:
        st.finish_upload(up, _digest(b"other"))
    assert e.value.code == "DIGEST_INVALID"
    assert not list((tmp_path / "_uploads").iterdir())
    assert not list((tmp_path / "blobs" / "sha256").iterdir())


def test_storage_upload_survives_a_restart(tmp_path):
    st = Storage(tmp_path)
    up = st.start_upload("a")
    st.append(up, b"part1")
    again = Storage(tmp_path).upload("a", up.id)
    assert again.size == 5
    with pytest.raises(RegistryError):
        Storage(tmp_path).upload("other", up.id)


def test_storage_manifests_tags_catalog_delete(tmp_path):
    st = Storage(tmp_path)
    d = st.put_manifest("x/y", "v1", b'{"a":1}', "application/vnd.oci.image.manifest.v1+json")
    st.put_manifest("x/y", "v2", b'{"a":1}', "application/vnd.oci.image.manifest.v1+json")
    st.put_manifest("z", "v1", b'{"b":1}', "application/vnd.oci.image.manifest.v1+json")
    assert st.resolve("x/y", "v1") == d
    assert st.manifest("x/y", d)[1] == "application/vnd.oci.image.manifest.v1+json"
    assert st.tags("x/y") == ["v1", "v2"]
    assert st.catalog() == ["x/y", "z"]
    st.delete_manifest("x/y", "v2")
    assert st.tags("x/y") == ["v1"]
    st.delete_manifest("x/y", d)
    assert st.tags("x/y") == []
    with pytest.raises(RegistryError) as e:
        st.resolve("x/y", d)
    assert e.value.code == "MANIFEST_UNKNOWN"
    with pytest.raises(RegistryError) as e:
        st.tags("nothing")
    assert e.value.code == "NAME_UNKNOWN"


def test_tls_section():
    cfg = parse_config("version: 0.1\nhttp:\n  addr: :5443\n  tls:\n    certificate: /c.crt\n    key: /c.key\n")
    assert (cfg.tls_cert, cfg.tls_key) == ("/c.crt", "/c.key")
    with pytest.raises(InvalidArgument, match="certificate and key"):
        parse_config("version: 0.1\nhttp: {tls: {certificate: /c.crt}}")
