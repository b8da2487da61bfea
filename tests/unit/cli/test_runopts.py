import pytest

from skiff.cli.commands.container_run import CREATE_FLAGS, RUN_FLAGS, familiar_with_tag, start_error_status
from skiff.cli.flags import UsageError, parse, parse_table
from skiff.cli.runopts import (
    build_create_body,
    expand_env,
    parse_env_file,
    parse_mount,
    parse_publish,
    parse_restart,
    parse_volume,
)


def body_for(argv, files=None, detach=None):
    opts, args = parse(parse_table(RUN_FLAGS), argv, interspersed=False)
    return build_create_body(opts, args, detach=opts.detach if detach is None else detach,
                             read_file=lambda p: (files or {})[p], cwd="/home/u")


@pytest.mark.parametrize("spec, expected", [
    ("80", {"80/tcp": [{"HostIp": "", "HostPort": ""}]}),
    ("8080:80", {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}),
    ("127.0.0.1:8080:80/udp", {"80/udp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]}),
    ("127.0.0.1::80", {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]}),
    ("[::1]:8080:80", {"80/tcp": [{"HostIp": "::1", "HostPort": "8080"}]}),
    ("8000-8001:80-81", {"80/tcp": [{"HostIp": "", "HostPort": "8000"}],
                         "81/tcp": [{"HostIp": "", "HostPort": "8001"}]}),
    ("8000-8010:80", {"80/tcp": [{"HostIp": "", "HostPort": "8000-8010"}]}),
])
def test_publish(spec, expected):
    assert parse_publish(spec) == expected


@pytest.mark.parametrize("spec, message", [
    ("99999", "invalid containerPort: 99999"),
    ("a:b", "invalid containerPort: b"),
    ("x:80", "invalid hostPort: x"),
    ("1.2.3:80:80", "invalid IP address: 1.2.3"),
    ("80/xyz", "invalid proto: xyz"),
    ("8000-8002:80-81", "invalid ranges specified"),
])
def test_publish_errors(spec, message):
    with pytest.raises(UsageError, match=message):
        parse_publish(spec)


def test_volume_forms():
    assert parse_volume("/data") == (None, "/data")
    assert parse_volume("named:/data") == ("named:/data", None)
    assert parse_volume("/host:/data:ro") == ("/host:/data:ro", None)
    assert parse_volume("./rel:/data", cwd="/home/u") == ("/home/u/rel:/data", None)


def test_mount():
    m = parse_mount("type=bind,source=/a,target=/b,readonly,bind-propagation=rprivate")
    assert m == {"Type": "bind", "Source": "/a", "Target": "/b", "ReadOnly": True,
                 "BindOptions": {"Propagation": "rprivate"}}
    m = parse_mount("type=tmpfs,dst=/t,tmpfs-size=64m,tmpfs-mode=1777")
    assert m["TmpfsOptions"] == {"SizeBytes": 64 << 20, "Mode": 0o1777}
    assert parse_mount("src=v,dst=/d,volume-nocopy")["VolumeOptions"] == {"NoCopy": True}
    with pytest.raises(UsageError, match="target is required"):
        parse_mount("source=x")
    with pytest.raises(UsageError, match="unexpected key 'colour'"):
        parse_mount("target=/x,colour=red")


def test_env_file_format():
    text = "\ufeffA=1\n# comment\n\n  B = spaced value\nC=\"quoted\"\nHOME\nUNSET_XYZ\n"
    with pytest.raises(UsageError, match="contains whitespaces"):
        parse_env_file(text, lookup={"HOME": "/root"}.get)
    text = "\ufeffA=1\n# comment\n\nB=x y\nC=\"quoted\"\nHOME\nUNSET_XYZ\n"
    assert parse_env_file(text, lookup={"HOME": "/root"}.get) == ["A=1", "B=x y", 'C="quoted"', "HOME=/root"]


def test_expand_env_takes_value_from_environment():
    assert expand_env(["A=1", "HOME", "NOPE"], lookup={"HOME": "/root"}.get) == ["A=1", "HOME=/root", "NOPE"]


def test_restart():
    assert parse_restart("no") == {"Name": "", "MaximumRetryCount": 0}
    assert parse_restart("on-failure:3") == {"Name": "on-failure", "MaximumRetryCount": 3}
    with pytest.raises(UsageError, match="maximum retry count must be an integer"):
        parse_restart("on-failure:x")


def test_run_body_defaults():
    body = body_for(["busybox", "echo", "hi"])
    assert body["Image"] == "busybox" and body["Cmd"] == ["echo", "hi"]
    assert body["AttachStdout"] and body["AttachStderr"] and not body["AttachStdin"]
    assert body["Entrypoint"] is None and body["HostConfig"]["NetworkMode"] == "default"
    assert body["HostConfig"]["PidsLimit"] == 0 and "Init" not in body["HostConfig"]


def test_run_body_flags():
    body = body_for(["-it", "--rm", "--name", "x", "-e", "A=1", "--env-file", "f.env", "-w", "/w", "-u", "1:2",
                     "--hostname", "h", "--entrypoint", "", "-m", "64m", "--cpus", "1.5", "--cpu-shares", "512",
                     "--pids-limit", "10", "--read-only", "--tmpfs", "/run:size=1m", "-v", "/d",
                     "-v", "/h:/c:ro", "--privileged", "--cap-add", "NET_ADMIN", "--cap-drop", "ALL",
                     "--label", "k=v", "--init", "--stop-signal", "SIGINT", "--stop-timeout", "3",
                     "--network", "none", "-p", "80", "--log-opt", "max-size=1m", "busybox"],
                    files={"f.env": "B=2\n"})
    hc = body["HostConfig"]
    assert body["Env"] == ["B=2", "A=1"]
    assert body["Tty"] and body["OpenStdin"] and body["AttachStdin"] and body["StdinOnce"]
    assert body["Entrypoint"] == [""] and body["WorkingDir"] == "/w" and body["User"] == "1:2"
    assert body["Hostname"] == "h" and body["Labels"] == {"k": "v"}
    assert body["StopSignal"] == "SIGINT" and body["StopTimeout"] == 3
    assert body["Volumes"] == {"/d": {}} and hc["Binds"] == ["/h:/c:ro"]
    assert body["ExposedPorts"] == {"80/tcp": {}}
    assert hc["Memory"] == 64 << 20 and hc["NanoCpus"] == 1_500_000_000 and hc["CpuShares"] == 512
    assert hc["PidsLimit"] == 10 and hc["ReadonlyRootfs"] and hc["Tmpfs"] == {"/run": "size=1m"}
    assert hc["Privileged"] and hc["CapAdd"] == ["CAP_NET_ADMIN"] and hc["CapDrop"] == ["ALL"]
    assert hc["Init"] is True and hc["AutoRemove"] and hc["NetworkMode"] == "none"
    assert hc["LogConfig"]["Config"] == {"max-size": "1m"}


def test_detached_attaches_nothing():
    body = body_for(["-d", "-i", "busybox"])
    assert not (body["AttachStdin"] or body["AttachStdout"] or body["AttachStderr"])
    assert body["OpenStdin"]


def test_conflicts():
    with pytest.raises(UsageError, match="cannot specify both --restart and --rm"):
        body_for(["--rm", "--restart", "always", "busybox"])
    with pytest.raises(UsageError, match="--attach and --detach"):
        body_for(["-d", "-a", "stdout", "busybox"])
    with pytest.raises(UsageError, match='invalid argument "1x" for "-m, --memory" flag') as e:
        body_for(["-m", "1x", "busybox"])
    assert e.value.flag_error


def test_create_flags_have_no_detach():
    names = {f.long for f in parse_table(CREATE_FLAGS)}
    assert "detach" not in names and "rm" in names


@pytest.mark.parametrize("message, status", [
    ('exec: "nosuch": executable file not found in $PATH: unknown', 127),
    ("open /x: no such file or directory", 127),
    ('exec: "/etc": permission denied: unknown', 126),
    ("exec /etc: is a directory", 126),
    ("cgroup setup failed", 125),
])
def test_start_error_status(message, status):
    assert start_error_status(message) == status


def test_familiar_with_tag():
    assert familiar_with_tag("busybox") == "busybox:latest"
    assert familiar_with_tag("localhost:5000/a/b") == "localhost:5000/a/b:latest"
    assert familiar_with_tag("a/b:v1") == "a/b:v1"


@pytest.mark.parametrize("argv, message", [
    (["--add-host", "nocolon", "busybox"], 'bad format for add-host: "nocolon"'),
    (["--add-host", ":1.2.3.4", "busybox"], 'bad format for add-host: ":1.2.3.4"'),
    (["--add-host", "db:1.2.3", "busybox"], 'invalid IP address in add-host: "1.2.3"'),
    (["--dns", "1.2.3", "busybox"], 'invalid argument "1.2.3" for "--dns" flag: IP address is not correctly formatted'),
])
def test_dns_and_add_host_errors(argv, message):
    with pytest.raises(UsageError, match=message):
        body_for(argv)


def test_dns_and_add_host_forms():
    host = body_for(["--add-host", "gw:host-gateway", "--add-host", "db=10.0.0.2", "--add-host", "v6:[::1]",
                     "--dns", "192.0.2.53", "--link", "db:database", "busybox"])["HostConfig"]
    assert host["ExtraHosts"] == ["gw:host-gateway", "db=10.0.0.2", "v6:[::1]"]
    assert host["Dns"] == ["192.0.2.53"] and host["Links"] == ["db:database"]
