"""`skiff server` runs a node agent for its own host unless --disable-agent."""

import hashlib
import json
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from tests.support.agent import remove_node_state
from tests.support.server import Server

pytestmark = [pytest.mark.root, pytest.mark.slow]


def test_server_runs_its_own_node_agent(busybox_archive):
    if not shutil.which("kubectl"):
        pytest.skip("kubectl is not installed")
    root = Path(tempfile.mkdtemp(prefix="skiff-kubelet-", dir="/tmp"))
    node = "srv-" + root.name[-6:].lower().replace("_", "x")
    srv = Server(root / "server", extra_args=["--node-name", node, "--node-label", "role=local"],
                 disable_agent=False)
    agent_dir = srv.data_dir.absolute() / "agent"
    try:
        srv.start_with_local_agent(node, busybox_archive)
        labels = json.loads(srv.kubectl("get", "node", node, "-o", "json").stdout)["metadata"]["labels"]
        assert labels["role"] == "local"
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "local"}, "spec": {
            "nodeName": node, "terminationGracePeriodSeconds": 1,
            "containers": [{"name": "main", "image": "busybox:latest", "imagePullPolicy": "IfNotPresent",
                            "command": ["sleep", "3600"]}]}}
        assert srv.kubectl("apply", "-f", "-", input=json.dumps(pod)).returncode == 0
        deadline = time.monotonic() + 60
        phase = ""
        while time.monotonic() < deadline and phase != "Running":
            phase = srv.kubectl("get", "pod", "local", "-o", "jsonpath={.status.phase}").stdout.decode()
            time.sleep(0.2)
        assert phase == "Running", srv.log()[-3000:]
        assert srv.kubectl("delete", "pod", "local", timeout=60).returncode == 0
    finally:
        srv.stop()
        prefix = "sn" + hashlib.sha256(str(agent_dir).encode()).hexdigest()[:6]
        remove_node_state(agent_dir, prefix, root)
        shutil.rmtree(root, ignore_errors=True)
