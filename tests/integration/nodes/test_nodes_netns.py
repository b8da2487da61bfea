"""Three node agents, each in a network namespace of its own on a private LAN, joined to one
server: distinct InternalIPs and podCIDRs, pods reaching each other by pod IP across nodes
(host-gw routes) and on one node, a join with a wrong token refused, and an agent killed -9
coming back with its pods re-adopted."""

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.agent import Agent
from tests.support.nodelan import lan_cluster

pytestmark = [pytest.mark.root, pytest.mark.slow]


@pytest.fixture(scope="module")
def lan(busybox_archive):
    if not shutil.which("kubectl"):
        pytest.skip("kubectl is not installed")
    # the last node takes its podCIDR from the server's IPAM (the first free /24: ns.pod_bip's)
    with lan_cluster(busybox_archive, 3, "lan", own_bip=lambda i: i < 2) as lan:
        yield lan


def get(srv, *what):
    r = srv.kubectl("get", *what, "-o", "json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def run_pod(srv, name, node, command):
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"nodeName": node, "terminationGracePeriodSeconds": 0, "containers": [{
                "name": "main", "image": "busybox:latest", "imagePullPolicy": "IfNotPresent", "command": command}]}}
    r = srv.kubectl("apply", "-f", "-", input=json.dumps(body))
    assert r.returncode == 0, r.stderr


def wait_running(srv, name, timeout=60):
    deadline = time.monotonic() + timeout
    pod = {}
    while time.monotonic() < deadline:
        pod = get(srv, "pod", name)
        if pod["status"].get("phase") == "Running" and pod["status"].get("podIP"):
            return pod
        time.sleep(0.2)
    raise AssertionError(f"pod {name} not Running: {pod.get('status')}")


def exec_in(srv, pod, *cmd, timeout=30):
    return srv.kubectl("exec", pod, "--", *cmd, timeout=timeout)


def test_nodes_ready_with_their_own_addresses_and_pod_cidrs(lan):
    srv, agents, net, _ = lan
    by_name = {n["metadata"]["name"]: n for n in get(srv, "nodes")["items"]}
    for a, ns in zip(agents, net.nodes, strict=True):
        node = by_name[a.node_name]
        ready = {c["type"]: c["status"] for c in node["status"]["conditions"]}["Ready"]
        assert ready == "True"
        assert {"type": "InternalIP", "address": ns.ip} in node["status"]["addresses"]
        assert node["spec"]["podCIDR"] == ns.pod_bip.replace(".1/24", ".0/24")
    assert (Path(srv.data_dir) / "token").read_text().strip() == srv.extra_args[1]  # the join token, k3s-style
    assert "to join a node: skiff agent --server" in srv.log()
    r = srv.kubectl("get", "nodes", "-o", "wide")
    assert all(ns.ip in r.stdout.decode() for ns in net.nodes), r.stdout


def test_pods_reach_each_other_across_nodes_and_on_one_node(lan):
    srv, agents, net, _ = lan
    serve = ["sh", "-c", "while true; do echo hello-from-$(hostname) | nc -l -p 7000; done"]
    run_pod(srv, "srv-b", agents[1].node_name, serve)
    run_pod(srv, "cli-a", agents[0].node_name, ["sleep", "3600"])
    run_pod(srv, "peer-a", agents[0].node_name, serve)
    b, a, peer = wait_running(srv, "srv-b"), wait_running(srv, "cli-a"), wait_running(srv, "peer-a")
    assert b["status"]["podIP"].startswith(net.nodes[1].pod_bip.rsplit(".", 1)[0] + ".")
    assert a["status"]["hostIP"] == net.nodes[0].ip
    # across nodes: ICMP and TCP, by pod IP
    r = exec_in(srv, "cli-a", "ping", "-c", "1", "-W", "5", b["status"]["podIP"])
    assert r.returncode == 0, r.stdout + r.stderr
    r = exec_in(srv, "cli-a", "nc", "-w", "5", b["status"]["podIP"], "7000")
    assert b"hello-from-srv-b" in r.stdout, r.stdout + r.stderr
    # on its own node, through the node's bridge
    r = exec_in(srv, "cli-a", "nc", "-w", "5", peer["status"]["podIP"], "7000")
    assert b"hello-from-peer-a" in r.stdout, r.stdout + r.stderr
    # node 2 reaches node 1's pod too (every node routes every other's podCIDR)
    run_pod(srv, "cli-c", agents[2].node_name, ["sleep", "3600"])
    wait_running(srv, "cli-c")
    r = exec_in(srv, "cli-c", "ping", "-c", "1", "-W", "5", b["status"]["podIP"])
    assert r.returncode == 0, r.stdout + r.stderr


def test_pod_to_pod_traffic_keeps_the_pod_source_address(lan):
    srv, agents, _, _ = lan
    run_pod(srv, "src-show", agents[2].node_name, ["sh", "-c", "while true; do nc -l -p 7001; done"])
    run_pod(srv, "src-cli", agents[0].node_name, ["sleep", "3600"])
    target, cli = wait_running(srv, "src-show"), wait_running(srv, "src-cli")
    # hold a connection open from the client pod, and read the peer address the target sees
    proc = subprocess.Popen(["kubectl", "exec", "src-cli", "--", "sh", "-c",
                             f"sleep 10 | nc {target['status']['podIP']} 7001"], env=srv.env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        seen = ""
        while time.monotonic() < deadline:
            seen = exec_in(srv, "src-show", "netstat", "-tn").stdout.decode()
            if ":7001 " in seen:
                break
            time.sleep(0.3)
        assert f"{cli['status']['podIP']}:" in seen, seen  # not the node's address: no masquerade
    finally:
        proc.kill()
        proc.wait()


def test_join_with_a_wrong_token_fails_clearly(lan):
    srv, _, net, root = lan
    ns = net.add_node()
    data = root / "intruder"
    r = subprocess.run([*ns.wrap, sys.executable, "-m", "skiff", "agent", "--server", srv.url, "--token", "wrong",
                        "--data-dir", str(data), "--node-name", "intruder", "--prefix", "skin" + net.tag,
                        "--bip", ns.pod_bip], capture_output=True, timeout=120)
    assert r.returncode == 1
    assert b"Unauthorized" in r.stderr, r.stderr
    assert "intruder" not in {n["metadata"]["name"] for n in get(srv, "nodes")["items"]}
    from tests.support.agent import remove_node_state

    remove_node_state(data, "skin" + net.tag, root, ns.wrap)
    # the same host joins with the server's token file, and gets the next podCIDR from its IPAM
    late = Agent(srv.url, "", root / "late", node_name="late-" + net.tag, wrap=ns.wrap,
                 extra_args=["--token-file", str(Path(srv.data_dir) / "token")])
    try:
        late.start()
        node = get(srv, "node", late.node_name)
        assert {c["type"]: c["status"] for c in node["status"]["conditions"]}["Ready"] == "True"
        assert node["spec"]["podCIDR"] == ns.pod_bip.replace(".1/24", ".0/24")
    finally:
        late.cleanup()


def test_agent_killed_and_restarted_readopts_its_pods(lan):
    srv, agents, _, _ = lan
    node = agents[1]
    run_pod(srv, "survivor", node.node_name, ["sleep", "3600"])
    run_pod(srv, "watcher", agents[0].node_name, ["sleep", "3600"])
    before, _ = wait_running(srv, "survivor"), wait_running(srv, "watcher")
    cid = before["status"]["containerStatuses"][0]["containerID"]
    node.kill()
    # the pod's containers outlive their agent, and other nodes still reach the pod
    r = exec_in(srv, "watcher", "ping", "-c", "1", "-W", "5", before["status"]["podIP"])
    assert r.returncode == 0, r.stdout + r.stderr
    node.start()
    deadline = time.monotonic() + 60
    after = before
    while time.monotonic() < deadline:
        after = get(srv, "pod", "survivor")
        node_obj = get(srv, "node", node.node_name)
        ready = {c["type"]: c["status"] for c in node_obj["status"]["conditions"]}["Ready"]
        if ready == "True" and after["status"].get("phase") == "Running":
            break
        time.sleep(0.3)
    status = after["status"]["containerStatuses"][0]
    assert status["containerID"] == cid and status["restartCount"] == 0
    assert after["status"]["podIP"] == before["status"]["podIP"]
