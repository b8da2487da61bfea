"""Cluster DNS on two node agents, each in a network namespace of its own: a pod on node B
resolves a Service whose pod runs on node A, every node publishes its kube-dns endpoint and
answers on its own IP, and a stopped agent leaves no `<prefix>dns0` link and no endpoint."""

import json
import shutil
import subprocess
import time

import pytest

from skiff.engine.network import dns_codec as codec
from tests.support.nodelan import lan_cluster

pytestmark = [pytest.mark.root, pytest.mark.slow]


@pytest.fixture(scope="module")
def lan(busybox_archive):
    if not shutil.which("kubectl"):
        pytest.skip("kubectl is not installed")
    with lan_cluster(busybox_archive, 2, "dns") as (srv, agents, net, _):
        yield srv, agents, net


def kubectl_json(srv, *args):
    r = srv.kubectl(*args, "-o", "json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def apply(srv, obj):
    r = srv.kubectl("apply", "-f", "-", input=json.dumps(obj))
    assert r.returncode == 0, r.stderr


def run_pod(srv, name, node, labels=None):
    apply(srv, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels or {}},
                "spec": {"nodeName": node, "terminationGracePeriodSeconds": 0, "containers": [{
                    "name": "main", "image": "busybox:latest", "imagePullPolicy": "IfNotPresent",
                    "command": ["sleep", "3600"]}]}})


def wait_running(srv, name, timeout=60):
    deadline = time.monotonic() + timeout
    pod = {}
    while time.monotonic() < deadline:
        pod = kubectl_json(srv, "get", "pod", name)
        if pod["status"].get("phase") == "Running" and pod["status"].get("podIP"):
            return pod
        time.sleep(0.2)
    raise AssertionError(f"pod {name} not Running: {pod.get('status')}")


def ask_in(netns: str, server: str, name: str) -> tuple[int, list]:
    """One udp query from inside a node's namespace (python in the netns)."""
    script = ("import socket,sys;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.settimeout(3);"
              f"s.sendto(bytes.fromhex('{codec.build_query(name).hex()}'),('{server}',53));"
              "sys.stdout.write(s.recv(4096).hex())")
    r = subprocess.run(["ip", "netns", "exec", netns, "python3", "-c", script], capture_output=True, timeout=20)
    assert r.returncode == 0, r.stderr
    flags, (answers, _, _) = codec.parse_reply(bytes.fromhex(r.stdout.decode()))
    return flags & 0xF, [v for _, _, _, v in answers]


def test_a_pod_on_node_b_resolves_a_service_on_node_a(lan):
    srv, agents, _ = lan
    run_pod(srv, "backend", agents[0].node_name, {"app": "backend"})
    apply(srv, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "backend"},
                "spec": {"selector": {"app": "backend"}, "ports": [{"port": 80}]}})
    run_pod(srv, "client", agents[1].node_name)
    wait_running(srv, "backend")
    wait_running(srv, "client")
    ip = kubectl_json(srv, "get", "service", "backend")["spec"]["clusterIP"]
    for _ in range(4):  # through the Service proxy, 10.43.0.10 is DNATed to either node's IP:53
        r = srv.kubectl("exec", "client", "--", "nslookup", "backend")
        assert f"Address: {ip}" in r.stdout.decode(), r.stdout + r.stderr


def test_every_node_publishes_and_answers_on_its_ip(lan):
    srv, agents, net = lan
    slices = kubectl_json(srv, "get", "endpointslices", "-n", "kube-system",
                          "-l", "kubernetes.io/service-name=kube-dns")["items"]
    by_node = {s["endpoints"][0]["nodeName"]: s["endpoints"][0]["addresses"] for s in slices}
    assert by_node == {a.node_name: [ns.ip] for a, ns in zip(agents, net.nodes, strict=True)}
    # node A's server, asked from node B's namespace at node A's address (what a DNAT to it does)
    rcode, answers = ask_in(net.nodes[1].name, net.nodes[0].ip, "kubernetes.default.svc.cluster.local")
    kubernetes_ip = kubectl_json(srv, "get", "service", "kubernetes")["spec"]["clusterIP"]
    assert (rcode, answers) == (codec.RCODE_OK, [kubernetes_ip])
    rcode, answers = ask_in(net.nodes[1].name, "10.43.0.10", "nothing-here.default.svc.cluster.local")
    assert (rcode, answers) == (codec.RCODE_NXDOMAIN, [])


def test_a_stopped_agent_leaves_no_link_and_no_endpoint(lan):
    srv, agents, net = lan
    node, ns = agents[1], net.nodes[1]
    link = f"{node.prefix}dns0"
    assert link in subprocess.run(["ip", "-n", ns.name, "link"], capture_output=True, text=True).stdout
    node.stop()
    assert link not in subprocess.run(["ip", "-n", ns.name, "link"], capture_output=True, text=True).stdout
    r = srv.kubectl("get", "endpointslice", "-n", "kube-system", f"kube-dns-{node.node_name}")
    assert r.returncode == 1 and b"NotFound" in r.stderr, r.stderr
    node.start()  # the module's cleanup expects it running
    assert link in subprocess.run(["ip", "-n", ns.name, "link"], capture_output=True, text=True).stdout
