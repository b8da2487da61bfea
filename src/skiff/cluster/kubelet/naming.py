"""Engine container names and labels as the kubelet (dockershim, cri-dockerd) writes them.

`k8s_<container>_<pod>_<namespace>_<uid>_<attempt>`; the sandbox's container is `POD`.
The labels are what the kubelet reads back after a restart, so they carry everything needed
to re-adopt a container without the API.
"""

from __future__ import annotations

from dataclasses import dataclass

SANDBOX = "POD"
# Kubernetes' label keys on runtime containers (pkg/kubelet/types/labels.go, kuberuntime/labels.go)
POD_NAME = "io.kubernetes.pod.name"
POD_NAMESPACE = "io.kubernetes.pod.namespace"
POD_UID = "io.kubernetes.pod.uid"
CONTAINER_NAME = "io.kubernetes.container.name"
CONTAINER_TYPE = "io.kubernetes.docker.type"  # "podsandbox" or "container"
RESTART_COUNT = "io.kubernetes.container.restartCount"
INIT = "io.skiff.kubelet.init"  # "true" on init containers
GRACE = "io.kubernetes.pod.terminationGracePeriod"


@dataclass(frozen=True)
class ContainerKey:
    container: str
    pod: str
    namespace: str
    uid: str
    attempt: int


def container_name(container: str, pod: str, namespace: str, uid: str, attempt: int) -> str:
    return f"k8s_{container}_{pod}_{namespace}_{uid}_{attempt}"


def parse_name(name: str) -> ContainerKey | None:
    """The parts of a kubelet-made name, or None for any other container. Names of pods, namespaces
    and containers are DNS labels/subdomains, so they hold no underscores."""
    parts = name.lstrip("/").split("_")
    if len(parts) != 6 or parts[0] != "k8s" or not parts[5].isdigit():
        return None
    return ContainerKey(parts[1], parts[2], parts[3], parts[4], int(parts[5]))


def pod_labels(pod: dict) -> dict[str, str]:
    meta = pod["metadata"]
    labels = {POD_NAME: meta["name"], POD_NAMESPACE: meta.get("namespace", "default"), POD_UID: meta["uid"]}
    grace = (pod.get("spec") or {}).get("terminationGracePeriodSeconds")
    if grace is not None:
        labels[GRACE] = str(grace)
    return labels


def sandbox_labels(pod: dict) -> dict[str, str]:
    labels = {k: str(v) for k, v in ((pod["metadata"].get("labels")) or {}).items()}
    return {**labels, **pod_labels(pod), CONTAINER_TYPE: "podsandbox"}


def container_labels(pod: dict, container: str, attempt: int, init: bool = False) -> dict[str, str]:
    labels = {**pod_labels(pod), CONTAINER_NAME: container, CONTAINER_TYPE: "container",
              RESTART_COUNT: str(attempt)}
    if init:
        labels[INIT] = "true"
    return labels
