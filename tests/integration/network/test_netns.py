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


def test_a_spare_namespace_made_ahead_is_bound_at_start(names):
    """SpareNamespace: made by a background thread, held by a descriptor only; `create` binds
    it to the container's path, a pristine namespace (only lo, down) apart from the host's."""
    import time

    spares = netns.SpareNamespace()
    spares.refill()
    deadline = time.monotonic() + 10
    spare = spares.take()
    while spare is None and time.monotonic() < deadline:
        time.sleep(0.01)
        spare = spares.take()
    assert spare is not None and spares.take() is None  # taken once
    worker = spares._worker
    assert worker is not None  # back in the engine's namespace, holding none alive
    assert os.stat(f"/proc/self/task/{worker.native_id}/ns/net").st_ino == os.stat("/proc/self/ns/net").st_ino
    sock = netns.create(names["ns"], spare)
    assert netns.is_mounted(names["ns"])
    assert os.stat(names["ns"]).st_ino != os.stat("/proc/self/ns/net").st_ino
    links = inside(names["ns"], "ip", "-o", "link")
    assert links.count("\n") == 1 and "lo:" in links and "state DOWN" in links
    with netdev.inside(sock) as conn:
        netdev.lo_up(conn)
    assert "state UNKNOWN" in inside(names["ns"], "ip", "-o", "link", "show", "lo")
    spares.refill()
    spares.close()  # a spare still on its way or ready is released, the worker ends
    worker.join(10)
    assert spares.take() is None and not worker.is_alive()
