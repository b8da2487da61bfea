"""Pods on a `skiff agent` through the `kubernetes` Python client: typed status, watch to Running,
the node's view, hostname and deletion."""

import time

import pytest

from tests.support import agent as agent_support

k8s = pytest.importorskip("kubernetes")
from kubernetes import client, config, watch  # noqa: E402

cluster = agent_support.cluster  # fixtures: a server and one agent, a namespace per test
pod_ns = agent_support.pod_ns
pytestmark = [pytest.mark.root, pytest.mark.interop, pytest.mark.slow]


@pytest.fixture(scope="module")
def core(cluster):
    c = config.new_client_from_config(str(cluster.server.kubeconfig))
    yield client.CoreV1Api(c)
    c.close()


def test_pod_lifecycle_through_the_python_client(cluster, core, pod_ns):
    pod = client.V1Pod(metadata=client.V1ObjectMeta(name="typed", labels={"app": "typed"}), spec=client.V1PodSpec(
        node_name=cluster.node, termination_grace_period_seconds=1, containers=[client.V1Container(
            name="main", image="busybox:latest", image_pull_policy="IfNotPresent", command=["sleep", "3600"],
            resources=client.V1ResourceRequirements(requests={"cpu": "100m", "memory": "16Mi"},
                                                    limits={"cpu": "100m", "memory": "16Mi"}))]))
    core.create_namespaced_pod(pod_ns, pod)
    w = watch.Watch()
    phase = None
    for ev in w.stream(core.list_namespaced_pod, pod_ns, field_selector="metadata.name=typed", timeout_seconds=60):
        phase = ev["object"].status.phase
        if phase == "Running":
            w.stop()
    assert phase == "Running"
    got = core.read_namespaced_pod("typed", pod_ns)
    assert got.status.qos_class == "Guaranteed"
    assert got.status.host_ip and got.status.pod_ip and got.status.start_time
    status = got.status.container_statuses[0]
    assert status.ready and status.started and status.restart_count == 0
    assert status.container_id.startswith("docker://")
    assert {c.type: c.status for c in got.status.conditions}["Ready"] == "True"
    # the container sees the pod's name as its hostname, as every container of a pod does
    uid = got.metadata.uid
    out = cluster.agent.docker("exec", f"k8s_main_typed_{pod_ns}_{uid}_0", "hostname").stdout.decode().strip()
    assert out == "typed"
    # the engine applied the limits to the container
    hc = cluster.agent.docker("inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.CpuQuota}}",
                              f"k8s_main_typed_{pod_ns}_{uid}_0").stdout.decode().split()
    assert hc == [str(16 * 1024 * 1024), "10000"]
    node = core.read_node(cluster.node)
    assert node.status.node_info.kubelet_version == "v1.32.0"
    core.delete_namespaced_pod("typed", pod_ns)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not core.list_namespaced_pod(pod_ns, field_selector="metadata.name=typed").items:
            break
        time.sleep(0.2)
    assert not core.list_namespaced_pod(pod_ns, field_selector="metadata.name=typed").items
