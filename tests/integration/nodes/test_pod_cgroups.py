"""Pod-level cgroups on a node: each pod's cgroup under its QoS parent holds the pod's summed
limits and its containers' cgroups, and goes with the pod."""

import json
import time
from pathlib import Path

import pytest

from tests.support import agent as agent_support

cluster = agent_support.cluster  # fixtures: a server and one agent, a namespace per test
pod_ns = agent_support.pod_ns
pytestmark = [pytest.mark.root, pytest.mark.slow]

MEMORY = Path("/sys/fs/cgroup/memory")
CPU = Path("/sys/fs/cgroup/cpu")


def run(cluster, ns, name, *resources):
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"terminationGracePeriodSeconds": 0, "containers": [
                {"name": f"c{i}", "image": "busybox:latest", "imagePullPolicy": "IfNotPresent",
                 "command": ["sleep", "3600"], "resources": r} for i, r in enumerate(resources)]}}
    r = cluster.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(body))
    assert r.returncode == 0, r.stderr
    cluster.wait_for(f"pod/{name}", "{.status.phase}", lambda v: v == "Running", namespace=ns)
    pod = json.loads(cluster.kubectl("get", "pod", name, "-n", ns, "-o", "json").stdout)
    ids = [s["containerID"].split("://")[-1] for s in pod["status"]["containerStatuses"]]
    return pod, ids


def test_burstable_pod_cgroup_holds_summed_limits_and_its_containers(cluster, pod_ns):
    pod, ids = run(cluster, pod_ns, "burst", {"limits": {"cpu": "200m", "memory": "32Mi"}},
                   {"requests": {"cpu": "100m"}, "limits": {"cpu": "300m", "memory": "16Mi"}})
    assert pod["status"]["qosClass"] == "Burstable"
    rel = f"{cluster.agent.prefix}/kubepods/burstable/pod{pod['metadata']['uid']}"
    assert (MEMORY / rel / "memory.limit_in_bytes").read_text().strip() == str(48 * 2**20)
    assert (CPU / rel / "cpu.cfs_quota_us").read_text().strip() == "50000"
    assert (CPU / rel / "cpu.shares").read_text().strip() == "307"
    for cid in ids:  # the containers live inside the pod's cgroup, with their own limits
        assert (MEMORY / rel / cid).is_dir()
    r = cluster.kubectl("delete", "pod", "burst", "-n", pod_ns, "--grace-period=0", "--wait=true", timeout=120)
    assert r.returncode == 0, r.stderr
    deadline = time.monotonic() + 30
    while (MEMORY / rel).exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not (MEMORY / rel).exists()


def test_best_effort_pods_share_the_smallest_cpu_weight(cluster, pod_ns):
    pod, ids = run(cluster, pod_ns, "be", {})
    assert pod["status"]["qosClass"] == "BestEffort"
    parent = f"{cluster.agent.prefix}/kubepods/besteffort"
    assert (CPU / parent / "cpu.shares").read_text().strip() == "2"
    assert (CPU / parent / f"pod{pod['metadata']['uid']}" / ids[0]).is_dir()
    # docker on the node shows the pod's cgroup as the container's parent
    r = cluster.agent.docker("inspect", "-f", "{{.HostConfig.CgroupParent}}", ids[0])
    assert r.stdout.decode().strip() == f"{parent}/pod{pod['metadata']['uid']}", r.stderr


def test_guaranteed_pod_sits_directly_under_kubepods(cluster, pod_ns):
    pod, _ = run(cluster, pod_ns, "guar", {"limits": {"cpu": "250m", "memory": "24Mi"}})
    assert pod["status"]["qosClass"] == "Guaranteed"
    rel = f"{cluster.agent.prefix}/kubepods/pod{pod['metadata']['uid']}"
    assert (MEMORY / rel / "memory.limit_in_bytes").read_text().strip() == str(24 * 2**20)
