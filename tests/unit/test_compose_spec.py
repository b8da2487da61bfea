"""Service → container create body, the up plan, start order and log prefixes. Pure."""

import pytest

from skiff.compose import converge, graph
from skiff.compose.converge import Existing
from skiff.compose.errors import ConfigError
from skiff.compose.logprinter import prefixes, split_lines
from skiff.compose.model import Project, normalize_project_name
from skiff.compose.normalize import service as normalize
from skiff.compose.ports import parse_port, port_config
from skiff.compose.spec import create_body, parse_bytes


def project(services: dict, version="3.8", **kw) -> Project:
    norm = {n: normalize(n, s, version == "1") for n, s in services.items()}
    return Project(name="demo", working_dir="/srv/demo", config_files=["/srv/demo/docker-compose.yml"],
                   services=norm, version=version, **kw)


def test_create_body_of_a_full_service():
    p = project({
        "db": {"image": "busybox"},
        "web": {
            "image": "busybox", "command": "httpd -f -p 80", "entrypoint": ["/bin/sh", "-c"],
            "environment": {"A": "1"}, "labels": ["team=web"], "ports": ["8080:80", "127.0.0.1::53/udp"],
            "expose": [9000], "volumes": ["data:/data", "/host:/mnt:ro", "/anon"], "links": ["db:database"],
            "restart": "on-failure:3", "healthcheck": {"test": "true", "interval": "1m30s", "retries": 2},
            "working_dir": "/w", "user": 1000, "hostname": "h", "extra_hosts": {"gw": "10.0.0.1"},
            "dns": "9.9.9.9", "cap_add": ["NET_ADMIN"], "privileged": True, "tty": True, "stdin_open": True,
            "stop_signal": "SIGUSR1", "stop_grace_period": "1m", "ulimits": {"nofile": {"soft": 10, "hard": 20},
                                                                              "nproc": 5},
            "mem_limit": "64m", "cpus": 0.5, "networks": {"front": {"aliases": ["www"]}, "back": None},
        },
    }, networks={"front": {}, "back": {}}, volumes={"data": {}})
    body = create_body(p, "web", 2, containers={"db": "demo_db_1"}, image_id="sha256:x", config_hash="h1")
    assert body["Image"] == "busybox"
    assert body["Cmd"] == ["httpd", "-f", "-p", "80"] and body["Entrypoint"] == ["/bin/sh", "-c"]
    assert body["Env"] == ["A=1"]
    labels = body["Labels"]
    assert labels["team"] == "web" and labels["com.docker.compose.project"] == "demo"
    assert labels["com.docker.compose.service"] == "web" and labels["com.docker.compose.container-number"] == "2"
    assert labels["com.docker.compose.oneoff"] == "False" and labels["com.docker.compose.config-hash"] == "h1"
    assert set(body["ExposedPorts"]) == {"80/tcp", "53/udp", "9000/tcp"}
    assert body["Volumes"] == {"/anon": {}}
    assert body["Healthcheck"] == {"Test": ["CMD-SHELL", "true"], "Interval": 90_000_000_000, "Retries": 2}
    assert body["User"] == "1000" and body["WorkingDir"] == "/w" and body["Hostname"] == "h"
    assert body["Tty"] and body["OpenStdin"] and body["StopSignal"] == "SIGUSR1" and body["StopTimeout"] == 60
    host = body["HostConfig"]
    assert host["PortBindings"] == {"80/tcp": [{"HostIp": "", "HostPort": "8080"}],
                                    "53/udp": [{"HostIp": "127.0.0.1", "HostPort": ""}]}
    assert host["Binds"] == ["demo_data:/data", "/host:/mnt:ro"]
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert host["ExtraHosts"] == ["gw:10.0.0.1"] and host["Dns"] == ["9.9.9.9"]
    assert host["CapAdd"] == ["NET_ADMIN"] and host["Privileged"] is True
    assert host["Ulimits"] == [{"Name": "nofile", "Soft": 10, "Hard": 20}, {"Name": "nproc", "Soft": 5, "Hard": 5}]
    assert host["Memory"] == 64 * 1024 * 1024 and host["NanoCpus"] == 500_000_000
    assert host["NetworkMode"] == "demo_front"
    endpoint = body["NetworkingConfig"]["EndpointsConfig"]["demo_front"]
    assert endpoint["Aliases"] == ["web", "www"]
    assert endpoint["Links"] == ["demo_db_1:database", "demo_db_1:demo_db_1"]


def test_fig_v1_uses_the_default_bridge_with_links_and_network_mode_service():
    p = project({"redis": {"image": "redis"}, "web": {"image": "busybox", "links": ["redis"]},
                 "side": {"image": "busybox", "net": "container:web", "volumes_from": ["web:ro"]}}, version="1")
    p.services["side"]["network_mode"] = "service:web"
    names = {"redis": "demo_redis_1", "web": "demo_web_1"}
    web = create_body(p, "web", 1, containers=names, image_id=None, config_hash="h")
    assert web["HostConfig"]["NetworkMode"] == "bridge"
    assert web["HostConfig"]["Links"] == ["demo_redis_1:redis", "demo_redis_1:demo_redis_1"]
    assert "NetworkingConfig" not in web
    side = create_body(p, "side", 1, containers=names, image_id=None, config_hash="h")
    assert side["HostConfig"]["NetworkMode"] == "container:demo_web_1"
    assert side["HostConfig"]["VolumesFrom"] == ["demo_web_1:ro"]


def test_oneoff_has_no_ports_and_no_alias():
    p = project({"web": {"image": "busybox", "ports": ["80:80"], "restart": "always"}})
    body = create_body(p, "web", 1, containers={}, image_id=None, config_hash="h", oneoff=True,
                       command=["env"], extra_env={"X": "1"})
    assert body["HostConfig"]["PortBindings"] == {} and body["Cmd"] == ["env"]
    assert body["Labels"]["com.docker.compose.oneoff"] == "True"
    assert body["HostConfig"]["RestartPolicy"]["Name"] == ""
    assert body["NetworkingConfig"]["EndpointsConfig"]["demo_default"]["Aliases"] == []
    assert "X=1" in body["Env"]


def test_undeclared_named_volume_is_an_error():
    p = project({"web": {"image": "busybox", "volumes": ["nope:/data"]}}, volumes={"data": {}})
    with pytest.raises(ConfigError, match='Named volume "nope:/data" is used in service "web"'):
        create_body(p, "web", 1, containers={}, image_id=None, config_hash="h")


@pytest.mark.parametrize("entry, expected", [
    ("80", [("80/tcp", "", "")]),
    ("8080:80", [("80/tcp", "", "8080")]),
    ("127.0.0.1:8080:80/udp", [("80/udp", "127.0.0.1", "8080")]),
    ("9000-9001:90-91", [("90/tcp", "", "9000"), ("91/tcp", "", "9001")]),
    ({"target": 80, "published": 8080, "protocol": "udp"}, [("80/udp", "", "8080")]),
])
def test_parse_port(entry, expected):
    assert parse_port(entry) == expected


@pytest.mark.parametrize("bad", ["abc", "70000", "1:2:3:4", "80/icmp", "90-91:80"])
def test_bad_ports(bad):
    with pytest.raises(ConfigError):
        port_config([bad], [])


def test_parse_bytes():
    assert parse_bytes("1g", "mem_limit") == 1 << 30
    assert parse_bytes("512M", "mem_limit") == 512 << 20
    assert parse_bytes(1000, "mem_limit") == 1000
    with pytest.raises(ConfigError):
        parse_bytes("lots", "mem_limit")


def existing(n, hash_="h", running=True, oneoff=False):
    return Existing(id=f"id{n}", name=f"demo_web_{n}", service="web", number=n, oneoff=oneoff,
                    running=running, state="running" if running else "exited", config_hash=hash_)


def verbs(actions):
    return [(a.verb, a.number) for a in actions]


def test_plan_create_keep_start_recreate_scale():
    assert verbs(converge.plan([], 2, "h")) == [("create", 1), ("create", 2)]
    assert verbs(converge.plan([existing(1)], 1, "h")) == [("keep", 1)]
    assert verbs(converge.plan([existing(1, running=False)], 1, "h")) == [("start", 1)]
    assert verbs(converge.plan([existing(1, "old")], 1, "h")) == [("recreate", 1)]
    assert verbs(converge.plan([existing(1, "old")], 1, "h", no_recreate=True)) == [("keep", 1)]
    assert verbs(converge.plan([existing(1)], 1, "h", force_recreate=True)) == [("recreate", 1)]
    assert verbs(converge.plan([existing(1), existing(3)], 3, "h")) == [("keep", 1), ("keep", 3), ("create", 2)]
    assert verbs(converge.plan([existing(1), existing(2), existing(3)], 1, "h")) == \
        [("keep", 1), ("remove", 3), ("remove", 2)]
    assert verbs(converge.plan([existing(1, oneoff=True)], 1, "h")) == [("create", 1)]


def test_start_order_and_dependencies():
    services = {"web": {"links": ["cache:c"], "depends_on": {"db": {}}},
                "db": {"volumes_from": ["data"]}, "data": {}, "cache": {"network_mode": "service:db"},
                "lone": {}}
    order = graph.start_order(services)
    assert order.index("data") < order.index("db") < order.index("cache") < order.index("web")
    assert graph.with_dependencies(services, ["cache"]) == ["data", "db", "cache"]
    with pytest.raises(ConfigError, match="A service can not link to itself: a"):
        graph.start_order({"a": {"links": ["a"]}})
    with pytest.raises(ConfigError, match="Circular dependency between a and b and c"):
        graph.start_order({"a": {"depends_on": {"b": {}}}, "b": {"depends_on": {"c": {}}}, "c": {"links": ["a"]}})


def test_project_name_normalisation():
    assert normalize_project_name("My App.v2") == "myappv2"
    assert normalize_project_name("fig_test-1") == "fig_test-1"


def test_log_prefixes_and_line_splitting():
    assert prefixes("demo", ["demo_web_1", "demo_redis_1", "custom"], False) == \
        {"demo_web_1": "web_1   | ", "demo_redis_1": "redis_1 | ", "custom": "custom  | "}
    coloured = prefixes("demo", ["demo_web_1"], True)["demo_web_1"]
    assert coloured.startswith("\x1b[36m") and coloured.endswith("\x1b[0m")
    assert split_lines(b"par", b"tial\nnext\nrest") == ([b"partial", b"next"], b"rest")


def test_profiles():
    p = project({"a": {"image": "x"}, "dbg": {"image": "x", "profiles": ["debug"]},
                 "tool": {"image": "x", "profiles": ["debug"], "depends_on": ["a"]}})
    assert p.order() == ["a"]
    assert p.order(["tool"]) == ["a", "tool"]  # naming a service enables its profiles
    p.profiles = ["debug"]
    assert p.order() == ["a", "dbg", "tool"]
    q = project({"b": {"image": "x", "profiles": ["debug"]}, "c": {"image": "x", "depends_on": ["b"]}})
    with pytest.raises(ConfigError, match='Service "b" was pulled in as a dependency of service "c" but is not '
                                          "enabled by the active profiles"):
        q.order()
