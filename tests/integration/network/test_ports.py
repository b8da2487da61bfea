"""Published ports through the real docker CLI and docker-py: every -p form, -P, udp, the host's
addresses and 127.0.0.1 (userland proxy), hairpin from containers, `docker port`, and Docker's
errors for a port that is taken or out of range."""

import json
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.integration.network.netutil import (
    HTTPD,
    free_port,
    host_address,
    http_get,
    iptables_lines,
    made_names,
    nc_get,
)
from tests.support.engine import Engine, request
from tests.support.procs import ok

pytestmark = [pytest.mark.root, pytest.mark.interop]


@pytest.fixture
def names(engine):
    with made_names(engine, "pt") as new:
        yield new


def run_httpd(engine, name, *flags):
    ok(engine.docker("run", "-d", "--name", name, *flags, "busybox", "sh", "-c", HTTPD))
    return json.loads(ok(engine.docker("inspect", name)))[0]


def test_publish_answers_on_loopback_host_address_and_from_containers(engine, names):
    web, port = names(), free_port()
    info = run_httpd(engine, web, "-p", f"{port}:80")
    hostname = info["Config"]["Hostname"]
    assert info["HostConfig"]["PortBindings"] == {"80/tcp": [{"HostIp": "", "HostPort": str(port)}]}
    assert info["NetworkSettings"]["Ports"] == {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": str(port)}]}
    host = host_address()
    assert http_get(f"http://127.0.0.1:{port}/") == f"hello-{hostname}\n"  # userland proxy
    assert http_get(f"http://{host}:{port}/") == f"hello-{hostname}\n"  # DNAT from OUTPUT
    # another container, through the host's address (hairpin between containers)
    assert nc_get(engine, ["run", "--rm", "busybox"], host, port) == f"hello-{hostname}\n"
    # the container itself through its own published port (hairpin + MASQUERADE)
    assert nc_get(engine, ["exec", web], host, port) == f"hello-{hostname}\n"
    assert ok(engine.docker("port", web)) == f"80/tcp -> 0.0.0.0:{port}\n"
    assert ok(engine.docker("port", web, "80")) == f"0.0.0.0:{port}\n"
    ps = ok(engine.docker("ps", "--filter", f"name={web}", "--format", "{{.Ports}}"))
    assert ps == f"0.0.0.0:{port}->80/tcp\n"


def test_publish_all_maps_exposed_ports_to_ephemeral_ones(engine, names):
    web = names()
    run_httpd(engine, web, "-P", "--expose", "80", "--expose", "7000-7001/udp")
    lines = ok(engine.docker("port", web)).splitlines()
    lo, hi = (int(x) for x in open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
    mapped = {line.split(" -> ")[0]: int(line.rsplit(":", 1)[1]) for line in lines}
    assert set(mapped) == {"80/tcp", "7000/udp", "7001/udp"}
    assert all(lo <= p <= hi for p in mapped.values())
    assert http_get(f"http://127.0.0.1:{mapped['80/tcp']}/").startswith("hello-")


def test_ip_forms_and_container_port_only(engine, names):
    web, port = names(), free_port()
    run_httpd(engine, web, "-p", f"127.0.0.1:{port}:80", "-p", "127.0.0.1::80", "-p", "81")
    ports = json.loads(ok(engine.docker("inspect", web)))[0]["NetworkSettings"]["Ports"]
    assert ports["80/tcp"][0] == {"HostIp": "127.0.0.1", "HostPort": str(port)}
    assert ports["80/tcp"][1]["HostIp"] == "127.0.0.1" and ports["80/tcp"][1]["HostPort"] != str(port)
    assert ports["81/tcp"][0]["HostIp"] == "0.0.0.0"
    assert http_get(f"http://127.0.0.1:{port}/").startswith("hello-")
    assert http_get(f"http://127.0.0.1:{ports['80/tcp'][1]['HostPort']}/").startswith("hello-")
    with pytest.raises(OSError):  # bound to loopback only
        socket.create_connection((host_address(), port), timeout=2).close()


def test_range_maps_one_to_one(engine, names):
    web = names()
    base = free_port()
    if base > 65000:
        base = 45000
    ok(engine.docker("run", "-d", "--name", web, "-p", f"{base}-{base + 1}:8000-8001", "busybox", "sleep", "300"))
    assert ok(engine.docker("port", web)).splitlines() == [f"8000/tcp -> 0.0.0.0:{base}",
                                                           f"8001/tcp -> 0.0.0.0:{base + 1}"]


UDP_ECHO = """
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 5000))
print("ready", flush=True)
while True:
    data, addr = s.recvfrom(2048)
    s.sendto(b"re:" + data, addr)
"""


@pytest.fixture
def udp_echo_in(engine):
    """Start a udp echo server on port 5000 inside a container's network namespace (busybox's nc
    has no -u); stopped after the test."""
    procs: list[subprocess.Popen] = []

    def start(name: str) -> None:
        pid = json.loads(ok(engine.docker("inspect", name)))[0]["State"]["Pid"]
        p = subprocess.Popen(["nsenter", "-t", str(pid), "-n", sys.executable, "-c", UDP_ECHO],
                             stdout=subprocess.PIPE)
        procs.append(p)
        assert p.stdout is not None and p.stdout.readline() == b"ready\n"

    yield start
    for p in procs:
        p.kill()
        p.wait()


def udp_ask(addr: str, port: int, word: bytes) -> bytes:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(word, (addr, port))
        return s.recvfrom(2048)[0]


def test_udp_through_host_address_and_loopback(engine, names, udp_echo_in):
    name, port = names(), free_port(socket.SOCK_DGRAM)
    ok(engine.docker("run", "-d", "--name", name, "-p", f"{port}:5000/udp", "busybox", "sleep", "300"))
    udp_echo_in(name)
    assert udp_ask(host_address(), port, b"via-dnat") == b"re:via-dnat"
    assert udp_ask("127.0.0.1", port, b"via-proxy") == b"re:via-proxy"
    assert ok(engine.docker("port", name, "5000/udp")) == f"0.0.0.0:{port}\n"


def test_port_already_allocated_and_in_use(engine, names):
    a, b, c = names(), names(), names()
    port = free_port()
    ok(engine.docker("run", "-d", "--name", a, "-p", f"{port}:80", "busybox", "sleep", "300"))
    p = engine.docker("run", "-d", "--name", b, "-p", f"{port}:80", "busybox", "sleep", "300")
    assert p.returncode == 125
    cid = ok(engine.docker("inspect", "-f", "{{.Id}}", b)).strip()
    assert (f"Error response from daemon: driver failed programming external connectivity on endpoint {b} ({cid}): "
            f"Bind for 0.0.0.0:{port} failed: port is already allocated\n") in p.stderr.decode()
    assert json.loads(ok(engine.docker("inspect", b)))[0]["State"]["Running"] is False
    with socket.socket() as held:
        held.bind(("0.0.0.0", 0))
        held.listen(1)
        taken = held.getsockname()[1]
        p = engine.docker("run", "-d", "--name", c, "-p", f"{taken}:80", "busybox", "sleep", "300")
        assert p.returncode == 125
        assert "address already in use" in p.stderr.decode()
    state = json.loads(ok(engine.docker("inspect", c)))[0]["State"]
    assert state["Running"] is False and state["Status"] == "created"
    ok(engine.docker("rm", "-f", a))
    ok(engine.docker("start", b))  # released by a's removal
    assert ok(engine.docker("port", b)) == f"80/tcp -> 0.0.0.0:{port}\n"


def test_bad_port_bindings_are_400(engine):
    body = {"Image": "busybox", "Cmd": ["true"], "HostConfig": {"PortBindings": {"80/tcp": [{"HostPort": "70000"}]}}}
    status, out = request(engine.socket, "POST", "/containers/create", json.dumps(body).encode(),
                          {"Content-Type": "application/json"})
    assert status == 400 and json.loads(out)["message"] == 'invalid port specification: "70000"'
    p = engine.docker("run", "--rm", "-p", "80:80/xyz", "busybox", "true")
    assert p.returncode == 125 and "invalid proto: xyz" in p.stderr.decode()


def test_docker_py_ports(engine, names, docker_client):
    name, port = names(), free_port()
    c = docker_client.containers.run("busybox", ["sh", "-c", HTTPD], name=name, detach=True,
                                     ports={"80/tcp": port, "90/udp": ("127.0.0.1", None)})
    c.reload()
    assert c.ports["80/tcp"] == [{"HostIp": "0.0.0.0", "HostPort": str(port)}]
    assert c.ports["90/udp"][0]["HostIp"] == "127.0.0.1"
    assert http_get(f"http://127.0.0.1:{port}/").startswith("hello-")


def test_rules_go_with_the_container(engine, names):
    web, port = names(), free_port()
    run_httpd(engine, web, "-p", f"{port}:80")
    ip = json.loads(ok(engine.docker("inspect", web)))[0]["NetworkSettings"]["IPAddress"]
    assert any(f"--dport {port} " in line and ip in line for line in iptables_lines(engine.prefix))
    ok(engine.docker("stop", "-t", "0", web))
    assert not any(f"--dport {port} " in line for line in iptables_lines(engine.prefix))
    with socket.socket() as s:  # the host port is free again
        s.bind(("0.0.0.0", port))


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_ports_and_dns_survive_an_engine_restart_and_leave_nothing(fresh_engine, sig):
    eng, port = fresh_engine, free_port()
    info = run_httpd(eng, "web", "-p", f"{port}:80")
    body = f"hello-{info['Config']['Hostname']}\n"
    assert http_get(f"http://127.0.0.1:{port}/") == body
    ok(eng.docker("network", "create", "usernet"))
    ok(eng.docker("run", "-d", "--name", "peer", "--network", "usernet", "busybox", "sleep", "300"))
    ok(eng.docker("run", "-d", "--name", "asker", "--network", "usernet", "busybox", "sleep", "300"))
    eng.stop(sig)
    if sig == signal.SIGTERM:  # a clean stop takes our chains and proxies with it
        assert not [line for line in iptables_lines(eng.prefix) if "-DNAT" in line or "-PORTS" in line]
    eng.start()
    assert http_get(f"http://127.0.0.1:{port}/") == body
    assert http_get(f"http://{host_address()}:{port}/") == body
    assert ok(eng.docker("port", "web")) == f"80/tcp -> 0.0.0.0:{port}\n"
    ok(eng.docker("exec", "asker", "nslookup", "peer"))  # the embedded DNS serves it again
    ok(eng.docker("rm", "-f", "web", "peer", "asker"))
    ok(eng.docker("network", "rm", "usernet"))
    assert not [line for line in iptables_lines(eng.prefix) if "--dport" in line]
    eng.stop()
    assert iptables_lines(eng.prefix) == []


def test_network_mode_conflicts_are_400(engine, names):
    peer = names()
    ok(engine.docker("run", "-d", "--name", peer, "busybox", "sleep", "300"))
    p = engine.docker("run", "--rm", "--network", f"container:{peer}", "-p", "80", "busybox", "true")
    assert p.returncode == 125
    assert "conflicting options: port publishing and the container type network mode" in p.stderr.decode()


@pytest.mark.slow
def test_iptables_false_leaves_ports_to_the_userland_proxy(busybox_archive):
    eng = Engine(Path(tempfile.mkdtemp(prefix="skiff-noipt-", dir="/tmp")), extra_args=["--iptables=false"])
    try:
        eng.start()
        eng.load(busybox_archive)
        port = free_port()
        info = run_httpd(eng, "web", "-p", f"{port}:80")
        body = f"hello-{info['Config']['Hostname']}\n"
        assert http_get(f"http://127.0.0.1:{port}/") == body
        assert http_get(f"http://{host_address()}:{port}/") == body
        assert iptables_lines(eng.prefix) == []
    finally:
        eng.cleanup()


def test_published_port_reached_from_another_network(engine, names):
    net, web, port = names("net"), names(), free_port()
    ok(engine.docker("network", "create", net))
    info = run_httpd(engine, web, "--network", net, "-p", f"{port}:80")
    body = f"hello-{info['Config']['Hostname']}\n"
    # from the default bridge: the networks are isolated, so this goes through the userland proxy
    assert nc_get(engine, ["run", "--rm", "busybox"], host_address(), port) == body
    # from the same network: NAT, hairpin
    assert nc_get(engine, ["run", "--rm", "--network", net, "busybox"], host_address(), port) == body


def test_published_port_on_a_network_without_icc(engine, names):
    net, web, port = names("net"), names(), free_port()
    ok(engine.docker("network", "create", "-o", "com.docker.network.bridge.enable_icc=false", net))
    info = run_httpd(engine, web, "--network", net, "-p", f"{port}:80")
    body = f"hello-{info['Config']['Hostname']}\n"
    assert nc_get(engine, ["run", "--rm", "--network", net, "busybox"], host_address(), port) == body
    assert nc_get(engine, ["exec", web], host_address(), port) == body


def test_ipv6_host_address_is_served_by_the_proxy(engine, names):
    web, port = names(), free_port()
    info = run_httpd(engine, web, "-p", f"[::1]:{port}:80")
    assert info["NetworkSettings"]["Ports"]["80/tcp"] == [{"HostIp": "::1", "HostPort": str(port)}]
    assert http_get(f"http://[::1]:{port}/").startswith("hello-")
    assert ok(engine.docker("port", web)) == f"80/tcp -> [::1]:{port}\n"


def test_network_host_binding_option_sets_the_default_address(engine, names):
    net, web, port = names("net"), names(), free_port()
    ok(engine.docker("network", "create", "-o", "com.docker.network.bridge.host_binding_ipv4=127.0.0.1", net))
    run_httpd(engine, web, "--network", net, "-p", f"{port}:80", "-p", "127.0.0.2::80")
    lines = ok(engine.docker("port", web)).splitlines()
    assert lines[0] == f"80/tcp -> 127.0.0.1:{port}" and lines[1].startswith("80/tcp -> 127.0.0.2:")
    assert http_get(f"http://127.0.0.1:{port}/").startswith("hello-")
    with pytest.raises(OSError):
        socket.create_connection((host_address(), port), timeout=2).close()


def test_run_rm_releases_its_ports(engine):
    port = free_port()
    for _ in range(2):  # the second run needs the port the first one held
        ok(engine.docker("run", "--rm", "-p", f"{port}:80", "busybox", "true"))
    with socket.socket() as s:
        s.bind(("0.0.0.0", port))
    assert not [line for line in iptables_lines(engine.prefix) if f"--dport {port} " in line]
