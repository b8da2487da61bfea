import pytest

from skiff.common.errors import InvalidArgument
from skiff.engine.network import links
from skiff.engine.network.links import LinkTarget

DB = LinkTarget(name="db", hostname="0123456789ab", ip="172.17.0.2", exposed=("5432/tcp",),
                env=("PATH=/usr/bin", "POSTGRES_PASSWORD=secret", "HOME=/root", "EMPTY="))


def test_parse_link():
    assert links.parse_link("db:database") == ("db", "database")
    assert links.parse_link("/db") == ("db", "db")
    with pytest.raises(InvalidArgument):
        links.parse_link(":x")


def test_api_form():
    assert links.api_form("/web", "db:database", "db") == "/db:/web/database"


def test_env_for_one_port():
    assert links.link_env("web", "db", DB) == [
        "DB_PORT=tcp://172.17.0.2:5432",
        "DB_PORT_5432_TCP=tcp://172.17.0.2:5432",
        "DB_PORT_5432_TCP_ADDR=172.17.0.2",
        "DB_PORT_5432_TCP_PORT=5432",
        "DB_PORT_5432_TCP_PROTO=tcp",
        "DB_NAME=/web/db",
        "DB_ENV_POSTGRES_PASSWORD=secret",
        "DB_ENV_EMPTY=",
    ]


def test_env_alias_with_dash_and_no_ports():
    target = LinkTarget(name="cache", hostname="h", ip="172.17.0.3")
    assert links.link_env("app", "my-cache", target) == ["MY_CACHE_NAME=/app/my-cache"]


def test_env_ranges_and_udp_after_tcp():
    target = LinkTarget(name="t", hostname="h", ip="10.0.0.5", exposed=("81/tcp", "53/udp", "80/tcp", "53/tcp"))
    env = links.link_env("s", "t", target)
    assert env[0] == "T_PORT=tcp://10.0.0.5:53"  # lowest port, tcp before udp
    order = [e.split("=")[0] for e in env if e.endswith(("_PROTO=tcp", "_PROTO=udp"))]
    assert order == ["T_PORT_53_TCP_PROTO", "T_PORT_53_UDP_PROTO", "T_PORT_80_TCP_PROTO", "T_PORT_81_TCP_PROTO"]
    assert "T_PORT_80_TCP_START=tcp://10.0.0.5:80" in env
    assert "T_PORT_80_TCP_PORT_START=80" in env
    assert "T_PORT_80_TCP_END=tcp://10.0.0.5:81" in env
    assert "T_PORT_80_TCP_PORT_END=81" in env
    assert env.index("T_PORT_81_TCP_PROTO=tcp") < env.index("T_PORT_80_TCP_START=tcp://10.0.0.5:80")


def test_hosts_entries():
    assert links.hosts_entries("database", DB) == [("172.17.0.2", "database 0123456789ab db")]
    assert links.hosts_entries("db", DB) == [("172.17.0.2", "db 0123456789ab")]
