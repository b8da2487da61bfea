"""The default bridge and user-defined bridge networks through the real docker CLI: addresses,
reachability, NAT, `none`, `container:` sharing, connect/disconnect, internal networks, and
dockerd's errors for bad input."""

import json
import subprocess
import time

import pytest

from tests.support.names import unique_names
from tests.support.procs import ok

pytestmark = [pytest.mark.root, pytest.mark.interop]

RUN = ("run", "--pull", "never")


@pytest.fixture
def names(engine):
    """Unique names for containers and networks; everything made is removed afterwards."""
    with unique_names(engine, "nb") as new:
        yield new


def inspect(engine, ref: str) -> dict:
    return json.loads(ok(engine.docker("inspect", ref)))[0]


def ipv4_lines(engine, *run_args: str) -> list[str]:
    out = ok(engine.docker(*RUN, "--rm", *run_args, "busybox", "ip", "-4", "-o", "addr"))
    return [line.split()[1] + " " + line.split()[3] for line in out.splitlines()]


def test_default_bridge_gives_address_route_and_reachability(engine, names):
    a = names()
    ok(engine.docker(*RUN, "-d", "--name", a, "busybox", "sleep", "60"))
    info = inspect(engine, a)
    ns = info["NetworkSettings"]
    ep = ns["Networks"]["bridge"]
    assert ep["IPAddress"] and ep["Gateway"] and ep["IPPrefixLen"] > 0
    assert ns["IPAddress"] == ep["IPAddress"] and ns["Gateway"] == ep["Gateway"]
    assert ns["MacAddress"] == ep["MacAddress"] == "02:42:" + ":".join(
        f"{int(b):02x}" for b in ep["IPAddress"].split("."))
    assert ns["SandboxKey"].endswith(info["Id"])
    route = ok(engine.docker(*RUN, "--rm", "busybox", "ip", "route"))
    assert f"default via {ep['Gateway']} dev eth0" in route
    out = ok(engine.docker(*RUN, "--rm", "busybox", "ping", "-c", "1", "-W", "2", ep["IPAddress"]))
    assert "1 packets received" in out
    net = json.loads(ok(engine.docker("network", "inspect", "bridge")))[0]
    assert net["Containers"][info["Id"]]["IPv4Address"] == f"{ep['IPAddress']}/{ep['IPPrefixLen']}"
    assert net["Options"]["com.docker.network.bridge.name"] == engine.prefix + "0"


def test_host_answers_on_the_bridge_gateway_and_container_reaches_host(engine, names):
    gw = json.loads(ok(engine.docker("network", "inspect", "bridge")))[0]["IPAM"]["Config"][0]["Gateway"]
    out = ok(engine.docker(*RUN, "--rm", "busybox", "ping", "-c", "1", "-W", "2", gw))
    assert "1 packets received" in out


def test_network_none_has_only_loopback(engine):
    out = ok(engine.docker(*RUN, "--rm", "--network", "none", "busybox", "ip", "-o", "link"))
    assert [line.split(":")[1].strip() for line in out.splitlines()] == ["lo"]
    assert "UP" in out


def test_container_mode_shares_the_namespace(engine, names):
    a = names()
    ok(engine.docker(*RUN, "-d", "--name", a, "busybox", "sleep", "60"))
    ip = inspect(engine, a)["NetworkSettings"]["IPAddress"]
    assert f"eth0 {ip}/" in " ".join(ipv4_lines(engine, "--network", f"container:{a}"))


def test_user_network_with_subnet_ip_and_alias(engine, names):
    net, a = names("net"), names()
    ok(engine.docker("network", "create", "--subnet", "10.213.7.0/24", "--gateway", "10.213.7.254",
                     "--label", "team=net", net))
    ok(engine.docker(*RUN, "-d", "--name", a, "--network", net, "--ip", "10.213.7.50", "--network-alias", "web",
                     "busybox", "sleep", "60"))
    ep = inspect(engine, a)["NetworkSettings"]["Networks"][net]
    assert ep["IPAddress"] == "10.213.7.50" and ep["Gateway"] == "10.213.7.254" and ep["Aliases"] == ["web"]
    assert ep["IPAMConfig"] == {"IPv4Address": "10.213.7.50"}
    lines = ipv4_lines(engine, "--network", net)
    assert any(line.startswith("eth0 10.213.7.") for line in lines)
    out = ok(engine.docker(*RUN, "--rm", "--network", net, "busybox", "ping", "-c", "1", "-W", "2", "10.213.7.50"))
    assert "1 packets received" in out
    listed = ok(engine.docker("network", "ls", "--filter", "label=team=net", "--format", "{{.Name}}"))
    assert listed.split() == [net]
    assert ok(engine.docker("ps", "--filter", f"network={net}", "--format", "{{.Names}} {{.Networks}}")).split() \
        == [a, net]


def test_user_networks_are_isolated_from_each_other_and_the_default_bridge(engine, names):
    n1, n2, a = names("net"), names("net"), names()
    ok(engine.docker("network", "create", n1))
    ok(engine.docker("network", "create", n2))
    ok(engine.docker(*RUN, "-d", "--name", a, "--network", n1, "busybox", "sleep", "60"))
    ip = inspect(engine, a)["NetworkSettings"]["Networks"][n1]["IPAddress"]
    for other in (n2, "bridge"):
        r = engine.docker(*RUN, "--rm", "--network", other, "busybox", "ping", "-c", "1", "-W", "1", ip)
        assert r.returncode != 0, f"{other} reached {n1}"


def test_connect_and_disconnect_a_running_container(engine, names):
    net, a = names("net"), names()
    ok(engine.docker("network", "create", "--subnet", "10.213.8.0/24", net))
    ok(engine.docker(*RUN, "-d", "--name", a, "busybox", "sleep", "60"))
    ok(engine.docker("network", "connect", "--ip", "10.213.8.9", "--alias", "db", net, a))
    out = ok(engine.docker("exec", a, "ip", "-4", "-o", "addr"))
    assert "eth1    inet 10.213.8.9/24" in out
    ep = inspect(engine, a)["NetworkSettings"]["Networks"][net]
    assert ep["IPAddress"] == "10.213.8.9" and ep["Aliases"] == ["db"]
    # the default route stays with the first network
    assert "default via" in ok(engine.docker("exec", a, "ip", "route")).split("dev eth0")[0]
    r = engine.docker("network", "connect", net, a)
    assert r.returncode != 0 and b"already exists in network" in r.stderr
    ok(engine.docker("network", "disconnect", net, a))
    assert "eth1" not in ok(engine.docker("exec", a, "ip", "-4", "-o", "addr"))
    assert net not in inspect(engine, a)["NetworkSettings"]["Networks"]
    r = engine.docker("network", "disconnect", net, a)
    assert r.returncode != 0 and b"is not connected to network" in r.stderr


def test_internal_network_has_no_way_out(engine, names):
    net = names("net")
    ok(engine.docker("network", "create", "--internal", net))
    out = ok(engine.docker(*RUN, "--rm", "--network", net, "busybox", "ip", "route"))
    assert "default" not in out
    gw = json.loads(ok(engine.docker("network", "inspect", net)))[0]["IPAM"]["Config"][0]["Gateway"]
    r = engine.docker(*RUN, "--rm", "--network", net, "busybox", "ping", "-c", "1", "-W", "1", "192.0.2.1")
    assert r.returncode != 0
    assert gw


def test_stopped_container_releases_its_address_and_keeps_its_networks(engine, names):
    net, a = names("net"), names()
    ok(engine.docker("network", "create", net))
    ok(engine.docker(*RUN, "-d", "--name", a, "--network", net, "busybox", "sleep", "60"))
    ok(engine.docker("stop", "-t", "0", a))
    ep = inspect(engine, a)["NetworkSettings"]["Networks"][net]
    assert ep["IPAddress"] == "" and ep["NetworkID"]
    assert json.loads(ok(engine.docker("network", "inspect", net)))[0]["Containers"] == {}
    ok(engine.docker("network", "rm", net))
    r = engine.docker("start", a)
    assert r.returncode != 0 and b"not found" in r.stderr


@pytest.mark.parametrize("args, status_words", [
    (("network", "create", "--subnet", "10.213.9.0/33", "X"), b"invalid CIDR address: 10.213.9.0/33"),
    (("network", "create", "--subnet", "nonsense", "X"), b"invalid CIDR address: nonsense"),
    (("network", "create", "bridge"), b"bridge is a pre-defined network and cannot be created"),
    (("network", "rm", "host"), b"host is a pre-defined network and cannot be removed"),
    (("network", "inspect", "no-such-net-x"), b"network no-such-net-x not found"),
])
def test_bad_network_requests(engine, args, status_words):
    r = engine.docker(*args)
    assert r.returncode != 0 and status_words in r.stderr


def test_bad_container_network_requests(engine, names):
    net, a = names("net"), names()
    ok(engine.docker("network", "create", "--subnet", "10.213.10.0/24", net))
    r = engine.docker("network", "create", "--subnet", "10.213.10.128/25", names("net"))
    assert r.returncode != 0 and b"Pool overlaps with other one on this address space" in r.stderr
    r = engine.docker("network", "create", net)
    assert r.returncode != 0 and f"network with name {net} already exists".encode() in r.stderr
    r = engine.docker(*RUN, "--rm", "--network", net, "--ip", "10.9.9.9", "busybox", "true")
    assert r.returncode != 0 and b"no configured subnet or ip-range contain the IP address 10.9.9.9" in r.stderr
    r = engine.docker(*RUN, "--rm", "--ip", "10.9.9.9", "busybox", "true")
    assert r.returncode != 0 and b"user specified IP address is supported on user defined networks only" in r.stderr
    r = engine.docker(*RUN, "--rm", "--network", "no-such-net-y", "busybox", "true")
    assert r.returncode != 0 and b"network no-such-net-y not found" in r.stderr
    assert b"Unable to find image" not in r.stderr
    ok(engine.docker(*RUN, "-d", "--name", a, "--network", net, "busybox", "sleep", "60"))
    r = engine.docker("network", "rm", net)
    assert r.returncode != 0 and b"has active endpoints" in r.stderr
    # the engine keeps serving, the network is intact
    assert json.loads(ok(engine.docker("network", "inspect", net)))[0]["Containers"]


def test_prune_removes_unused_custom_networks(engine, names):
    used, unused, a = names("net"), names("net"), names()
    ok(engine.docker("network", "create", used))
    ok(engine.docker("network", "create", unused))
    ok(engine.docker(*RUN, "-d", "--name", a, "--network", used, "busybox", "sleep", "60"))
    out = ok(engine.docker("network", "prune", "-f"))
    assert unused in out and used not in out
    names_left = ok(engine.docker("network", "ls", "--format", "{{.Name}}")).split()
    assert used in names_left and unused not in names_left and "bridge" in names_left


def test_network_events(engine, names):
    net, a = names("net"), names()
    since = str(int(time.time()) - 1)
    nid = ok(engine.docker("network", "create", net)).strip()
    ok(engine.docker(*RUN, "--rm", "--name", a, "--network", net, "busybox", "true"))
    ok(engine.docker("network", "rm", net))
    until = str(int(time.time()) + 1)
    out = ok(engine.docker("events", "--since", since, "--until", until, "--filter", "type=network",
                           "--filter", f"network={nid}", "--format", "{{.Action}}"))
    assert out.split() == ["create", "connect", "disconnect", "destroy"]


def test_run_on_two_networks_at_once(engine, names):
    n1, n2 = names("net"), names("net")
    ok(engine.docker("network", "create", "--subnet", "10.213.11.0/24", n1))
    ok(engine.docker("network", "create", "--subnet", "10.213.12.0/24", n2))
    lines = ipv4_lines(engine, "--network", n1, "--network", n2)
    assert [line.split()[0] for line in lines] == ["lo", "eth0", "eth1"]
    assert lines[1].startswith("eth0 10.213.11.") and lines[2].startswith("eth1 10.213.12.")


def test_published_port_reachable_from_another_network_but_not_its_address(engine, names):
    from tests.integration.network.netutil import HTTPD, free_port, host_address

    net, web = names("net"), names()
    port = free_port()
    ok(engine.docker("network", "create", net))
    ok(engine.docker(*RUN, "-d", "--name", web, "-p", f"{port}:80", "busybox", "sh", "-c", HTTPD))
    ip = inspect(engine, web)["NetworkSettings"]["IPAddress"]
    fetch = f"for i in $(seq 150); do wget -qO- http://{host_address()}:{port}/ && exit 0; sleep 0.2; done; exit 1"
    out = ok(engine.docker(*RUN, "--rm", "--network", net, "busybox", "sh", "-c", fetch))
    assert out.startswith("hello-")
    r = engine.docker(*RUN, "--rm", "--network", net, "busybox", "ping", "-c", "1", "-W", "1", ip)
    assert r.returncode != 0


def test_bridge_name_option_refuses_a_device_that_is_not_a_bridge(engine, names):
    r = engine.docker("network", "create", "-o", "com.docker.network.bridge.name=lo", names("net"))
    assert r.returncode != 0 and b"cannot use lo as a bridge" in r.stderr
    assert b"UP" in subprocess.run(["ip", "link", "show", "lo"], capture_output=True).stdout


def test_pod_style_sharing_over_localhost(engine, names):
    sandbox, app = names(), names()
    ok(engine.docker(*RUN, "-d", "--name", sandbox, "busybox", "sh", "-c",
                     "mkdir /w && echo pod > /w/index.html && exec httpd -f -p 127.0.0.1:8080 -h /w"))
    ok(engine.docker(*RUN, "-d", "--name", app, "--network", f"container:{sandbox}", "busybox", "sleep", "60"))
    fetch = "for i in $(seq 300); do wget -qO- http://127.0.0.1:8080/ && exit 0; sleep 0.1; done; exit 1"
    assert ok(engine.docker("exec", app, "sh", "-c", fetch)) == "pod\n"
    info = inspect(engine, app)
    assert info["HostConfig"]["NetworkMode"] == f"container:{sandbox}"
    assert info["NetworkSettings"]["Networks"] == {}
    r = engine.docker("network", "connect", "bridge", app)
    assert r.returncode != 0


def test_host_and_none_networks_list_their_containers(engine, names):
    h, n = names(), names()
    ok(engine.docker(*RUN, "-d", "--name", h, "--network", "host", "busybox", "sleep", "60"))
    ok(engine.docker(*RUN, "-d", "--name", n, "--network", "none", "busybox", "sleep", "60"))
    for net, name in (("host", h), ("none", n)):
        shown = json.loads(ok(engine.docker("network", "inspect", net)))[0]["Containers"]
        assert [c["Name"] for c in shown.values()] == [name]
    ok(engine.docker("stop", "-t", "0", h, n))
    assert json.loads(ok(engine.docker("network", "inspect", "none")))[0]["Containers"] == {}


def test_network_by_id_survives_a_restart(engine, names):
    net, a = names("net"), names()
    nid = ok(engine.docker("network", "create", net)).strip()
    ok(engine.docker(*RUN, "-d", "--name", a, "--network", nid[:12], "busybox", "sleep", "60"))
    ok(engine.docker("restart", "-t", "0", a))
    assert inspect(engine, a)["NetworkSettings"]["Networks"][net]["IPAddress"]
    assert len(ok(engine.docker("exec", a, "ip", "-4", "-o", "addr")).splitlines()) == 2  # lo, eth0
