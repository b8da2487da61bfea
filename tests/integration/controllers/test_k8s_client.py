"""The controllers seen through the kubernetes Python client: a Deployment scaled through its
scale subresource, its ReplicaSet and pods watched, a ReplicationController's status."""

from __future__ import annotations

import pytest

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client, config, watch  # noqa: E402

pytestmark = [pytest.mark.interop, pytest.mark.slow]


@pytest.fixture(scope="module")
def api(cluster):
    c = config.new_client_from_config(str(cluster.server.kubeconfig))
    yield c
    c.close()


def deployment(name: str, replicas: int) -> client.V1Deployment:
    labels = {"app": name}
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1DeploymentSpec(
            replicas=replicas, selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox")]))))


def test_deployment_scaled_through_the_scale_subresource(api, cluster, ns):
    apps = client.AppsV1Api(api)
    apps.create_namespaced_deployment(ns, deployment("api", 2))
    w = watch.Watch()
    for event in w.stream(apps.list_namespaced_deployment, ns, timeout_seconds=60):
        st = event["object"].status
        if st.available_replicas == 2 and st.updated_replicas == 2:
            w.stop()
    apps.patch_namespaced_deployment_scale("api", ns, {"spec": {"replicas": 5}})
    cluster.wait(lambda: apps.read_namespaced_deployment_status("api", ns).status.available_replicas == 5)
    scale = apps.read_namespaced_deployment_scale("api", ns)
    assert scale.spec.replicas == 5 and scale.status.replicas == 5
    [rs] = apps.list_namespaced_replica_set(ns, label_selector="app=api").items
    assert rs.metadata.owner_references[0].kind == "Deployment" and rs.spec.replicas == 5
    assert rs.metadata.annotations["deployment.kubernetes.io/revision"] == "1"
    conditions = {c.type: c.reason for c in apps.read_namespaced_deployment("api", ns).status.conditions}
    assert conditions == {"Available": "MinimumReplicasAvailable", "Progressing": "NewReplicaSetAvailable"}


def rc_status(core, ns: str):
    """The RC's status once the controller has written one (the model needs status.replicas)."""
    try:
        return core.read_namespaced_replication_controller_status("rc", ns).status
    except ValueError:  # pydantic's ValidationError: no status.replicas yet
        return None


def test_replication_controller_status(api, cluster, ns):
    core = client.CoreV1Api(api)
    rc = client.V1ReplicationController(
        metadata=client.V1ObjectMeta(name="rc"),
        spec=client.V1ReplicationControllerSpec(
            replicas=3, selector={"app": "rc"},
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "rc"}),
                spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox")]))))
    # raw response: the API server's create reply lacks status.replicas (kube serializes 0), which this client
    # version's model requires; what the controller writes afterwards is read through the models below
    core.create_namespaced_replication_controller(ns, rc, _preload_content=False).release_conn()
    st = cluster.wait(lambda: (s := rc_status(core, ns)) is not None and s.ready_replicas == 3 and s)
    assert (st.replicas, st.fully_labeled_replicas, st.available_replicas, st.observed_generation) == (3, 3, 3, 1)
    pods = core.list_namespaced_pod(ns, label_selector="app=rc").items
    assert {p.metadata.owner_references[0].name for p in pods} == {"rc"}
