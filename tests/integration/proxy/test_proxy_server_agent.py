"""Services through the proxy of `skiff server`'s own node agent, driven by the real kubectl: a
Deployment of busybox httpd pods behind `kubectl expose`, reached from another pod and from the
host by cluster IP, by NodePort on a node address, with ClientIP affinity, refused when scaled to
0, a pod reaching itself through its service (hairpin), UDP with conntrack clean-up, and no chain
left once the agent stops."""

import hashlib
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.agent import remove_node_state
from tests.support.server import Server

pytestmark = [pytest.mark.root, pytest.mark.slow]

HTTPD = ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www"]


class Node:
    def __init__(self, srv: Server, name: str, agent_dir: Path):
        self.srv, self.name, self.agent_dir = srv, name, agent_dir
        self.prefix = "sn" + hashlib.sha256(str(agent_dir).encode()).hexdigest()[:6]

    def kubectl(self, *args, input=None, timeout=60):
        r = self.srv.kubectl(*args, input=input, timeout=timeout)
        assert r.returncode == 0, (args, r.stdout, r.stderr)
        return r.stdout.decode()

    def get(self, *what) -> dict:
        return json.loads(self.kubectl("get", *what, "-o", "json"))

    def wait(self, what, check, timeout=90):
        deadline = time.monotonic() + timeout
        obj: dict = {}
        while time.monotonic() < deadline:
            obj = self.get(*what)
            if check(obj):
                return obj
            time.sleep(0.3)
        raise AssertionError(f"{what}: {json.dumps(obj)[-2000:]}\n{self.srv.log()[-3000:]}")

    def ready_pods(self, selector, n):
        return self.wait(["pods", "-l", selector], lambda o: sum(
            1 for p in o["items"] if p["status"].get("podIP") and not p["metadata"].get("deletionTimestamp") and any(
                c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions") or []))
            == n)["items"]

    def endpoints(self, service, n):
        """Wait until the service's EndpointSlices hold n ready endpoints, and the proxy's rules
        balance over exactly those (its debounced sync can take more than a moment under load)."""
        def ready(o):
            return sum(1 for s in o["items"] for e in s.get("endpoints") or []
                       if (e.get("conditions") or {}).get("ready")) == n
        slices = self.wait(["endpointslices", "-l", f"kubernetes.io/service-name={service}"], ready)["items"]
        wanted = {f"{a}:{p['port']}" for s in slices for p in s.get("ports") or [] for e in s.get("endpoints") or []
                  if (e.get("conditions") or {}).get("ready") for a in e["addresses"]}
        balanced = re.compile(rf'--comment "default/{re.escape(service)}(?::\S+)? -> (\S+)"')
        deadline = time.monotonic() + 90
        while (got := {m.group(1) for line in our_chains(self.prefix) if (m := balanced.search(line))}) != wanted:
            assert time.monotonic() < deadline, f"{service}: the proxy balances over {got}, not {wanted}"
            time.sleep(0.2)

    def deploy(self, name, replicas, command=HTTPD):
        """A Deployment of busybox pods labelled app=NAME (kubectl create deployment would pull :latest)."""
        body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name}, "spec": {
            "replicas": replicas, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {
                "terminationGracePeriodSeconds": 0, "containers": [{
                    "name": "main", "image": "busybox:latest", "imagePullPolicy": "IfNotPresent",
                    "command": command}]}}}}
        self.kubectl("apply", "-f", "-", input=json.dumps(body))

    def exec(self, pod, *cmd, timeout=30):
        return self.srv.kubectl("exec", pod, "--", *cmd, timeout=timeout)


@pytest.fixture(scope="module")
def node(busybox_archive):
    if not shutil.which("kubectl"):
        pytest.skip("kubectl is not installed")
    root = Path(tempfile.mkdtemp(prefix="skiff-proxy-", dir="/tmp"))
    name = "px-" + root.name[-6:].lower().replace("_", "x")
    srv = Server(root / "server", extra_args=["--node-name", name], disable_agent=False)
    agent_dir = srv.data_dir.absolute() / "agent"
    n = Node(srv, name, agent_dir)
    try:
        srv.start_with_local_agent(name, busybox_archive)
        n.deploy("web", 3)
        n.kubectl("run", "client", "--image=busybox:latest", "--image-pull-policy=IfNotPresent", "--",
                  "sleep", "3600")
        yield n
    finally:
        srv.stop()
        remove_node_state(agent_dir, n.prefix, root)
        shutil.rmtree(root, ignore_errors=True)


def our_chains(prefix: str) -> list[str]:
    saved = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
    return [line for line in saved.splitlines() if f"{prefix}-K-" in line]


def fetch_from_pod(node, pod, url, timeout=5):
    r = node.exec(pod, "timeout", str(timeout), "wget", "-qO-", url)  # (this busybox's wget -T crashes)
    return r.returncode, (r.stdout + r.stderr).decode().strip()


def test_cluster_ip_reaches_every_backend_from_a_pod_and_the_host(node):
    pods = node.ready_pods("app=web", 3)
    node.kubectl("expose", "deployment", "web", "--port=80")
    node.endpoints("web", 3)
    node.ready_pods("run=client", 1)
    ip = node.get("service", "web")["spec"]["clusterIP"]
    names = {p["metadata"]["name"] for p in pods}
    seen = set()
    for _ in range(40):
        rc, out = fetch_from_pod(node, "client", f"http://{ip}/")
        assert rc == 0, out
        seen.add(out)
        if seen == names:
            break
    assert seen == names
    with urllib.request.urlopen(f"http://{ip}/", timeout=5) as resp:  # the host itself (nat OUTPUT)
        assert resp.read().decode().strip() in names
    assert any("default/web cluster IP" in line for line in our_chains(node.prefix))


def test_node_port_answers_on_a_node_address(node):
    node.ready_pods("app=web", 3)
    node.kubectl("expose", "deployment", "web", "--name=web-np", "--type=NodePort", "--port=8080",
                 "--target-port=80")
    node.endpoints("web-np", 3)
    port = node.get("service", "web-np")["spec"]["ports"][0]["nodePort"]
    cidr = node.get("node", node.name)["spec"]["podCIDR"]
    gateway = cidr.rsplit(".", 1)[0] + ".1"  # the node's pod bridge address: local to the node
    with urllib.request.urlopen(f"http://{gateway}:{port}/", timeout=5) as resp:
        assert resp.read().decode().strip().startswith("web-")
    rc, out = fetch_from_pod(node, "client", f"http://{gateway}:{port}/")
    assert rc == 0 and out.startswith("web-"), out


def test_client_ip_affinity_keeps_one_backend(node):
    node.ready_pods("app=web", 3)
    node.kubectl("expose", "deployment", "web", "--name=web-sticky", "--port=80", "--session-affinity=ClientIP")
    node.endpoints("web-sticky", 3)
    ip = node.get("service", "web-sticky")["spec"]["clusterIP"]
    seen = set()
    for _ in range(10):
        rc, out = fetch_from_pod(node, "client", f"http://{ip}/")
        assert rc == 0, out
        seen.add(out)
    assert len(seen) == 1, seen


def test_a_pod_reaches_itself_through_its_service(node):
    node.kubectl("run", "loner", "--image=busybox:latest", "--image-pull-policy=IfNotPresent",
                 "--labels=app=loner", "--", *HTTPD)
    node.ready_pods("app=loner", 1)
    node.kubectl("expose", "pod", "loner", "--port=80")
    node.endpoints("loner", 1)
    ip = node.get("service", "loner")["spec"]["clusterIP"]
    rc, out = fetch_from_pod(node, "loner", f"http://{ip}/")
    assert (rc, out) == (0, "loner")


def test_a_service_without_endpoints_refuses(node):
    node.deploy("gone", 1)
    node.ready_pods("app=gone", 1)
    node.kubectl("expose", "deployment", "gone", "--port=80")
    node.endpoints("gone", 1)
    ip = node.get("service", "gone")["spec"]["clusterIP"]
    assert fetch_from_pod(node, "client", f"http://{ip}/")[0] == 0
    node.kubectl("scale", "deployment", "gone", "--replicas=0")
    node.endpoints("gone", 0)
    rc, out = fetch_from_pod(node, "client", f"http://{ip}/")
    assert rc != 0 and "refused" in out.lower(), out
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((ip, 80), timeout=5).close()


class UdpEcho:
    """A UDP server on the host answering every datagram with its own name."""

    def __init__(self, address: str, name: str):
        self.name = name.encode()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((address, 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                _, peer = self.sock.recvfrom(512)
                self.sock.sendto(self.name, peer)
            except OSError:
                return

    def close(self):
        self.sock.close()


def udp_ask(ip, port, source_port):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", source_port))
        s.settimeout(2)
        s.sendto(b"?", (ip, port))
        try:
            return s.recv(512).decode()
        except (TimeoutError, ConnectionRefusedError):
            return ""


def test_udp_service_and_stale_flows_cleared_when_an_endpoint_goes(node):
    """A selector-less UDP Service whose two endpoints (EndpointSlices written by hand) are UDP
    servers on the node's bridge address; a flow pinned to one endpoint moves to the other once
    that one's slice is deleted (conntrack cleared), instead of timing out."""
    gateway = node.get("node", node.name)["spec"]["podCIDR"].rsplit(".", 1)[0] + ".1"
    servers = [UdpEcho(gateway, "one"), UdpEcho(gateway, "two")]
    try:
        svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "echo"},
               "spec": {"ports": [{"name": "echo", "port": 5300, "protocol": "UDP"}]}}
        node.kubectl("apply", "-f", "-", input=json.dumps(svc))
        for s in servers:
            sl = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
                  "metadata": {"name": f"echo-{s.name.decode()}", "labels": {
                      "kubernetes.io/service-name": "echo", "endpointslice.kubernetes.io/managed-by": "test"}},
                  "ports": [{"name": "echo", "port": s.port, "protocol": "UDP"}],
                  "endpoints": [{"addresses": [gateway], "conditions": {"ready": True}}]}
            node.kubectl("apply", "-f", "-", input=json.dumps(sl))
        node.endpoints("echo", 2)
        ip = node.get("service", "echo")["spec"]["clusterIP"]
        answers = {}
        for source in range(41000, 41040):
            answers[source] = udp_ask(ip, 5300, source)
            if set(answers.values()) == {"one", "two"}:
                break
        assert set(answers.values()) == {"one", "two"}, answers
        pinned = next(src for src, who in answers.items() if who == "one")
        assert udp_ask(ip, 5300, pinned) == "one"  # the flow stays on its endpoint
        node.kubectl("delete", "endpointslice", "echo-one")
        node.endpoints("echo", 1)
        # the proxy clears the flow's conntrack entry just after writing the rules: ask until it
        # has; were it never cleared, each ask would refresh the stale entry and keep "one"
        deadline, moved = time.monotonic() + 30, ""
        while (moved := udp_ask(ip, 5300, pinned)) != "two" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert moved == "two"
    finally:
        for s in servers:
            s.close()


def test_skiff_kubectl_expose_and_the_kubernetes_client_see_a_routed_service(node):
    """Our own kubectl makes the Service; the kubernetes Python client reads its endpoints."""
    node.ready_pods("app=web", 3)
    r = subprocess.run([sys.executable, "-m", "skiff", "kubectl", "expose", "deployment", "web", "--name=web-own",
                        "--port=81", "--target-port=80"], capture_output=True, env=node.srv.env, timeout=60)
    assert r.returncode == 0 and b"service/web-own exposed" in r.stdout, r.stderr
    node.endpoints("web-own", 3)
    kubernetes = pytest.importorskip("kubernetes")
    api = kubernetes.client.DiscoveryV1Api(kubernetes.config.new_client_from_config(str(node.srv.kubeconfig)))
    slices = api.list_namespaced_endpoint_slice("default", label_selector="kubernetes.io/service-name=web-own")
    ips = sorted(ep.addresses[0] for s in slices.items for ep in s.endpoints)
    assert ips == sorted(p["status"]["podIP"] for p in node.get("pods", "-l", "app=web")["items"])
    ip = node.get("service", "web-own")["spec"]["clusterIP"]
    rc, out = fetch_from_pod(node, "client", f"http://{ip}:81/")
    assert rc == 0 and out.startswith("web-"), out
