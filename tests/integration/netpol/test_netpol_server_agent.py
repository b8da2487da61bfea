"""NetworkPolicy on `skiff server`'s own node agent in the host's network namespace, driven by the
real kubectl as docs/network-policy.md shows: pods on one bridge (br_netfilter), an allow-by-label
policy, the refused client told at once, removal restoring traffic, no chain left after stop."""

import hashlib
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.integration.proxy.test_proxy_nodes import kubectl, wait
from tests.support.agent import remove_node_state
from tests.support.server import Server

pytestmark = [pytest.mark.root, pytest.mark.slow]

WEB = ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www"]


@pytest.fixture(scope="module")
def node(busybox_archive):
    if not shutil.which("kubectl"):
        pytest.skip("kubectl is not installed")
    root = Path(tempfile.mkdtemp(prefix="skiff-netpol-", dir="/tmp"))
    name = "np-" + root.name[-6:].lower().replace("_", "x")
    srv = Server(root / "server", extra_args=["--node-name", name], disable_agent=False)
    agent_dir = srv.data_dir.absolute() / "agent"
    prefix = "sn" + hashlib.sha256(str(agent_dir).encode()).hexdigest()[:6]
    try:
        srv.start_with_local_agent(name, busybox_archive)
        yield srv, prefix
    finally:
        srv.stop()
        remove_node_state(agent_dir, prefix, root)
        shutil.rmtree(root, ignore_errors=True)


def run(srv, name, labels, command):
    kubectl(srv, "run", name, "--image=busybox:latest", "--image-pull-policy=IfNotPresent", f"--labels={labels}",
            "--", *command)
    return wait(lambda: kubectl(srv, "get", "pod", name, "-o", "jsonpath={.status.podIP}") if "True" in kubectl(
        srv, "get", "pod", name, "-o", "jsonpath={.status.conditions[?(@.type=='Ready')].status}") else "",
        f"pod {name} ready")


def fetch(srv, pod, ip):
    return srv.kubectl("exec", pod, "--", "timeout", "3", "wget", "-qO-", f"http://{ip}/")


def our_chains(prefix):
    saved = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
    return [line for line in saved.splitlines() if f"{prefix}-N-" in line]


def test_allow_by_label_on_one_bridge_then_removed_and_nothing_left_after_stop(node):
    srv, prefix = node
    web = run(srv, "web", "app=web", WEB)
    run(srv, "friend", "role=friend", ["sleep", "3600"])
    run(srv, "stranger", "role=none", ["sleep", "3600"])
    assert fetch(srv, "stranger", web).returncode == 0
    kubectl(srv, "apply", "-f", "-", input=json.dumps({
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "web-from-friends"},
        "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "ingress": [{
            "from": [{"podSelector": {"matchLabels": {"role": "friend"}}}], "ports": [{"port": 80, "protocol": "TCP"}]}]}}))
    refused = wait(lambda: (r := fetch(srv, "stranger", web)).returncode != 0 and r, "stranger refused")
    assert b"Connection refused" in refused.stderr  # REJECT: the client knows at once
    r = fetch(srv, "friend", web)
    assert r.returncode == 0 and r.stdout.strip() == b"web", r.stderr
    assert any('"default/web ingress"' in line for line in our_chains(prefix))
    kubectl(srv, "delete", "netpol", "web-from-friends")
    wait(lambda: fetch(srv, "stranger", web).returncode == 0, "stranger allowed again")
    srv.stop()
    assert our_chains(prefix) == []
