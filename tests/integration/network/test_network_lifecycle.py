"""Networking across the engine's life: engine-wide flags (--bip, --icc=false, -b), kill -9 and
restart (addresses kept, stale host objects removed), two engines side by side, and nothing
left on the host once an engine and its containers are gone."""

import json
import os
import secrets
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.support.engine import Engine
from tests.support.procs import ok

pytestmark = [pytest.mark.root, pytest.mark.interop, pytest.mark.slow]

RUN = ("run", "--pull", "never")


def host_state(prefix: str, root: Path) -> dict:
    """What an engine with this prefix has on the host: links, iptables lines, netns mounts."""
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    names = sorted(line.split(":")[1].strip().split("@")[0] for line in links.splitlines())
    rules = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
    mounts = Path("/proc/self/mountinfo").read_text()
    return {"links": [n for n in names if n.startswith(prefix)],
            "iptables": [line for line in rules.splitlines() if f"{prefix}-" in line or f" {prefix}0" in line],
            "netns": [line.split()[4] for line in mounts.splitlines() if str(root) in line.split()[4]
                      and "/netns/" in line.split()[4]]}


@pytest.fixture
def engines(busybox_archive):
    """Start engines with extra flags; each is cleaned up, and checked to leave nothing behind."""
    started: list[Engine] = []

    def start(*extra: str) -> Engine:
        root = Path(tempfile.mkdtemp(prefix="skiff-net-", dir="/tmp"))
        eng = Engine(root, extra_args=list(extra)).start()
        eng.load(busybox_archive)
        started.append(eng)
        return eng

    yield start
    for eng in started:
        if eng.proc is None and eng.root.exists():  # killed by the test: its containers still run
            eng.start()
        eng.cleanup()
        assert host_state(eng.prefix, eng.root) == {"links": [], "iptables": [], "netns": []}


def ip_of(eng: Engine, name: str, net: str = "bridge") -> str:
    return json.loads(ok(eng.docker("inspect", name)))[0]["NetworkSettings"]["Networks"][net]["IPAddress"]


def pings(eng: Engine, target: str, *run_args: str) -> bool:
    r = eng.docker(*RUN, "--rm", *run_args, "busybox", "ping", "-c", "1", "-W", "1", target)
    return r.returncode == 0


def test_bip_fixed_cidr_mtu_and_icc_false_on_the_default_bridge(engines):
    eng = engines("--bip", "10.213.50.1/24", "--fixed-cidr", "10.213.50.128/25", "--mtu", "1400", "--icc=false")
    ok(eng.docker(*RUN, "-d", "--name", "ca", "busybox", "sleep", "60"))
    ip = ip_of(eng, "ca")
    assert ip.startswith("10.213.50.") and int(ip.rsplit(".", 1)[1]) >= 128
    assert "mtu 1400" in ok(eng.docker("exec", "ca", "ip", "link", "show", "eth0"))
    net = json.loads(ok(eng.docker("network", "inspect", "bridge")))[0]
    assert net["IPAM"]["Config"] == [{"Subnet": "10.213.50.0/24", "Gateway": "10.213.50.1",
                                      "IPRange": "10.213.50.128/25"}]
    assert net["Options"]["com.docker.network.bridge.enable_icc"] == "false"
    assert not pings(eng, ip)  # container to container: blocked
    assert pings(eng, "10.213.50.1")  # the gateway (the host) still answers


def test_icc_off_per_network_and_on_elsewhere(engines):
    eng = engines()
    ok(eng.docker("network", "create", "-o", "com.docker.network.bridge.enable_icc=false", "quiet"))
    ok(eng.docker("network", "create", "chatty"))
    for net in ("quiet", "chatty"):
        ok(eng.docker(*RUN, "-d", "--name", f"t-{net}", "--network", net, "busybox", "sleep", "60"))
    assert not pings(eng, ip_of(eng, "t-quiet", "quiet"), "--network", "quiet")
    assert pings(eng, ip_of(eng, "t-chatty", "chatty"), "--network", "chatty")


def test_kill_9_and_restart_keeps_addresses_and_removes_stale_objects(engines):
    eng = engines()
    ok(eng.docker("network", "create", "--subnet", "10.213.51.0/24", "un"))
    ok(eng.docker(*RUN, "-d", "--name", "ca", "busybox", "sleep", "300"))
    ok(eng.docker(*RUN, "-d", "--name", "cb", "--network", "un", "busybox", "sleep", "300"))
    ip_a, ip_b = ip_of(eng, "ca"), ip_of(eng, "cb", "un")
    eng.stop(signal.SIGKILL)
    # what a crash in the middle of a start could leave: a veth of ours and a namespace file
    stale = f"{eng.prefix}v{secrets.token_hex(3)}"
    subprocess.run(["ip", "link", "add", stale, "type", "veth", "peer", "name", stale[:-1] + "x"], check=True)
    netns_dir = eng.root / "data" / "netns"
    (netns_dir / ("f" * 64)).write_text("")
    eng.start()
    links = host_state(eng.prefix, eng.root)["links"]
    assert stale not in links
    assert not (netns_dir / ("f" * 64)).exists()
    assert ip_of(eng, "ca") == ip_a and ip_of(eng, "cb", "un") == ip_b
    assert pings(eng, ip_b, "--network", "un")
    ok(eng.docker(*RUN, "-d", "--name", "cc", "busybox", "sleep", "60"))
    assert ip_of(eng, "cc") != ip_a
    # the restarted engine tears everything down when its containers go
    ok(eng.docker("rm", "-f", "ca", "cb", "cc"))
    ok(eng.docker("network", "rm", "un"))


def test_two_engines_side_by_side(engines):
    one, two = engines(), engines()
    subnets = []
    for eng in (one, two):
        net = json.loads(ok(eng.docker("network", "inspect", "bridge")))[0]
        subnets.append(net["IPAM"]["Config"][0]["Subnet"])
        ok(eng.docker(*RUN, "-d", "--name", "cx", "busybox", "sleep", "60"))
        assert pings(eng, ip_of(eng, "cx"))
    assert subnets[0] != subnets[1]
    assert host_state(one.prefix, one.root)["iptables"] and host_state(two.prefix, two.root)["iptables"]
    one.cleanup()
    assert host_state(one.prefix, one.root) == {"links": [], "iptables": [], "netns": []}
    assert pings(two, ip_of(two, "cx"))


def test_existing_bridge_with_dash_b(engines):
    name = "skb" + secrets.token_hex(3)
    subprocess.run(["ip", "link", "add", name, "type", "bridge"], check=True)
    try:
        subprocess.run(["ip", "addr", "add", "10.213.52.1/24", "dev", name], check=True)
        subprocess.run(["ip", "link", "set", name, "up"], check=True)
        eng = engines(f"-b={name}")  # the seed tutorial's spelling
        ok(eng.docker(*RUN, "-d", "--name", "ca", "busybox", "sleep", "60"))
        assert ip_of(eng, "ca").startswith("10.213.52.")
        assert pings(eng, ip_of(eng, "ca"))
        eng.cleanup()
        assert os.path.exists(f"/sys/class/net/{name}")  # not ours to delete
    finally:
        subprocess.run(["ip", "link", "del", name], capture_output=True)


def test_a_subnet_taken_while_the_engine_was_down_is_given_up(engines):
    first = engines()
    before = json.loads(ok(first.docker("network", "inspect", "bridge")))[0]["IPAM"]["Config"][0]
    first.stop()  # no containers: its bridge goes, the subnet is free on the host
    gateway, plen = before["Gateway"], before["Subnet"].split("/")[1]
    second = engines("--bip", f"{gateway}/{plen}")
    assert pings(second, gateway)
    first.start()
    after = json.loads(ok(first.docker("network", "inspect", "bridge")))[0]["IPAM"]["Config"][0]
    assert after["Subnet"] != before["Subnet"]
    ok(first.docker(*RUN, "-d", "--name", "cx", "busybox", "sleep", "60"))
    assert pings(first, ip_of(first, "cx"))


def test_iptables_false_adds_no_rules(engines):
    eng = engines("--iptables=false")
    ok(eng.docker(*RUN, "-d", "--name", "ca", "busybox", "sleep", "60"))
    gw = json.loads(ok(eng.docker("network", "inspect", "bridge")))[0]["IPAM"]["Config"][0]["Gateway"]
    assert pings(eng, gw)
    assert host_state(eng.prefix, eng.root)["iptables"] == []
