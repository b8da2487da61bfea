"""Network records made by hand for the unit tests (no root, no netlink)."""

from skiff.engine.network import model
from skiff.engine.network.config import NetworkConfig
from skiff.engine.network.ipam import Pool
from skiff.engine.network.model import Endpoint, Network
from skiff.engine.network.service import NetworkService

CID_A = "a" * 64
CID_B = "b" * 64


def make_network(name: str, nid: str, subnet: str, **kw) -> Network:
    return Network(id=nid, name=name, driver="bridge", created="2026-01-01T00:00:00Z",
                   bridge=model.bridge_name("skT", nid), pool=Pool.create(subnet), **kw)


def plug(net: Network, cid: str, name: str, aliases=()) -> Endpoint:
    assert net.pool is not None
    ip = str(net.pool.allocate(cid))
    ep = Endpoint(id="e" * 64, container_id=cid, container_name=name, network_id=net.id, ip=ip,
                  prefixlen=net.pool.subnet.prefixlen, gateway=str(net.pool.gateway), mac="02:42:0a:00:00:02",
                  ifname=model.veth_name("skT", "e" * 64), inner="eth0", aliases=list(aliases))
    net.endpoints[cid] = ep
    return ep


def service_with_networks() -> NetworkService:
    svc = NetworkService("/nonexistent", events=None, cfg=NetworkConfig(prefix="skT"))
    for net in (make_network("bridge", "d" * 64, "172.30.0.0/16"), make_network("web", "1" * 64, "10.5.0.0/24"),
                make_network("db", "12" + "0" * 62, "10.6.0.0/24")):
        svc.nets[net.id] = net
    return svc
