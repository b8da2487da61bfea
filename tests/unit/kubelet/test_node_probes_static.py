import asyncio

import pytest

from skiff.cluster.kubelet.node import HostFacts, node_object, node_status, parse_taint
from skiff.cluster.kubelet.probes import ProbeState, apply_result, resolve_port, run_probe
from skiff.cluster.kubelet.static import load_manifest

FACTS = HostFacts(2, 1024, 10 * 1024 ** 3, "6.1.0", "Debian GNU/Linux 12", "mid", "bid", "amd64", "host")


def test_node_object_and_status():
    node = node_object("n1", FACTS, {"disk": "ssd"}, [parse_taint("dedicated=gpu:NoSchedule")])
    labels = node["metadata"]["labels"]
    assert labels["kubernetes.io/hostname"] == "n1" and labels["kubernetes.io/os"] == "linux"
    assert labels["kubernetes.io/arch"] == "amd64" and labels["disk"] == "ssd"
    assert node["spec"]["taints"] == [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]
    status = node_status(FACTS, "10.0.0.2", "n1", [], [])
    assert status["capacity"] == {"cpu": "2", "memory": "1024Ki", "pods": "110",
                                  "ephemeral-storage": f"{10 * 1024 ** 2}Ki", "hugepages-2Mi": "0",
                                  "hugepages-1Gi": "0"}
    assert [c["type"] for c in status["conditions"]] == ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"]
    assert status["addresses"][0] == {"type": "InternalIP", "address": "10.0.0.2"}
    again = node_status(FACTS, "10.0.0.2", "n1", [{"type": "Ready", "status": "True",
                                                   "lastTransitionTime": "2020-01-01T00:00:00Z"}], [])
    assert again["conditions"][-1]["lastTransitionTime"] == "2020-01-01T00:00:00Z"


def test_bad_taints():
    for bad in ("x", "x=y", "x=y:Sometimes"):
        with pytest.raises(ValueError):
            parse_taint(bad)
    assert parse_taint("k:NoExecute") == {"key": "k", "effect": "NoExecute"}


def test_probe_thresholds():
    st = ProbeState()
    assert not apply_result(st, True, 2, 3) and st.result is None
    assert apply_result(st, True, 2, 3) and st.result is True
    assert not apply_result(st, False, 2, 3) and not apply_result(st, False, 2, 3)
    assert apply_result(st, False, 2, 3) and st.result is False


def test_named_ports():
    c = {"name": "web", "ports": [{"name": "http", "containerPort": 8080}]}
    assert resolve_port("http", c) == 8080 and resolve_port(81, c) == 81 and resolve_port("82", c) == 82
    with pytest.raises(ValueError):
        resolve_port("nope", c)


def test_tcp_and_http_probes_against_a_local_server():
    async def main():
        async def handle(reader, writer):
            await reader.read(1024)
            writer.write(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
            writer.close()
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            tcp = await run_probe({"tcpSocket": {"port": port}}, {}, "127.0.0.1", None, "")
            http = await run_probe({"httpGet": {"path": "/healthz", "port": port}}, {}, "127.0.0.1", None, "")
        closed = await run_probe({"tcpSocket": {"port": port}}, {}, "127.0.0.1", None, "")
        return tcp, http, closed
    tcp, http, closed = asyncio.run(main())
    assert tcp == (True, "")
    assert http == (False, "HTTP probe failed with statuscode: 500")
    assert closed[0] is False and "connection refused" in closed[1]


def test_static_manifest():
    text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: static-web\nspec:\n  containers:\n  - name: web\n" \
           "    image: busybox\n"
    pod = load_manifest(text, "node1")
    assert pod["metadata"]["name"] == "static-web-node1"
    assert pod["spec"]["nodeName"] == "node1"
    assert pod["metadata"]["annotations"]["kubernetes.io/config.source"] == "file"
    assert load_manifest(text, "node1")["metadata"]["uid"] == pod["metadata"]["uid"]
    assert load_manifest(text + "    imagePullPolicy: Never\n", "node1")["metadata"]["uid"] != pod["metadata"]["uid"]
    assert load_manifest("kind: Service\n", "node1") is None


def test_pressure_conditions_follow_the_default_eviction_thresholds():
    from skiff.cluster.kubelet.node import Pressure, measure_pressure

    calm = node_status(FACTS, "10.0.0.2", "n1", [], [], pressure=Pressure(2 * 1024 ** 3, 0.5, 0.9))
    assert {c["type"]: c["status"] for c in calm["conditions"]} == {
        "MemoryPressure": "False", "DiskPressure": "False", "PIDPressure": "False", "Ready": "True"}
    tight = node_status(FACTS, "10.0.0.2", "n1", [], [], pressure=Pressure(50 * 1024 ** 2, 0.05, 0.02))
    by = {c["type"]: c for c in tight["conditions"]}
    assert by["MemoryPressure"]["status"] == "True"
    assert by["MemoryPressure"]["reason"] == "KubeletHasInsufficientMemory"
    assert by["DiskPressure"]["message"] == "kubelet has disk pressure"
    assert by["PIDPressure"]["reason"] == "KubeletHasInsufficientPID"
    here = measure_pressure("/")
    assert here.memory_available > 0 and 0 <= here.disk_available_ratio <= 1
