import signal

import pytest

from skiff.common.errors import InvalidArgument, SystemError_
from skiff.engine.containers import etcfiles, startfail
from skiff.engine.containers.attach import DetachMatcher, frame, parse_detach_keys
from skiff.engine.containers.hostconfig import cgroups_path, normalize_host_config, parse_size
from skiff.engine.containers.queries import hide_mountpoints
from skiff.engine.containers.signals import parse_signal
from skiff.engine.containers.top import parse_ps


def test_hosts_file():
    text = etcfiles.hosts_file("abc", extra_hosts=["db:10.0.0.2"])
    assert text.startswith("127.0.0.1\tlocalhost\n")
    assert "10.0.0.2\tdb\n" in text
    assert text.endswith("127.0.0.1\tabc\n")
    assert "example.org" in etcfiles.hosts_file("abc", "example.org")


def test_resolv_conf():
    host = "# comment\nnameserver 127.0.0.53\nnameserver 10.1.1.1\nsearch a.example b.example\noptions ndots:2\n"
    assert etcfiles.resolv_conf(host) == "nameserver 10.1.1.1\nsearch a.example b.example\noptions ndots:2\n"
    only_local = "nameserver 127.0.0.1\n"
    assert etcfiles.resolv_conf(only_local) == "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"
    assert etcfiles.resolv_conf(only_local, keep_localhost=True) == "nameserver 127.0.0.1\n"
    custom = etcfiles.resolv_conf(host, dns=["1.1.1.1"], search=["x.example"], options=["timeout:1"])
    assert custom == "nameserver 1.1.1.1\nsearch x.example\noptions timeout:1\n"


def test_detach_keys():
    assert parse_detach_keys(None) == b"\x10\x11"
    assert parse_detach_keys("ctrl-a,x") == b"\x01x"
    assert parse_detach_keys("ctrl-@,ctrl-[") == b"\x00\x1b"
    with pytest.raises(InvalidArgument):
        parse_detach_keys("ctrl-aa")
    m = DetachMatcher(b"\x10\x11")
    assert m.feed(b"ab\x10") == (b"ab", False)
    assert m.feed(b"c") == (b"\x10c", False)  # a broken sequence is forwarded as typed
    assert m.feed(b"\x10") == (b"", False)
    assert m.feed(b"\x11rest") == (b"", True)


def test_frame():
    assert frame(2, b"hi") == b"\x02\x00\x00\x00\x00\x00\x00\x02hi"


@pytest.mark.parametrize("value,expect", [
    ("KILL", signal.SIGKILL), ("SIGTERM", signal.SIGTERM), ("9", 9), ("sigusr1", signal.SIGUSR1),
    ("SIGRTMIN+1", signal.SIGRTMIN + 1), (None, signal.SIGTERM),
])
def test_signals(value, expect):
    assert parse_signal(value) == expect


def test_bad_signal():
    with pytest.raises(InvalidArgument, match="Invalid signal: NOPE"):
        parse_signal("NOPE")


def test_parse_ps():
    out = "UID PID PPID C STIME TTY TIME CMD\nroot 10 1 0 10:00 ? 00:00:00 sleep 100\nroot 11 1 0 10:00 ? 00:00:00 other x\n"
    got = parse_ps(out, {10})
    assert got["Titles"] == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    assert got["Processes"] == [["root", "10", "1", "0", "10:00", "?", "00:00:00", "sleep 100"]]
    with pytest.raises(SystemError_, match="Couldn't find PID field"):
        parse_ps("A B\n1 2\n", {1})


def test_start_errors_map_to_docker_codes():
    nf = startfail.translate_start_error('exec: "nosuch": executable file not found in $PATH')
    assert isinstance(nf, InvalidArgument) and nf.exit_code == 127
    assert "executable file not found" in nf.message and nf.message.endswith(": unknown")
    pd = startfail.translate_start_error('exec: "/etc": permission denied')
    assert pd.exit_code == 126 and pd.status == 400
    other = startfail.translate_start_error("cgroup: open x: busy")
    assert other.status == 500


def test_sizes_and_host_config_defaults():
    assert parse_size("10m") == 10 << 20 and parse_size("1k") == 1024 and parse_size("512") == 512
    hc = normalize_host_config({"NetworkMode": "default"})
    assert hc["NetworkMode"] == "bridge"
    assert hc["RestartPolicy"] == {"Name": "no", "MaximumRetryCount": 0}
    assert hc["LogConfig"] == {"Type": "json-file", "Config": {}}
    with pytest.raises(InvalidArgument, match="no log driver named 'syslogx'"):
        normalize_host_config({"LogConfig": {"Type": "syslogx"}})


def test_diff_hides_engine_files():
    changes = [{"Path": "/etc", "Kind": 0}, {"Path": "/etc/hosts", "Kind": 1}, {"Path": "/tmp", "Kind": 0},
               {"Path": "/tmp/x", "Kind": 1}]
    assert hide_mountpoints(changes) == [{"Path": "/tmp", "Kind": 0}, {"Path": "/tmp/x", "Kind": 1}]
    with_etc = changes + [{"Path": "/etc/passwd", "Kind": 0}]
    assert {"Path": "/etc", "Kind": 0} in hide_mountpoints(with_etc)


def test_cgroups_path():
    assert cgroups_path({}, "skiff", "abc") == "/skiff/abc"
    assert cgroups_path({"CgroupParent": "/mine/sub"}, "skiff", "abc") == "/mine/sub/abc"
