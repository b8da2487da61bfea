"""NetworkSettings of a container as inspect and ps show them, from the network service's
endpoints (no root: the service's records are filled by hand)."""

from skiff.engine.containers import views
from skiff.engine.containers.networking import NetworkingMixin
from skiff.engine.containers.record import Container, State
from tests.unit.network.records import CID_A, plug, service_with_networks


class Containers(NetworkingMixin):
    def __init__(self, network):
        self.network = network


def _container(mode: str, configs: dict, running: bool = True) -> Container:
    return Container(id=CID_A, name="alpha", created="2026-01-01T00:00:00Z", image_id="sha256:" + "0" * 64,
                     config={"Image": "busybox"}, host_config={"NetworkMode": mode},
                     networking_config={"EndpointsConfig": configs},
                     state=State(status="running" if running else "exited", pid=1 if running else 0))


def test_running_container_on_the_default_bridge_and_a_user_network():
    svc = service_with_networks()
    bridge_ep = plug(svc.get("bridge"), CID_A, "alpha")
    web_ep = plug(svc.get("web"), CID_A, "alpha", ["api"])
    svc.namespaces.add(CID_A)
    c = _container("bridge", {"bridge": {}, "web": {"Aliases": ["api"]}})
    ns = Containers(svc)._network_settings(c)
    assert ns is not None
    assert (ns["IPAddress"], ns["Gateway"], ns["MacAddress"]) == (bridge_ep.ip, "172.30.0.1", bridge_ep.mac)
    assert ns["Networks"]["web"]["IPAddress"] == web_ep.ip and ns["Networks"]["web"]["Aliases"] == ["api"]
    assert ns["SandboxKey"].endswith("/netns/" + CID_A)
    shown = views.inspect(c, {}, {"Name": "overlay2", "Data": {}}, net=ns)["NetworkSettings"]
    assert shown["IPAddress"] == bridge_ep.ip and set(shown["Networks"]) == {"bridge", "web"}
    assert shown["Bridge"] == "" and shown["Ports"] == {}  # the fields the network service leaves alone
    assert set(views.summary(c, "busybox", net=ns)["NetworkSettings"]["Networks"]) == {"bridge", "web"}


def test_stopped_container_keeps_its_networks_without_addresses():
    svc = service_with_networks()
    c = _container("web", {"web": {}}, running=False)
    ns = Containers(svc)._network_settings(c)
    assert ns is not None and "IPAddress" not in ns and "SandboxKey" not in ns
    assert ns["Networks"]["web"]["IPAddress"] == "" and ns["Networks"]["web"]["NetworkID"] == "1" * 64


def test_no_network_service_means_the_record_alone():
    c = _container("bridge", {})
    assert Containers(None)._network_settings(c) is None
