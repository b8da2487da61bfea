"""Networks through the skiff CLI (same output as the docker CLI against the same engine) and
through docker-py: create, ls, inspect, connect, disconnect, rm, prune, and their errors."""

import json

import pytest

from tests.support.names import unique_names
from tests.support.procs import ok

pytestmark = [pytest.mark.root, pytest.mark.interop]


@pytest.fixture
def name(engine):
    with unique_names(engine, "ni") as new:
        yield new


def test_skiff_network_commands_match_docker(engine, name):
    net, c = name("net"), name()
    nid = ok(engine.skiff("network", "create", "--subnet", "10.214.1.0/24", "--ip-range", "10.214.1.128/25",
                          "--label", "k=v", net)).strip()
    assert len(nid) == 64
    for fmt in ("table", "{{.Name}} {{.Driver}} {{.Scope}} {{.Internal}} {{.Labels}}"):
        assert ok(engine.skiff("network", "ls", "--format", fmt)) == ok(engine.docker("network", "ls", "--format", fmt))
    assert ok(engine.skiff("network", "ls", "-q", "--filter", f"name={net}")).strip() == nid[:12]
    shown = json.loads(ok(engine.skiff("network", "inspect", net)))[0]
    assert shown["IPAM"]["Config"] == [{"Subnet": "10.214.1.0/24", "Gateway": "10.214.1.1",
                                        "IPRange": "10.214.1.128/25"}]
    assert shown["Labels"] == {"k": "v"}
    ok(engine.skiff("run", "-d", "--name", c, "--network", net, "--network-alias", "api", "busybox", "sleep", "60"))
    ip = json.loads(ok(engine.skiff("inspect", c)))[0]["NetworkSettings"]["Networks"][net]["IPAddress"]
    assert ip.startswith("10.214.1.") and int(ip.rsplit(".", 1)[1]) >= 128  # drawn from the ip-range
    ok(engine.skiff("network", "disconnect", net, c))
    ok(engine.skiff("network", "connect", "--ip", "10.214.1.7", net, c))
    assert "10.214.1.7/24" in ok(engine.skiff("exec", c, "ip", "-4", "-o", "addr"))
    r = engine.skiff("network", "rm", net)
    assert r.returncode == 1 and b"has active endpoints" in r.stderr
    r = engine.skiff("run", "--rm", "--ip", "10.214.1.9", "busybox", "true")
    assert r.returncode == 125 and b"supported on user defined networks only" in r.stderr
    ok(engine.skiff("rm", "-f", c))
    assert ok(engine.skiff("network", "rm", net)).strip() == net
    r = engine.skiff("network", "rm", net)
    assert r.returncode == 1 and f"network {net} not found".encode() in r.stderr


def test_docker_py_networks(engine, docker_client, name):
    docker = pytest.importorskip("docker")
    types = docker.types
    net_name, c = name("net"), name()
    ipam = types.IPAMConfig(pool_configs=[types.IPAMPool(subnet="10.214.2.0/24", gateway="10.214.2.1")])
    net = docker_client.networks.create(net_name, driver="bridge", ipam=ipam, labels={"a": "b"},
                                        options={"com.docker.network.bridge.enable_icc": "true"})
    assert net.attrs["IPAM"]["Config"][0]["Subnet"] == "10.214.2.0/24"
    assert docker_client.networks.get(net_name).id == net.id
    assert [n.name for n in docker_client.networks.list(filters={"label": "a=b"})] == [net_name]
    ctr = docker_client.containers.run("busybox", ["sleep", "60"], name=c, detach=True, network=net_name)
    net.reload()
    assert [x.id for x in net.containers] == [ctr.id]
    second = docker_client.networks.create(name("net"))
    second.connect(ctr, aliases=["side"])
    ctr.reload()
    assert set(ctr.attrs["NetworkSettings"]["Networks"]) == {net_name, second.name}
    assert ctr.attrs["NetworkSettings"]["Networks"][second.name]["Aliases"] == ["side"]
    second.disconnect(ctr)
    with pytest.raises(docker.errors.APIError) as e:
        docker_client.networks.create(net_name)
    assert e.value.status_code == 409
    with pytest.raises(docker.errors.APIError) as e:
        docker_client.networks.create(name("net"), ipam=types.IPAMConfig(
            pool_configs=[types.IPAMPool(subnet="10.214.2.64/26")]))
    assert e.value.status_code == 403 and "overlaps" in str(e.value)
    with pytest.raises(docker.errors.APIError) as e:
        net.remove()
    assert e.value.status_code == 403
    with pytest.raises(docker.errors.NotFound):
        docker_client.networks.get("no-such-network-zz")
    ctr.remove(force=True)
    net.remove()
    second.remove()
    pruned = docker_client.networks.prune()
    assert net_name not in (pruned.get("NetworksDeleted") or [])


def test_aux_addresses_are_reserved(engine, name):
    net = name("net")
    ok(engine.skiff("network", "create", "--subnet", "10.214.3.0/29", "--aux-address", "router=10.214.3.2", net))
    cfg = json.loads(ok(engine.docker("network", "inspect", net)))[0]["IPAM"]["Config"][0]
    assert cfg["AuxiliaryAddresses"] == {"router": "10.214.3.2"}
    out = ok(engine.docker("run", "--pull", "never", "--rm", "--network", net, "busybox", "ip", "-4", "-o", "addr"))
    assert "10.214.3.3/29" in out  # .1 the gateway, .2 reserved
