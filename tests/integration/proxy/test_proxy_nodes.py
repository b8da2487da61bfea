"""The proxy on several nodes, each agent in a network namespace of its own on a private LAN:
a backend on another node reached by cluster IP, NodePort and LoadBalancer answering on every
node's address from outside the cluster (the host), externalTrafficPolicy Local answering only
where a backend runs, --disable-kube-proxy writing no rule, and no chain left after a clean stop."""

import json
import secrets
import shutil
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from tests.support.agent import Agent
from tests.support.nodelan import lan_cluster

pytestmark = [pytest.mark.root, pytest.mark.slow]

HTTPD = ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www"]


@pytest.fixture(scope="module")
def lan(busybox_archive):
    if not shutil.which("kubectl"):
        pytest.skip("kubectl is not installed")
    with lan_cluster(busybox_archive, 2, "px") as cluster:
        yield cluster


def kubectl(srv, *args, input=None):
    r = srv.kubectl(*args, input=input)
    assert r.returncode == 0, (args, r.stderr)
    return r.stdout.decode()


def get(srv, *what):
    return json.loads(kubectl(srv, "get", *what, "-o", "json"))


def wait(check, what, timeout=60):
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"{what}: last {value!r}")


def run_pod(srv, name, node, command, labels=None):
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels or {}},
            "spec": {"nodeName": node, "terminationGracePeriodSeconds": 0, "containers": [{
                "name": "main", "image": "busybox:latest", "imagePullPolicy": "IfNotPresent", "command": command}]}}
    kubectl(srv, "apply", "-f", "-", input=json.dumps(body))
    return wait(lambda: (p := get(srv, "pod", name))["status"].get("podIP") and any(
        c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions") or []) and p,
        f"pod {name} ready")


def wait_endpoints(srv, service, n, nodes):
    wait(lambda: sum(1 for s in get(srv, "endpointslices", "-l", f"kubernetes.io/service-name={service}")["items"]
                     for e in s.get("endpoints") or [] if (e.get("conditions") or {}).get("ready")) == n,
         f"{service} endpoints")
    wait_rules(nodes, f'default/{service} cluster IP"')


def wait_rules(nodes, text, gone=False):
    """Until every node's proxy has written (or, with gone, removed) rules containing text: its
    debounced sync, slower under load than a fixed half second (a SYN sent before the DNAT rule
    sticks to an un-NATed conntrack entry)."""
    def done():
        return all((text in saved_in(ns.wrap)) != gone for ns in nodes)
    wait(done, f"{text!r} {'gone from' if gone else 'in'} every node's rules")


def http_get(url, timeout=3):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.read().decode().strip()
    except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
        return f"error: {e}"


def saved_in(ns_wrap):
    return subprocess.run([*ns_wrap, "iptables-save"], capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def backend(lan):
    srv, agents, _, _ = lan
    run_pod(srv, "far", agents[1].node_name, HTTPD, {"app": "far"})
    run_pod(srv, "near-client", agents[0].node_name, ["sleep", "3600"])
    return "far"


def test_a_backend_on_another_node_is_reached_by_cluster_ip(lan, backend):
    srv, agents, net, _ = lan
    kubectl(srv, "expose", "pod", "far", "--port=80", "--name=far")
    wait_endpoints(srv, "far", 1, net.nodes)
    ip = get(srv, "service", "far")["spec"]["clusterIP"]
    r = srv.kubectl("exec", "near-client", "--", "timeout", "5", "wget", "-qO-", f"http://{ip}/")
    assert (r.returncode, r.stdout.decode().strip()) == (0, "far"), r.stderr
    for a, ns in zip(agents, net.nodes, strict=True):  # every node has the service's rules
        assert f"{ip}/32" in saved_in(ns.wrap) and f"{a.prefix}-K-SVC-" in saved_in(ns.wrap)


def test_node_port_and_load_balancer_answer_on_every_node_address(lan, backend):
    srv, agents, net, _ = lan
    kubectl(srv, "expose", "pod", "far", "--port=8080", "--target-port=80", "--type=LoadBalancer", "--name=far-lb")
    wait_endpoints(srv, "far-lb", 1, net.nodes)
    port = get(srv, "service", "far-lb")["spec"]["ports"][0]["nodePort"]
    for ns in net.nodes:  # from the host, outside the cluster
        assert http_get(f"http://{ns.ip}:{port}/") == "far"
    ingress = wait(lambda: get(srv, "service", "far-lb")["status"].get("loadBalancer", {}).get("ingress"),
                   "load balancer ingress")
    assert sorted(i["ip"] for i in ingress) == sorted(ns.ip for ns in net.nodes)
    wait_rules(net.nodes, 'default/far-lb loadbalancer IP"')
    for ns in net.nodes:
        assert http_get(f"http://{ns.ip}:8080/") == "far"
    assert "LoadBalancer" in kubectl(srv, "get", "service", "far-lb")


def test_external_traffic_policy_local_answers_only_where_the_backend_runs(lan, backend):
    srv, _, net, _ = lan
    kubectl(srv, "expose", "pod", "far", "--port=80", "--type=NodePort", "--name=far-local")
    kubectl(srv, "patch", "service", "far-local", "-p", '{"spec":{"externalTrafficPolicy":"Local"}}')
    wait_endpoints(srv, "far-local", 1, net.nodes)
    port = get(srv, "service", "far-local")["spec"]["ports"][0]["nodePort"]
    assert http_get(f"http://{net.nodes[1].ip}:{port}/") == "far"
    assert http_get(f"http://{net.nodes[0].ip}:{port}/", timeout=2).startswith("error")
    # a pod on the node without a backend still gets the cluster-wide path
    r = srv.kubectl("exec", "near-client", "--", "timeout", "5", "wget", "-qO-", f"http://{net.nodes[0].ip}:{port}/")
    assert r.stdout.decode().strip() == "far", r.stderr


def test_a_crashed_agents_stale_chains_go_when_it_comes_back(lan, backend):
    srv, agents, net, _ = lan
    node, wrap = agents[0], net.nodes[0].wrap
    node.kill()  # -9: its rules stay (traffic keeps flowing meanwhile)
    stale = f"{node.prefix}-K-SVC-STALESTALE"
    subprocess.run([*wrap, "iptables", "-w", "-t", "nat", "-N", stale], check=True)
    ip = get(srv, "service", "far")["spec"]["clusterIP"]
    assert f"{ip}/32" in saved_in(wrap)
    node.start()
    wait_rules(net.nodes[:1], stale, gone=True)  # the restarted proxy's first sync, after the agent is ready
    saved = saved_in(wrap)
    assert stale not in saved and f"{ip}/32" in saved
    jumps = [ln for ln in saved.splitlines() if ln.startswith("-A PREROUTING") and f"{node.prefix}-K-" in ln]
    assert len(jumps) == 1, jumps  # taken over, not doubled
    r = srv.kubectl("exec", "near-client", "--", "timeout", "5", "wget", "-qO-", f"http://{ip}/")
    assert r.stdout.decode().strip() == "far", r.stderr


def test_without_br_netfilter_pods_on_one_node_still_reach_each_other_and_themselves(lan, backend):
    """A node whose bridge does not pass frames through iptables (a host without br_netfilter):
    clients on the pod bridge are masqueraded, so replies come back through conntrack."""
    srv, agents, net, _ = lan
    node, wrap = agents[0], net.nodes[0].wrap
    sysctl = "net.bridge.bridge-nf-call-iptables"
    subprocess.run([*wrap, "sysctl", "-qw", f"{sysctl}=0"], check=True)
    try:
        node.stop()
        node.start()
        run_pod(srv, "near", node.node_name, HTTPD, {"app": "near"})
        kubectl(srv, "expose", "pod", "near", "--port=80", "--name=near")
        wait_endpoints(srv, "near", 1, net.nodes)
        ip = get(srv, "service", "near")["spec"]["clusterIP"]
        for pod in ("near-client", "near"):  # a neighbour on the bridge, and the backend itself
            r = srv.kubectl("exec", pod, "--", "timeout", "5", "wget", "-qO-", f"http://{ip}/")
            assert (r.returncode, r.stdout.decode().strip()) == (0, "near"), (pod, r.stderr)
    finally:
        subprocess.run([*wrap, "sysctl", "-qw", f"{sysctl}=1"], check=True)


def test_disable_kube_proxy_writes_no_rule_and_a_clean_stop_leaves_no_chain(lan, backend):
    srv, agents, net, root = lan
    ns = net.add_node()
    quiet = Agent(srv.url, srv.extra_args[1], root / "quiet", node_name=f"px-quiet-{secrets.token_hex(2)}",
                  extra_args=["--bip", ns.pod_bip, "--disable-kube-proxy"], wrap=ns.wrap)
    try:
        quiet.start()
        assert "-K-" not in saved_in(ns.wrap)
    finally:
        quiet.cleanup()
    stopped = agents[1]
    assert f"{stopped.prefix}-K-" in saved_in(net.nodes[1].wrap)
    stopped.stop()
    try:
        assert f"{stopped.prefix}-K-" not in saved_in(net.nodes[1].wrap)
    finally:
        stopped.start()
