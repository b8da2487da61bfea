"""Namespace files, veths and addresses through netns.py/netdev.py directly (root, no engine):
no helper processes, the peer born inside the namespace, nothing left after removal."""

import os
import secrets
import subprocess

import pytest

from skiff.engine.network import netdev, netns

pytestmark = pytest.mark.root


def inside(path: str, *cmd: str) -> str:
    return subprocess.run(["nsenter", f"--net={path}", *cmd], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def names(tmp_path):
    tag = "skt" + secrets.token_hex(3)
    made = {"bridge": tag + "0", "veth": tag + "v1", "ns": str(tmp_path / "ns")}
    yield made
    for link in (made["veth"], made["bridge"]):
        netdev.delete_link(link)
    netns.remove(made["ns"])


def test_namespace_veth_and_address(names):
    children_before = len(os.listdir(f"/proc/{os.getpid()}/task"))
    sock = netns.create(names["ns"])
    assert netns.is_mounted(names["ns"])
    netdev.ensure_bridge(names["bridge"], "10.213.77.1", 24)
    netdev.add_veth(names["veth"], names["ns"], "eth0", netdev.mac_for("10.213.77.5"), names["bridge"])
    with netdev.inside(sock) as ipr:
        netdev.configure(ipr, "eth0", "10.213.77.5", 24, "10.213.77.1", lo=True)
        assert netdev.has_default_route(ipr)
    assert len(os.listdir(f"/proc/{os.getpid()}/task")) == children_before  # the helper thread ended
    addrs = inside(names["ns"], "ip", "-4", "-o", "addr")
    assert "lo    inet 127.0.0.1/8" in addrs and "eth0    inet 10.213.77.5/24" in addrs
    assert "link/ether 02:42:0a:d5:4d:05" in inside(names["ns"], "ip", "link", "show", "eth0")
    assert "default via 10.213.77.1 dev eth0" in inside(names["ns"], "ip", "route")
    master = subprocess.run(["ip", "-o", "link", "show", names["veth"]], capture_output=True, text=True).stdout
    assert f"master {names['bridge']}" in master and "state UP" in master
    ping = subprocess.run(["busybox", "ping", "-c", "1", "-W", "2", "10.213.77.5"], capture_output=True)
    assert ping.returncode == 0
    # a second socket into the same namespace sees the same interfaces
    with netdev.inside(netns.open_socket(names["ns"])) as ipr:
        assert ipr.get_link_index("lo") == 1 and ipr.get_link_index("eth0") is not None
        assert ipr.get_link_index("eth1") is None
    netdev.delete_link(names["veth"])
    assert netdev.index_of(names["veth"]) is None
    netns.remove(names["ns"])
    assert not os.path.exists(names["ns"]) and not netns.is_mounted(names["ns"])
    netns.remove(names["ns"])  # twice is fine


def test_bridge_address_is_made_exclusive(names):
    netdev.ensure_bridge(names["bridge"], "10.213.78.1", 24)
    netdev.ensure_bridge(names["bridge"], "10.213.79.1", 24)
    assert netdev.bridge_addresses(names["bridge"]) == [("10.213.79.1", 24)]
