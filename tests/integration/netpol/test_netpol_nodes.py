"""NetworkPolicy enforced by the agents of a two-node cluster (each node in a network namespace of
its own on a private LAN), driven by the real kubectl: busybox httpd pods, default-deny ingress,
allow by pod label, by namespace label, by ipBlock with except, by port, egress denied except DNS,
policies removed and traffic flowing again, and no chain left after a clean stop."""

import json
import secrets
import shutil
import subprocess

import pytest

from tests.integration.proxy.test_proxy_nodes import kubectl, wait
from tests.support.nodelan import lan_cluster

pytestmark = [pytest.mark.root, pytest.mark.slow]

# two httpd daemons (busybox httpd without -f backgrounds itself), then a process that stays
WEB = ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && httpd -p 80 -h /www && httpd -p 8080 -h /www "
       "&& exec sleep 100000"]
SLEEP = ["sleep", "100000"]
NS = "np-" + secrets.token_hex(2)
OUTSIDE = "np-out-" + secrets.token_hex(2)


def run_pod(srv, ns, name, node, command, labels=None):
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": labels or {}},
            "spec": {"nodeName": node, "terminationGracePeriodSeconds": 0, "containers": [{
                "name": "main", "image": "busybox:latest", "imagePullPolicy": "IfNotPresent", "command": command}]}}
    kubectl(srv, "apply", "-f", "-", input=json.dumps(body))

    def ready():
        p = json.loads(kubectl(srv, "get", "pod", name, "-n", ns, "-o", "json"))
        ok = p["status"].get("podIP") and any(c["type"] == "Ready" and c["status"] == "True"
                                              for c in p["status"].get("conditions") or [])
        return p["status"]["podIP"] if ok else None
    return wait(ready, f"pod {ns}/{name} ready")


@pytest.fixture(scope="module")
def lan(busybox_archive):
    if not shutil.which("kubectl"):
        pytest.skip("kubectl is not installed")
    with lan_cluster(busybox_archive, 2, "np") as (srv, agents, net, root):
        kubectl(srv, "create", "namespace", NS)
        kubectl(srv, "create", "namespace", OUTSIDE)
        kubectl(srv, "label", "namespace", OUTSIDE, "team=friends")
        for ns in (NS, OUTSIDE):
            srv.wait_for(f"/api/v1/namespaces/{ns}/serviceaccounts/default")
        n0, n1 = agents[0].node_name, agents[1].node_name
        ips = {"web": run_pod(srv, NS, "web", n0, WEB, {"app": "web"}),
               "friend": run_pod(srv, NS, "friend", n1, SLEEP, {"role": "friend"}),
               "near": run_pod(srv, NS, "near", n0, SLEEP, {"role": "friend"}),
               "stranger": run_pod(srv, NS, "stranger", n1, SLEEP),
               "outsider": run_pod(srv, OUTSIDE, "outsider", n0, SLEEP)}
        yield srv, agents, net, ips


def reaches(srv, pod, ip, port=80, ns=NS):
    r = srv.kubectl("exec", pod, "-n", ns, "--", "timeout", "3", "wget", "-qO-", f"http://{ip}:{port}/")
    return r.returncode == 0 and b"web" in r.stdout


def expect(srv, ips, want):
    """Every (client, port) → reachable? holds, each waited for while the agents sync."""
    for (client, port), allowed in want.items():
        ns = OUTSIDE if client == "outsider" else NS
        wait(lambda c=client, p=port, n=ns, a=allowed: reaches(srv, c, ips["web"], p, n) == a,
             f"{client} -> web:{port} {'allowed' if allowed else 'blocked'}")


def apply_policy(srv, name, spec):
    body = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": name, "namespace": NS},
            "spec": spec}
    kubectl(srv, "apply", "-f", "-", input=json.dumps(body))


@pytest.fixture
def policies(lan):
    yield
    kubectl(lan[0], "delete", "networkpolicies", "--all", "-n", NS)


ALL_CLIENTS = ("friend", "near", "stranger", "outsider")


def test_without_a_policy_everything_reaches_the_web_pod(lan):
    srv, _, _, ips = lan
    expect(srv, ips, {(c, 80): True for c in ALL_CLIENTS})


def test_default_deny_ingress_then_removed(lan, policies):
    srv, _, _, ips = lan
    apply_policy(srv, "deny", {"podSelector": {}, "policyTypes": ["Ingress"]})
    assert "deny" in kubectl(srv, "get", "netpol", "-n", NS)
    expect(srv, ips, {(c, 80): False for c in ALL_CLIENTS})
    kubectl(srv, "delete", "netpol", "deny", "-n", NS)
    expect(srv, ips, {(c, 80): True for c in ALL_CLIENTS})


def test_allow_from_pods_with_a_label_in_the_same_namespace(lan, policies):
    srv, _, _, ips = lan
    apply_policy(srv, "friends", {"podSelector": {"matchLabels": {"app": "web"}},
                                  "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "friend"}}}]}]})
    out = kubectl(srv, "get", "networkpolicy", "-n", NS)
    assert out.split("\n")[0].split() == ["NAME", "POD-SELECTOR", "AGE"] and "app=web" in out
    # a friend on the other node and one on the web pod's own node, not the others
    expect(srv, ips, {("stranger", 80): False, ("outsider", 80): False, ("friend", 80): True, ("near", 80): True})


def test_namespace_selector(lan, policies):
    srv, _, _, ips = lan
    apply_policy(srv, "from-friends-ns", {"podSelector": {}, "ingress": [{"from": [
        {"namespaceSelector": {"matchLabels": {"team": "friends"}}}]}]})
    expect(srv, ips, {("friend", 80): False, ("outsider", 80): True})


def test_ip_block_with_except(lan, policies):
    srv, _, net, ips = lan
    node1_pods = net.nodes[1].pod_bip.rsplit(".", 1)[0] + ".0/24"
    apply_policy(srv, "from-node1", {"podSelector": {}, "ingress": [{"from": [
        {"ipBlock": {"cidr": node1_pods, "except": [f"{ips['stranger']}/32"]}}]}]})
    expect(srv, ips, {("stranger", 80): False, ("near", 80): False, ("friend", 80): True})


def test_port_restricted(lan, policies):
    srv, _, _, ips = lan
    apply_policy(srv, "only-8080", {"podSelector": {"matchLabels": {"app": "web"}},
                                    "ingress": [{"ports": [{"port": 8080, "protocol": "TCP"}]}]})
    expect(srv, ips, {("friend", 80): False, ("friend", 8080): True})


def test_egress_denied_except_dns(lan, policies):
    srv, _, _, ips = lan
    apply_policy(srv, "dns-only", {"podSelector": {"matchLabels": {"role": "friend"}}, "policyTypes": ["Egress"],
                                   "egress": [{"ports": [{"port": 53, "protocol": "UDP"},
                                                         {"port": 53, "protocol": "TCP"}]}]})
    expect(srv, ips, {("friend", 80): False, ("near", 80): False, ("stranger", 80): True})
    r = srv.kubectl("exec", "friend", "-n", NS, "--", "nslookup", "kubernetes.default.svc.cluster.local")
    assert r.returncode == 0, (r.stdout, r.stderr)


def saved_in(node):
    return subprocess.run([*node.wrap, "iptables-save"], capture_output=True, text=True).stdout


def test_a_crashed_agents_chains_are_replaced_at_its_next_start(lan, policies):
    srv, agents, net, ips = lan
    apply_policy(srv, "deny", {"podSelector": {}, "policyTypes": ["Ingress"]})
    pod_chain = agents[1].prefix + "-N-I-"
    wait(lambda: pod_chain in saved_in(net.nodes[1]), "the ingress chains of node 1's pods")
    agents[1].kill()
    kubectl(srv, "delete", "netpol", "deny", "-n", NS)
    assert pod_chain in saved_in(net.nodes[1])  # a kill -9 cleans nothing
    agents[1].start()
    assert pod_chain not in saved_in(net.nodes[1])  # gone by the time the agent is ready
    assert agents[1].prefix + "-N-FORWARD" in saved_in(net.nodes[1])


def test_disable_network_policy_enforces_nothing_and_removes_leftovers(lan, policies):
    srv, agents, net, ips = lan
    apply_policy(srv, "deny", {"podSelector": {}, "policyTypes": ["Ingress"]})
    pod_chain = agents[1].prefix + "-N-I-"
    wait(lambda: pod_chain in saved_in(net.nodes[1]), "the ingress chains of node 1's pods")
    agents[1].kill()
    agents[1].extra_args = [*agents[1].extra_args, "--disable-network-policy"]
    agents[1].start()
    assert agents[1].prefix + "-N-" not in saved_in(net.nodes[1])
    expect(srv, ips, {("friend", 80): False})  # node 0 still enforces for its web pod


def test_a_clean_stop_leaves_no_chain(lan):
    srv, agents, net, ips = lan
    apply_policy(srv, "deny", {"podSelector": {}, "policyTypes": ["Ingress"]})
    prefix = agents[0].prefix + "-N-"
    wait(lambda: prefix + "I-" in saved_in(net.nodes[0]), "the web pod's ingress chain")
    agents[0].stop()
    assert prefix not in saved_in(net.nodes[0])
