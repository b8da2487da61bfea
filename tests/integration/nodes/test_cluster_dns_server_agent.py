"""`skiff server`'s own agent serves the cluster DNS too, with the server's --cluster-dns and
--cluster-domain: kube-dns gets that cluster IP, pods that nameserver and search list, and the
agent's link is gone after the server stops."""

import hashlib
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.support.agent import remove_node_state
from tests.support.server import Server

pytestmark = [pytest.mark.root, pytest.mark.slow]


def test_server_agent_serves_its_cluster_domain(busybox_archive):
    if not shutil.which("kubectl"):
        pytest.skip("kubectl is not installed")
    root = Path(tempfile.mkdtemp(prefix="skiff-dnssrv-", dir="/tmp"))
    node = "dns-" + root.name[-6:].lower().replace("_", "x")
    srv = Server(root / "server", extra_args=["--node-name", node, "--cluster-dns", "10.43.0.53",
                                              "--cluster-domain", "corp.test"], disable_agent=False)
    agent_dir = srv.data_dir.absolute() / "agent"
    prefix = "sn" + hashlib.sha256(str(agent_dir).encode()).hexdigest()[:6]
    try:
        srv.start_with_local_agent(node, busybox_archive)
        ip = srv.kubectl("get", "svc", "-n", "kube-system", "kube-dns", "-o", "jsonpath={.spec.clusterIP}")
        assert ip.stdout == b"10.43.0.53", ip.stderr
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "client"}, "spec": {
            "nodeName": node, "terminationGracePeriodSeconds": 0,
            "containers": [{"name": "main", "image": "busybox:latest", "imagePullPolicy": "IfNotPresent",
                            "command": ["sleep", "3600"]}]}}
        assert srv.kubectl("apply", "-f", "-", input=json.dumps(pod)).returncode == 0
        deadline = time.monotonic() + 60
        phase = ""
        while time.monotonic() < deadline and phase != "Running":
            phase = srv.kubectl("get", "pod", "client", "-o", "jsonpath={.status.phase}").stdout.decode()
            time.sleep(0.2)
        assert phase == "Running", srv.log()[-3000:]
        resolv = srv.kubectl("exec", "client", "--", "cat", "/etc/resolv.conf").stdout.decode()
        assert resolv.startswith("search default.svc.corp.test svc.corp.test corp.test"), resolv
        assert "nameserver 10.43.0.53\n" in resolv, resolv
        r = srv.kubectl("exec", "client", "--", "nslookup", "kubernetes")
        kubernetes_ip = srv.kubectl("get", "svc", "kubernetes", "-o", "jsonpath={.spec.clusterIP}").stdout.decode()
        assert f"Address: {kubernetes_ip}" in r.stdout.decode(), r.stdout + r.stderr
        assert f"{prefix}dns0" in subprocess.run(["ip", "link"], capture_output=True, text=True).stdout
        srv.stop()  # a clean stop takes the link away (remove_node_state below would too)
        assert f"{prefix}dns0" not in subprocess.run(["ip", "link"], capture_output=True, text=True).stdout
    finally:
        srv.stop()
        remove_node_state(agent_dir, prefix, root)
        shutil.rmtree(root, ignore_errors=True)
