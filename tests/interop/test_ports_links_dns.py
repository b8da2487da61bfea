"""Ports, links and DNS through the real clients next to our own: `skiff port`/`ps` print what
`docker port`/`ps` print for the same engine, and docker-py sees links, DNS settings and ports
as it would on dockerd."""

import json

import pytest

from tests.integration.network.netutil import HTTPD, free_port, http_get, made_names, nc_get
from tests.support.procs import ok

pytestmark = [pytest.mark.root, pytest.mark.interop]


@pytest.fixture
def names(engine):
    with made_names(engine, "io") as new:
        yield new


def both(engine, *args):
    """(docker, skiff) results of the same command."""
    return engine.docker(*args), engine.skiff(*args)


def test_port_and_ps_print_like_docker(engine, names):
    web = names()
    base = free_port()
    base = base if base < 65000 else 45000
    ok(engine.skiff("run", "-d", "--name", web, "-p", f"{base}-{base + 1}:8000-8001", "-p", "127.0.0.1::9000/udp",
                    "--expose", "7000", "busybox", "sleep", "300"))
    for args in (("port", web), ("port", web, "8000"), ("port", web, "9000/udp"),
                 ("ps", "--filter", f"name={web}", "--format", "{{.Ports}}")):
        d, s = both(engine, *args)
        assert (s.returncode, s.stdout) == (d.returncode, d.stdout), args
    d, s = both(engine, "port", web, "7000")
    assert d.returncode == s.returncode == 1
    assert s.stderr == d.stderr


def test_skiff_run_publish_and_link(engine, names):
    db, web, port = names(), names(), free_port()
    ok(engine.skiff("run", "-d", "--name", db, "-p", f"{port}:80", "busybox", "sh", "-c", HTTPD))
    assert http_get(f"http://127.0.0.1:{port}/").startswith("hello-")
    out = ok(engine.skiff("run", "--rm", "--name", web, "--link", f"{db}:db", "busybox", "sh", "-c",
                          "echo $DB_NAME; grep -w db /etc/hosts | cut -f2"))
    assert out.splitlines()[0] == f"/{web}/db"
    assert out.splitlines()[1].split()[0] == "db"
    assert nc_get(engine, ["run", "--rm", "--link", f"{db}:db", "busybox"], "db", 80).startswith("hello-")


def test_docker_py_links_dns_and_ports(engine, names, docker_client):
    net, db_name, app_name = names("net"), names(), names()
    docker_client.networks.create(net)
    db = docker_client.containers.run("busybox", ["sleep", "300"], name=db_name, detach=True, network=net,
                                      environment={"ROLE": "db"})
    app = docker_client.containers.run("busybox", ["sleep", "300"], name=app_name, detach=True, network=net,
                                       dns_search=["corp.example"], dns_opt=["ndots:2"],
                                       extra_hosts={"printer": "10.9.9.9"}, ports={"8080/tcp": None})
    db.reload()
    app.reload()
    db_ip = db.attrs["NetworkSettings"]["Networks"][net]["IPAddress"]
    # with a search domain busybox's nslookup asks only for NAME.corp.example; NAME.NETWORK is ours
    code, out = app.exec_run(["nslookup", f"{db_name}.{net}"])
    assert code == 0 and db_ip in out.decode()
    code, out = app.exec_run(["ping", "-c", "1", "-W", "5", db_name])
    assert code == 0
    code, out = app.exec_run(["cat", "/etc/resolv.conf"])
    assert out.decode().splitlines() == ["nameserver 127.0.0.11", "search corp.example", "options ndots:2"]
    code, out = app.exec_run(["cat", "/etc/hosts"])
    assert "10.9.9.9\tprinter" in out.decode().splitlines()
    host_port = app.ports["8080/tcp"][0]["HostPort"]
    assert int(host_port) > 0
    assert app.attrs["HostConfig"]["DnsSearch"] == ["corp.example"]


def test_inspect_links_and_ports_shape_via_api(engine, names, docker_client):
    db, web = names(), names()
    docker_client.containers.run("busybox", ["sleep", "300"], name=db, detach=True)
    c = docker_client.containers.run("busybox", ["sleep", "300"], name=web, detach=True, links={db: "alias1"},
                                     ports={"80/tcp": ("127.0.0.1", None)})
    info = json.loads(ok(engine.docker("inspect", web)))[0]
    assert info["HostConfig"]["Links"] == [f"/{db}:/{web}/alias1"]
    assert info["HostConfig"]["PortBindings"] == {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]}
    assert info["NetworkSettings"]["Ports"]["80/tcp"][0]["HostIp"] == "127.0.0.1"
    c.stop(timeout=0)
    c.reload()
    assert c.attrs["NetworkSettings"]["Ports"] == {}


def test_skiff_run_dns_flags_and_names_on_a_user_network(engine, names):
    net, api, c = names("net"), names(), names()
    ok(engine.skiff("network", "create", net))
    ok(engine.skiff("run", "-d", "--name", api, "--network", net, "--network-alias", "backend", "busybox",
                    "sleep", "300"))
    out = ok(engine.skiff("run", "--rm", "--name", c, "--network", net, "--dns-search", "corp.example",
                          "--add-host", "printer:10.9.9.9", "busybox", "sh", "-c",
                          "cat /etc/resolv.conf; grep printer /etc/hosts; nslookup backend."))
    lines = out.splitlines()
    assert lines[:3] == ["nameserver 127.0.0.11", "search corp.example", "options ndots:0"]
    assert "10.9.9.9\tprinter" in lines
    api_ip = json.loads(ok(engine.skiff("inspect", api)))[0]["NetworkSettings"]["Networks"][net]["IPAddress"]
    assert f"Address: {api_ip}" in lines


def test_ps_names_with_links_print_like_docker(engine, names):
    db, web = names(), names()
    ok(engine.skiff("run", "-d", "--name", db, "busybox", "sleep", "300"))
    ok(engine.skiff("run", "-d", "--name", web, "--link", f"{db}:db", "busybox", "sleep", "300"))
    for extra in ((), ("--no-trunc",)):
        d, s = both(engine, "ps", *extra, "--filter", f"name={db}", "--format", "{{.Names}}")
        assert (s.returncode, s.stdout) == (d.returncode, d.stdout), extra
