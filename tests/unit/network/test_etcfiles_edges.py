"""NetworkEdges (containers/netedges.py) against a fake network service: the /etc files and link
environment a start writes, ports published on loopback with the iptables step recorded, the
embedded DNS attached only on user-defined networks. No root."""

import asyncio
import socket
from types import SimpleNamespace

import pytest

from skiff.common.errors import Conflict, InvalidArgument, NotFound
from skiff.engine.containers.netedges import NetworkEdges
from skiff.engine.network.attach import EndpointInfo
from skiff.engine.network.portmap import PortMapper


def ep(ip, default=True, net="bridge"):
    return EndpointInfo(network_id="n1", network_name=net, bridge="skt0", ip=ip, prefixlen=16, gateway="172.30.0.1",
                        mac="02:42:00:00:00:02", aliases=(), is_default_bridge=default, interface="eth0")


def container(cid, name, running=True, **hc):
    return SimpleNamespace(id=cid, name=name, state=SimpleNamespace(running=running),
                           config={"Hostname": cid[:12], "Env": ["PATH=/bin", "PGPASS=x"],
                                   "ExposedPorts": {"5432/tcp": {}}},
                           host_config=hc)


class FakeNetwork:
    prefix = "skt"
    nets: dict = {}

    def __init__(self, eps):
        self.eps = eps

    def endpoints(self, cid):
        return self.eps.get(cid, [])

    def resolve(self, cid, name):
        return []

    def find(self, name):
        return SimpleNamespace(pool=SimpleNamespace(gateway="172.30.0.1")) if name == "bridge" else None


class RecordingRules:
    def __init__(self):
        self.applied = []

    def apply(self, published):
        self.applied.append(published)

    def remove(self):
        pass


class FakeDns:
    def __init__(self):
        self.attached = {}

    async def attach(self, cid, path, upstreams=None):
        self.attached[cid] = (path, upstreams)

    async def detach(self, cid):
        self.attached.pop(cid, None)

    async def close(self):
        pass


def edges(tmp_path, eps, records, engine_dns=()):
    def lookup(ref):
        if ref not in records:
            raise NotFound(f"No such container: {ref}")
        return records[ref]

    resolv = tmp_path / "resolv.conf"
    resolv.write_text("nameserver 127.0.0.53\nnameserver 10.1.1.1\nsearch corp.example\n")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        lo = s.getsockname()[1]
    mapper = PortMapper("skt", rules=RecordingRules(), ephemeral=(lo, lo + 10))
    return NetworkEdges(tmp_path, FakeNetwork(eps), lookup, list(engine_dns), mapper=mapper, dns=FakeDns(),
                        resolv_path=str(resolv))


def test_link_files_and_env(tmp_path):
    db = container("d" * 64, "db")
    web = container("w" * 64, "web", Links=["/db:/web/database"], ExtraHosts=["gw:host-gateway"])
    e = edges(tmp_path, {db.id: [ep("172.30.0.2")], web.id: [ep("172.30.0.3")]}, {"db": db})
    targets = e.link_targets(web)
    env = e.prepare(web, tmp_path, e.network.endpoints(web.id), targets)
    assert "DATABASE_PORT_5432_TCP_ADDR=172.30.0.2" in env and "DATABASE_NAME=/web/database" in env
    assert "DATABASE_ENV_PGPASS=x" in env
    hosts = (tmp_path / "hosts").read_text().splitlines()
    assert hosts[-3:] == ["172.30.0.1\tgw", f"172.30.0.2\tdatabase {db.id[:12]} db", f"172.30.0.3\t{web.id[:12]}"]
    assert (tmp_path / "resolv.conf").read_text() == "nameserver 10.1.1.1\nsearch corp.example\n"
    assert (tmp_path / "hostname").read_text() == web.id[:12] + "\n"


def test_link_to_a_stopped_or_missing_container(tmp_path):
    db = container("d" * 64, "db", running=False)
    web = container("w" * 64, "web", Links=["db:db"])
    e = edges(tmp_path, {}, {"db": db})
    with pytest.raises(Conflict, match="Cannot link to a non running container: /db AS /web/db"):
        e.link_targets(web)
    with pytest.raises(NotFound):
        e.link_targets(container("x" * 64, "x", Links=["nope:n"]))


def test_user_network_resolv_and_dns_attach(tmp_path):
    c = container("c" * 64, "app", Dns=["192.0.2.53"])
    e = edges(tmp_path, {c.id: [ep("10.7.0.2", default=False, net="mynet")]}, {}, engine_dns=["9.9.9.9"])
    e.prepare(c, tmp_path, e.network.endpoints(c.id), [])
    assert (tmp_path / "resolv.conf").read_text() == "nameserver 127.0.0.11\nsearch corp.example\noptions ndots:0\n"

    async def main():
        await e.attach(c, e.network.endpoints(c.id), "/run/netns/x")
        assert e.dns.attached[c.id] == ("/run/netns/x", ["192.0.2.53"])
        await e.detach(c.id)
        assert c.id not in e.dns.attached

    asyncio.run(main())


def test_engine_dns_flag_applies_without_container_dns(tmp_path):
    c = container("c" * 64, "app")
    e = edges(tmp_path, {c.id: [ep("172.30.0.5")]}, {}, engine_dns=["9.9.9.9"])
    e.prepare(c, tmp_path, e.network.endpoints(c.id), [])
    assert (tmp_path / "resolv.conf").read_text().splitlines()[0] == "nameserver 9.9.9.9"


def test_ports_published_viewed_and_restored(tmp_path):
    c = container("c" * 64, "web", PortBindings={"5432/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]},
                  PublishAllPorts=False)
    e = edges(tmp_path, {c.id: [ep("127.0.0.1")]}, {})

    async def main():
        [b] = await e.attach(c, e.network.endpoints(c.id), None)
        assert e.ports_view(c) == {"5432/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(b.host_port)}]}
        assert e.port_summary(c) == [{"IP": "127.0.0.1", "PrivatePort": 5432, "PublicPort": b.host_port,
                                      "Type": "tcp"}]
        await e.mapper.unpublish(c.id)  # an engine restart: the record of the ports stays
        [again] = await e.attach(c, e.network.endpoints(c.id), None, restore=True)
        assert again == b
        await e.detach(c.id)
        assert e.ports_view(c) == {"5432/tcp": None}
        c.state.running = False
        assert e.ports_view(c) == {} and e.port_summary(c) == []
        await e.close()

    asyncio.run(main())


def test_resolve_name_dot_network(tmp_path):
    epa = SimpleNamespace(container_name="web", container_id="a" * 64, aliases=["front"], ip="10.7.0.2")
    epb = SimpleNamespace(container_name="app", container_id="b" * 64, aliases=[], ip="10.7.0.3")
    net = SimpleNamespace(name="mynet", builtin=False, endpoints={"a" * 64: epa, "b" * 64: epb})
    e = edges(tmp_path, {}, {})
    e.network.nets = {"n": net}
    assert e.resolve("b" * 64, "web.mynet.") == ["10.7.0.2"]
    assert e.resolve("b" * 64, "front.mynet") == ["10.7.0.2"]
    assert e.resolve("b" * 64, "web.othernet") == []
    assert e.resolve("c" * 64, "web.mynet") == []  # not on that network


def test_remove_link():
    from skiff.engine.containers.netedges import remove_link

    web = SimpleNamespace(name="web", host_config={"Links": ["/db:/web/database", "/c:/web/cache"]})
    saved = []

    def lookup(ref):
        if ref != "web":
            raise NotFound(f"No such container: {ref}")
        return web

    remove_link("/web/database", lookup, saved.append)
    assert web.host_config["Links"] == ["/c:/web/cache"] and saved == [web]
    remove_link("web/cache", lookup, saved.append)
    assert web.host_config["Links"] is None
    with pytest.raises(NotFound):
        remove_link("/web/cache", lookup, saved.append)
    with pytest.raises(InvalidArgument, match="cannot remove the default link name"):
        remove_link("web", lookup, saved.append)
    with pytest.raises(InvalidArgument, match="Cannot get parent /nope for link name /nope/x"):
        remove_link("/nope/x", lookup, saved.append)


@pytest.mark.parametrize("body, hc, message", [
    ({}, {"NetworkMode": "container:x", "PortBindings": {"80/tcp": []}}, "port publishing and the container type"),
    ({}, {"NetworkMode": "container:x", "PublishAllPorts": True}, "port publishing and the container type"),
    ({"ExposedPorts": {"80/tcp": {}}}, {"NetworkMode": "container:x"}, "port exposing and the container type"),
    ({}, {"NetworkMode": "container:x", "Dns": ["1.1.1.1"]}, "dns and the network mode"),
    ({}, {"NetworkMode": "container:x", "ExtraHosts": ["a:1.2.3.4"]}, "custom host-to-IP mapping"),
    ({}, {"NetworkMode": "container:x", "Links": ["db:db"]}, "container type network can't be used with links"),
    ({"Hostname": "h"}, {"NetworkMode": "container:x"}, "hostname and the network mode"),
    ({}, {"NetworkMode": "host", "Links": ["db:db"]}, "host type networking can't be used with links"),
    ({}, {"NetworkMode": "container:"}, "invalid container format container:<name|id>"),
])
def test_network_mode_conflicts(body, hc, message):
    from skiff.engine.containers.netedges import check_network_mode

    with pytest.raises(InvalidArgument, match=message) as e:
        check_network_mode(body, hc)
    assert e.value.status == 400


def test_network_mode_without_conflicts():
    from skiff.engine.containers.netedges import check_network_mode

    check_network_mode({"Hostname": "h", "ExposedPorts": {"80/tcp": {}}},
                       {"NetworkMode": "bridge", "PortBindings": {"80/tcp": []}, "Links": ["db:db"], "Dns": ["x"]})
    check_network_mode({}, {"NetworkMode": "host", "PortBindings": {"80/tcp": []}})


def test_link_names_for_ps():
    from skiff.engine.containers.netedges import link_names

    web = SimpleNamespace(host_config={"Links": ["/db:/web/db", "/cache:/web/c"]})
    app = SimpleNamespace(host_config={"Links": ["/db:/app/database"]})
    assert link_names([web, app, SimpleNamespace(host_config={})]) == {"db": ["/web/db", "/app/database"],
                                                                     "cache": ["/web/c"]}
