"""Name resolution: the embedded DNS server on user-defined networks (names, aliases, short ids,
forwarding to upstreams), none on the default bridge, and the --dns* / --add-host flags in
the container's files. The upstream is a fake DNS server on the host's loopback."""

import json
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from skiff.engine.network import dns_codec as codec
from tests.integration.network.netutil import made_names
from tests.support.engine import Engine
from tests.support.procs import ok

pytestmark = [pytest.mark.root, pytest.mark.interop]

FAKE_UPSTREAM = "127.0.0.77"


@pytest.fixture
def names(engine):
    with made_names(engine, "dn") as new:
        yield new


@pytest.fixture
def fake_upstream():
    """A DNS server at 127.0.0.77:53 (udp) answering every A query with 192.0.2.99; yields the
    names it was asked."""
    seen: list[str] = []
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((FAKE_UPSTREAM, 53))
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                data, addr = sock.recvfrom(2048)
            except OSError:
                continue
            q = codec.parse_query(data)
            seen.append(q.name)
            sock.sendto(codec.answer_a(q, ["192.0.2.99"]) if q.qtype == codec.TYPE_A else codec.reply(q), addr)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield seen
    stop.set()
    t.join(10)
    sock.close()


def test_names_aliases_and_short_ids_resolve_on_a_user_network(engine, names):
    net, web, client = names("net"), names(), names()
    ok(engine.docker("network", "create", net))
    ok(engine.docker("run", "-d", "--name", web, "--network", net, "--network-alias", "frontend",
                     "busybox", "sleep", "300"))
    web_ip = ok(engine.docker("inspect", "-f", f"{{{{(index .NetworkSettings.Networks \"{net}\").IPAddress}}}}",
                              web)).strip()
    web_id = ok(engine.docker("inspect", "-f", "{{.Id}}", web)).strip()
    ok(engine.docker("run", "-d", "--name", client, "--network", net, "busybox", "sleep", "300"))
    resolv = ok(engine.docker("exec", client, "cat", "/etc/resolv.conf"))
    assert resolv.splitlines()[0] == "nameserver 127.0.0.11"
    for name in (web, "frontend", web_id[:12]):
        out = ok(engine.docker("exec", client, "nslookup", name))
        assert web_ip in out, out
    ok(engine.docker("exec", client, "ping", "-c", "1", "-W", "5", web))
    p = engine.docker("exec", client, "nslookup", "no-such-name-" + secrets.token_hex(3))
    assert web_ip not in p.stdout.decode()


def test_other_names_are_forwarded_to_the_upstream(engine, names, fake_upstream):
    net, client = names("net"), names()
    ok(engine.docker("network", "create", net))
    ok(engine.docker("run", "-d", "--name", client, "--network", net, "--dns", FAKE_UPSTREAM, "busybox",
                     "sleep", "300"))
    assert ok(engine.docker("exec", client, "cat", "/etc/resolv.conf")).splitlines()[0] == "nameserver 127.0.0.11"
    out = ok(engine.docker("exec", client, "nslookup", "outside.example.test"))
    assert "192.0.2.99" in out
    assert "outside.example.test" in fake_upstream


def test_no_name_resolution_on_the_default_bridge(engine, names):
    a, b = names(), names()
    ok(engine.docker("run", "-d", "--name", a, "busybox", "sleep", "300"))
    ok(engine.docker("run", "-d", "--name", b, "busybox", "sleep", "300"))
    assert "127.0.0.11" not in ok(engine.docker("exec", b, "cat", "/etc/resolv.conf"))
    assert engine.docker("exec", b, "ping", "-c", "1", "-W", "2", a).returncode != 0


def test_dns_flags_and_add_host_land_in_the_files(engine, names):
    c = names()
    ok(engine.docker("run", "-d", "--name", c, "--dns", "192.0.2.53", "--dns-search", "corp.example",
                     "--dns-option", "ndots:3", "--add-host", "db.local:10.1.2.3", "--add-host",
                     "gw:host-gateway", "--hostname", "web1", "busybox", "sleep", "300"))
    resolv = ok(engine.docker("exec", c, "cat", "/etc/resolv.conf")).splitlines()
    assert resolv == ["nameserver 192.0.2.53", "search corp.example", "options ndots:3"]
    hosts = ok(engine.docker("exec", c, "cat", "/etc/hosts")).splitlines()
    gateway = ok(engine.docker("network", "inspect", "-f", "{{(index .IPAM.Config 0).Gateway}}", "bridge")).strip()
    ip = ok(engine.docker("inspect", "-f", "{{.NetworkSettings.IPAddress}}", c)).strip()
    assert "10.1.2.3\tdb.local" in hosts and f"{gateway}\tgw" in hosts
    assert hosts[-1] == f"{ip}\tweb1"
    assert ok(engine.docker("exec", c, "hostname")) == "web1\n"


DNS_CLIENT = """
import socket, struct, sys
from skiff.engine.network import dns_codec as codec
name, qtype = sys.argv[1], int(sys.argv[2])
q = codec.build_query(name, qtype)
s = socket.create_connection(("127.0.0.11", 53), timeout=5)
s.sendall(struct.pack("!H", len(q)) + q)
data = b""
while len(data) < 2 or len(data) < 2 + struct.unpack("!H", data[:2])[0]:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
rcode, answers = codec.parse_answers(data[2:])
print(rcode, " ".join(v for _, v in answers))
"""


def test_tcp_queries_and_reverse_lookups(engine, names):
    net, web, client = names("net"), names(), names()
    ok(engine.docker("network", "create", net))
    ok(engine.docker("run", "-d", "--name", web, "--network", net, "busybox", "sleep", "300"))
    ok(engine.docker("run", "-d", "--name", client, "--network", net, "busybox", "sleep", "300"))
    web_ip = json.loads(ok(engine.docker("inspect", web)))[0]["NetworkSettings"]["Networks"][net]["IPAddress"]
    pid = json.loads(ok(engine.docker("inspect", client)))[0]["State"]["Pid"]

    def ask(name: str, qtype: int) -> str:
        p = subprocess.run(["nsenter", "-t", str(pid), "-n", sys.executable, "-c", DNS_CLIENT, name, str(qtype)],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stderr
        return p.stdout.strip()

    assert ask(web, codec.TYPE_A) == f"0 {web_ip}"
    reverse = ".".join(reversed(web_ip.split("."))) + ".in-addr.arpa"
    assert ask(reverse, codec.TYPE_PTR) == f"0 {web}.{net}"


@pytest.mark.slow
def test_engine_wide_dns_flag(busybox_archive, fake_upstream):
    eng = Engine(Path(tempfile.mkdtemp(prefix="skiff-dns-", dir="/tmp")), extra_args=["--dns", FAKE_UPSTREAM])
    try:
        eng.start()
        eng.load(busybox_archive)
        out = ok(eng.docker("run", "--rm", "busybox", "cat", "/etc/resolv.conf"))
        assert out.splitlines()[0] == f"nameserver {FAKE_UPSTREAM}"
        ok(eng.docker("network", "create", "dnsnet"))
        out = ok(eng.docker("run", "--rm", "--network", "dnsnet", "busybox", "nslookup", "engine-flag.example.test"))
        assert "192.0.2.99" in out and "engine-flag.example.test" in fake_upstream
        ok(eng.docker("network", "rm", "dnsnet"))
    finally:
        eng.cleanup()


def test_connect_and_disconnect_bring_resolv_conf_and_dns_along(engine, names):
    net, peer, c = names("net"), names(), names()
    ok(engine.docker("network", "create", net))
    ok(engine.docker("run", "-d", "--name", peer, "--network", net, "busybox", "sleep", "300"))
    ok(engine.docker("run", "-d", "--name", c, "busybox", "sleep", "300"))  # on the default bridge
    assert "127.0.0.11" not in ok(engine.docker("exec", c, "cat", "/etc/resolv.conf"))
    ok(engine.docker("network", "connect", net, c))
    assert ok(engine.docker("exec", c, "cat", "/etc/resolv.conf")).splitlines()[0] == "nameserver 127.0.0.11"
    peer_ip = json.loads(ok(engine.docker("inspect", peer)))[0]["NetworkSettings"]["Networks"][net]["IPAddress"]
    assert peer_ip in ok(engine.docker("exec", c, "nslookup", peer))
    ok(engine.docker("network", "disconnect", net, c))
    assert "127.0.0.11" not in ok(engine.docker("exec", c, "cat", "/etc/resolv.conf"))
