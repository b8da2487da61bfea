"""Pods reach the API server in-cluster: `skiff server` on every address advertises the host's
primary IPv4, keeps the `kubernetes` Endpoints and EndpointSlice at it, and a busybox pod with a
projected service-account token reaches https://kubernetes.default.svc/api through the cluster
DNS and the Service proxy; NodePorts and ServiceLB answer on that address; a restart with another
advertise address and port corrects both objects (real kubectl and the kubernetes client)."""

import json
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from skiff.cluster.kubelet.node import primary_ipv4
from tests.integration.proxy.test_proxy_server_agent import HTTPD, Node
from tests.support.agent import remove_node_state
from tests.support.server import Server, free_port

SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
# what the ServiceAccount admission plugin mounts upstream as kube-api-access-*
TOKEN_VOLUME = {"name": "kube-api-access", "projected": {"defaultMode": 420, "sources": [
    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
    {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
    {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1",
                                                                  "fieldPath": "metadata.namespace"}}]}}]}}


def kubernetes_slice(kubectl) -> dict:
    return json.loads(kubectl("get", "endpointslice", "kubernetes", "-n", "default", "-o", "json"))


def diagnose(node) -> str:
    """What the pod's name lookup and the host's rules for the two cluster IPs say (agents of other
    servers in the host's network namespace can shadow them: docs/services.md, Limits)."""
    lookup = node.exec("incluster", "timeout", "10", "nslookup", "kubernetes.default.svc.cluster.local")
    nat = subprocess.run(["iptables-save", "-t", "nat"], capture_output=True, text=True).stdout
    rules = [line for line in nat.splitlines() if "10.43.0.1/32" in line or "10.43.0.10/32" in line]
    dns_links = subprocess.run(["ip", "-4", "-o", "addr", "show", "to", "10.43.0.10/32"], capture_output=True,
                               text=True).stdout
    return "\n".join([f"prefix {node.prefix}", (lookup.stdout + lookup.stderr).decode(), *rules, dns_links,
                      node.srv.log()[-2000:]])


@pytest.fixture(scope="module")
def node(busybox_archive):
    if not shutil.which("kubectl"):
        pytest.skip("kubectl is not installed")
    if primary_ipv4() == "127.0.0.1":
        pytest.skip("this host has no default route")
    root = Path(tempfile.mkdtemp(prefix="skiff-incluster-", dir="/tmp"))
    name = "ic-" + root.name[-6:].lower().replace("_", "x")
    srv = Server(root / "server", extra_args=["--node-name", name, "--bind-address", "0.0.0.0"], disable_agent=False)
    n = Node(srv, name, srv.data_dir.absolute() / "agent")
    try:
        srv.start_with_local_agent(name, busybox_archive)
        yield n
    finally:
        srv.stop()
        remove_node_state(n.agent_dir, n.prefix, root)
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.root
@pytest.mark.slow
def test_the_server_advertises_and_registers_the_primary_ipv4(node):
    host = primary_ipv4()
    out = node.kubectl("get", "endpointslices", "-n", "default")
    assert any(line.split()[:4] == ["kubernetes", "IPv4", str(node.srv.port), host] for line in out.splitlines()), out
    endpoints = json.loads(node.kubectl("get", "endpoints", "kubernetes", "-o", "json"))
    assert endpoints["subsets"][0]["addresses"] == [{"ip": host}]
    addresses = node.wait(["node", node.name], lambda o: bool(o["status"].get("addresses")))["status"]["addresses"]
    assert {"type": "InternalIP", "address": host} in addresses
    assert "https://127.0.0.1:" in node.srv.kubeconfig.read_text()  # as k3s writes it


@pytest.mark.root
@pytest.mark.slow
def test_a_pod_reaches_the_api_server_by_its_service_name_with_its_token(node):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "incluster"}, "spec": {
        "terminationGracePeriodSeconds": 0, "volumes": [TOKEN_VOLUME],
        "containers": [{"name": "main", "image": "busybox:latest", "imagePullPolicy": "IfNotPresent",
                        "command": ["sleep", "3600"],
                        "volumeMounts": [{"name": "kube-api-access", "mountPath": SA_DIR, "readOnly": True}]}]}}
    node.kubectl("apply", "-f", "-", input=json.dumps(pod))
    node.ready_pods("!app", 1)
    assert node.exec("incluster", "cat", f"{SA_DIR}/namespace").stdout == b"default"
    cmd = (f'wget --no-check-certificate --header "Authorization: Bearer $(cat {SA_DIR}/token)" '
           "-qO- https://kubernetes.default.svc/api")
    deadline, last = time.monotonic() + 60, None
    while time.monotonic() < deadline:  # the proxy's rules and the DNS index follow the slice
        last = node.exec("incluster", "timeout", "10", "sh", "-c", cmd)
        if last.returncode == 0:
            break
        time.sleep(0.5)
    assert last is not None and last.returncode == 0, (last, diagnose(node))
    versions = json.loads(last.stdout)
    assert versions["kind"] == "APIVersions" and versions["versions"] == ["v1"]
    assert versions["serverAddressByClientCIDRs"]
    # without the token the server answers, but as nobody
    anon = node.exec("incluster", "timeout", "10", "wget", "--no-check-certificate", "-qO-",
                     "https://10.43.0.1/api/v1/namespaces/default/pods")
    assert anon.returncode != 0


@pytest.mark.root
@pytest.mark.slow
def test_nodeport_and_servicelb_answer_on_the_primary_ipv4(node):
    host = primary_ipv4()
    node.deploy("web", 1, HTTPD)
    pods = node.ready_pods("app=web", 1)
    node.kubectl("expose", "deployment", "web", "--name=web-lb", "--type=LoadBalancer", "--port=8080",
                 "--target-port=80")
    node.endpoints("web-lb", 1)
    svc = node.wait(["service", "web-lb"], lambda o: bool((o["status"].get("loadBalancer") or {}).get("ingress")))
    assert svc["status"]["loadBalancer"]["ingress"] == [{"ip": host, "ipMode": "VIP"}] or \
        [i["ip"] for i in svc["status"]["loadBalancer"]["ingress"]] == [host]
    node_port = svc["spec"]["ports"][0]["nodePort"]
    for url in (f"http://{host}:{node_port}/", f"http://{host}:8080/"):
        assert fetch_once_routed(url) == pods[0]["metadata"]["name"]


def fetch_once_routed(url: str, timeout: float = 60) -> str:
    """The body at url, asked again while the connection is refused: the load balancer's rule is
    written by the proxy's next sync after the Service's status gets its ingress address (a
    debounced sync that can come seconds later under load), so a first try may beat it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as resp:
                return resp.read().decode().strip()
        except urllib.error.URLError as e:
            if not isinstance(e.reason, ConnectionRefusedError) or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_a_restart_with_another_address_and_port_corrects_endpoints_and_slice():
    """No agent needed: the reconciler is the API server's own."""
    from kubernetes import config

    if not shutil.which("kubectl"):
        pytest.skip("kubectl is not installed")
    srv = Server()
    try:
        srv.start()
        first = kubernetes_slice(lambda *a: srv.kubectl(*a).stdout)
        assert first["endpoints"][0]["addresses"] == ["127.0.0.1"]
        assert first["ports"][0]["port"] == srv.port
        srv.stop()
        srv.port = free_port()
        srv.url = f"https://127.0.0.1:{srv.port}"
        srv.extra_args = ["--advertise-address", "192.0.2.77"]
        srv.start()
        api = config.new_client_from_config(str(srv.kubeconfig))
        try:
            from kubernetes import client

            slice_ = client.DiscoveryV1Api(api).read_namespaced_endpoint_slice("kubernetes", "default")
            assert slice_.endpoints[0].addresses == ["192.0.2.77"]
            assert (slice_.ports[0].name, slice_.ports[0].port) == ("https", srv.port)
            assert slice_.metadata.uid == first["metadata"]["uid"]  # corrected, not replaced
            core = client.CoreV1Api(api)
            ep = core.read_namespaced_endpoints("kubernetes", "default")
            assert [a.ip for a in ep.subsets[0].addresses] == ["192.0.2.77"]
            assert ep.subsets[0].ports[0].port == srv.port
            assert core.read_namespaced_service("kubernetes", "default").spec.ports[0].target_port == srv.port
        finally:
            api.close()
        out = srv.kubectl("get", "endpointslices", "-n", "default").stdout.decode()
        assert any(line.split()[:4] == ["kubernetes", "IPv4", str(srv.port), "192.0.2.77"]
                   for line in out.splitlines()), out
    finally:
        srv.cleanup()
