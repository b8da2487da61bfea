"""Challenges, hosts, X-Registry-Auth and config.json handling (pure)."""

import base64
import json

import pytest

from skiff.engine.registry import dockerconfig
from skiff.engine.registry.challenge import parse_challenges, scope
from skiff.engine.registry.hosts import api_host, auth_key, is_insecure, normalize_server


def test_bearer_challenge_params():
    [ch] = parse_challenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
                            'scope="repository:library/busybox:pull"')
    assert ch.scheme == "bearer"
    assert ch.params == {"realm": "https://auth.docker.io/token", "service": "registry.docker.io",
                         "scope": "repository:library/busybox:pull"}


def test_basic_then_bearer_challenges():
    chs = parse_challenges('Basic realm="reg", Bearer realm="http://127.0.0.1:1/t",service=x')
    assert [c.scheme for c in chs] == ["basic", "bearer"]
    assert chs[0].params == {"realm": "reg"}
    assert chs[1].params == {"realm": "http://127.0.0.1:1/t", "service": "x"}


def test_scope():
    assert scope("a/b", "pull,push") == "repository:a/b:pull,push"


@pytest.mark.parametrize("domain,insecure,expected", [
    ("localhost:5000", [], True),
    ("127.0.0.1:5000", [], True),
    ("127.8.9.1", [], True),
    ("[::1]:5000", [], True),
    ("myreg:5000", [], False),
    ("myreg:5000", ["myreg:5000"], True),
    ("myreg:5000", ["myreg"], True),
    ("10.1.2.3:5000", ["10.0.0.0/8"], True),
    ("11.1.2.3:5000", ["10.0.0.0/8"], False),
    ("docker.io", [], False),
])
def test_insecure_registries(domain, insecure, expected):
    assert is_insecure(domain, insecure) is expected


def test_hub_names():
    assert api_host("docker.io") == "registry-1.docker.io"
    assert api_host("localhost:5000") == "localhost:5000"
    assert normalize_server("https://index.docker.io/v1/") == "docker.io"
    assert normalize_server("http://myhost:5000/v2/") == "myhost:5000"
    assert auth_key("docker.io") == "https://index.docker.io/v1/"
    assert auth_key("myhost:5000") == "myhost:5000"


def test_auth_header_round_trip_is_base64url_json():
    cfg = dockerconfig.AuthConfig(username="u", password="p?>~~", serveraddress="h:5000")
    header = cfg.header()
    assert "+" not in header and "/" not in header
    assert json.loads(base64.urlsafe_b64decode(header)) == {"username": "u", "password": "p?>~~",
                                                              "serveraddress": "h:5000"}
    assert dockerconfig.decode_auth_header(header.rstrip("=")) == cfg


@pytest.mark.parametrize("value", ["", "e30=", "!!!", base64.b64encode(b"[1]").decode()])
def test_unreadable_or_empty_auth_header_is_anonymous(value):
    assert dockerconfig.decode_auth_header(value).empty


def test_config_json_store_get_erase(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "cfg"))
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "config.json").write_text(json.dumps({"credsStore": "", "psFormat": "x"}))
    path = dockerconfig.store_auth("h:5000", "alice", "s3:cret")
    data = json.loads(path.read_text())
    assert data["psFormat"] == "x"
    assert data["auths"]["h:5000"]["auth"] == base64.b64encode(b"alice:s3:cret").decode()
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    got = dockerconfig.get_auth("h:5000")
    assert (got.username, got.password) == ("alice", "s3:cret")
    assert dockerconfig.get_auth("other:1").empty
    assert dockerconfig.erase_auth("h:5000") is True
    assert dockerconfig.erase_auth("h:5000") is False
    assert dockerconfig.get_auth("h:5000").empty


def test_config_json_url_keys_are_found(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(
        {"auths": {"https://h:5000/v2/": {"auth": base64.b64encode(b"u:p").decode()}}}))
    got = dockerconfig.get_auth("h:5000", str(tmp_path))
    assert (got.username, got.password) == ("u", "p")


def test_broken_config_json_is_reported(tmp_path):
    (tmp_path / "config.json").write_text("{nope")
    with pytest.raises(ValueError, match="loading config file"):
        dockerconfig.get_auth("h", str(tmp_path))
