import pytest

from skiff.common.errors import InvalidArgument
from skiff.engine.api.versions import check_version
from skiff.engine.api.wire import (
    decode_json_body,
    parse_filters,
    parse_timestamp,
    query_bool,
    query_int,
)
from skiff.engine.daemon import StartupError, parse_args, parse_host


@pytest.mark.parametrize("raw,want", [("1", True), ("true", True), ("True", True), ("yes", True),
                                      ("0", False), ("false", False), ("", False), ("none", False), ("no", False)])
def test_query_bool_follows_dockerd(raw, want):
    assert query_bool({"x": raw}, "x") is want


def test_query_bool_default_when_missing():
    assert query_bool({}, "stream", True) is True
    assert query_bool({}, "stream") is False


def test_query_int():
    assert query_int({"t": "5"}, "t") == 5
    assert query_int({}, "t") is None
    with pytest.raises(InvalidArgument):
        query_int({"t": "soon"}, "t")


def test_filters_both_shapes():
    assert parse_filters('{"label":{"a=b":true,"c":false}}') == {"label": ["a=b"]}
    assert parse_filters('{"status":["exited","created"]}') == {"status": ["exited", "created"]}
    assert parse_filters("") == {}
    with pytest.raises(InvalidArgument):
        parse_filters("{not json")
    with pytest.raises(InvalidArgument):
        parse_filters("[1]")


def test_timestamps():
    assert parse_timestamp("1700000000.5") == 1700000000.5
    assert parse_timestamp("2023-11-14T22:13:20Z") == 1700000000.0
    assert parse_timestamp(None) is None
    with pytest.raises(InvalidArgument):
        parse_timestamp("yesterday")


def test_json_body():
    assert decode_json_body(b"") == {}
    assert decode_json_body(b'{"a":1}') == {"a": 1}
    with pytest.raises(InvalidArgument):
        decode_json_body(b"{oops")
    with pytest.raises(InvalidArgument):
        decode_json_body(b"", required=True)


def test_versions():
    check_version("1.41")
    check_version("1.50")
    with pytest.raises(InvalidArgument, match="too old. Minimum supported API version is 1.41"):
        check_version("1.24")
    with pytest.raises(InvalidArgument, match="too new. Maximum supported API version is"):
        check_version("1.99")


def test_parse_host():
    assert parse_host("unix:///run/x.sock") == ("unix", "/run/x.sock")
    assert parse_host("tcp://127.0.0.1:2375") == ("tcp", ("127.0.0.1", 2375))
    with pytest.raises(StartupError):
        parse_host("unix://relative.sock")
    with pytest.raises(StartupError):
        parse_host("ftp://x")


def test_daemon_flags():
    o = parse_args(["--data-root", "/tmp/d", "-H", "unix:///tmp/a.sock", "-H", "unix:///tmp/b.sock",
                    "--prefix", "sk1", "--dns", "1.1.1.1", "--debug", "-p", "/tmp/p"])
    assert o.data_root == "/tmp/d" and o.hosts == ["unix:///tmp/a.sock", "unix:///tmp/b.sock"]
    assert o.prefix == "sk1" and o.dns == ["1.1.1.1"] and o.debug and o.pidfile == "/tmp/p"
    d = parse_args([])
    assert d.data_root == "/var/lib/skiff/engine" and d.hosts == ["unix:///run/skiff/engine.sock"]
    assert d.group == "skiff"
