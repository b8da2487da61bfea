from skiff.cluster.scheduler.framework import CycleState
from skiff.cluster.scheduler.plugins.nodeports import REASON, NodePorts
from tests.unit.scheduler.fakes import info, node, pod

plugin = NodePorts()


def web(name: str, port: int = 8080, ip: str | None = None, proto: str = "TCP"):
    p = {"containerPort": 80, "hostPort": port, "protocol": proto}
    if ip:
        p["hostIP"] = ip
    return pod(name, ports=[p])


def test_host_port_conflicts():
    n = info(node("n"), web("a"))
    assert plugin.filter(CycleState(), web("b"), n).reasons == [REASON]
    assert plugin.filter(CycleState(), web("c", port=8081), n).ok
    assert plugin.filter(CycleState(), web("d", proto="UDP"), n).ok


def test_specific_addresses():
    n = info(node("n"), web("a", ip="10.0.0.1"))
    assert plugin.filter(CycleState(), web("b", ip="10.0.0.2"), n).ok
    assert not plugin.filter(CycleState(), web("c", ip="10.0.0.1"), n).ok
    assert not plugin.filter(CycleState(), web("d"), n).ok  # 0.0.0.0 overlaps every address


def test_removing_the_pod_frees_the_port():
    n = info(node("n"), web("a"))
    n.remove_pod("default/a")
    assert plugin.filter(CycleState(), web("b"), n).ok
