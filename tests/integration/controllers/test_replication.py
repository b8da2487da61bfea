"""ReplicationControllers and ReplicaSets through real kubectl, pods run by kwok nodes (seed 001)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.interop, pytest.mark.slow]

REDIS_SLAVE = """
apiVersion: v1
kind: ReplicationController
metadata:
  name: redis-slave
  labels:
    name: redis-slave
spec:
  replicas: 2
  selector:
    name: redis-slave
  template:
    metadata:
      labels:
        name: redis-slave
    spec:
      containers:
      - name: slave
        image: kubeguide/guestbook-redis-slave
        ports:
        - containerPort: 6379
"""


def ready_count(cluster, ns: str, selector: str) -> int:
    return sum(1 for p in cluster.pods(ns, selector)
               if any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", [])))


def test_rc_scales_up_and_down_and_replaces_a_deleted_pod(cluster, ns):
    cluster.kubectl("create", "-n", ns, "-f", "-", input=REDIS_SLAVE)
    cluster.wait(lambda: ready_count(cluster, ns, "name=redis-slave") == 2)
    rc = cluster.get("rc", "redis-slave", "-n", ns)
    cluster.wait(lambda: cluster.get("rc", "redis-slave", "-n", ns)["status"].get("readyReplicas") == 2)
    assert rc["status"]["replicas"] == 2

    out = cluster.kubectl("scale", "rc", "redis-slave", "--replicas=3", "-n", ns).stdout.decode()
    assert out.strip() == "replicationcontroller/redis-slave scaled"
    cluster.wait(lambda: ready_count(cluster, ns, "name=redis-slave") == 3)
    table = cluster.wait(lambda: (t := cluster.kubectl("get", "rc", "redis-slave", "-n", ns).stdout.decode())
                         and t.split("\n")[1].split()[1:4] == ["3", "3", "3"] and t)
    assert table.split()[:4] == ["NAME", "DESIRED", "CURRENT", "READY"]

    cluster.kubectl("scale", "rc", "redis-slave", "--replicas=1", "-n", ns)
    cluster.wait(lambda: len(cluster.pods(ns, "name=redis-slave")) == 1)

    victim = cluster.pods(ns, "name=redis-slave")[0]["metadata"]["name"]
    cluster.kubectl("delete", "pod", victim, "-n", ns)
    survivor = cluster.wait(lambda: [p for p in cluster.pods(ns, "name=redis-slave")
                                     if p["metadata"]["name"] != victim])
    assert survivor[0]["metadata"]["ownerReferences"][0]["kind"] == "ReplicationController"
    cluster.wait(lambda: ready_count(cluster, ns, "name=redis-slave") == 1
                 and len(cluster.pods(ns, "name=redis-slave")) == 1)


def test_replicaset_adopts_an_orphan_and_reports_status(cluster, ns):
    cluster.kubectl("run", "stray", "--image=busybox", "--labels=app=web", "-n", ns)
    cluster.wait(lambda: ready_count(cluster, ns, "app=web") == 1)
    rs = """
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: busybox}]}
"""
    cluster.kubectl("apply", "-n", ns, "-f", "-", input=rs)
    status = cluster.wait(lambda: (s := cluster.get("rs", "web", "-n", ns)["status"]).get("availableReplicas") == 3
                          and s)
    assert status["replicas"] == 3 and status["fullyLabeledReplicas"] == 3 and status["observedGeneration"] == 1
    stray = cluster.get("pod", "stray", "-n", ns)
    assert stray["metadata"]["ownerReferences"][0]["name"] == "web"
    assert len(cluster.pods(ns, "app=web")) == 3


def rc_images(cluster, ns: str, selector: str) -> set[str]:
    return {p["spec"]["containers"][0]["image"] for p in cluster.pods(ns, selector)}


def skiff_kubectl(cluster, *args: str, input: str | None = None):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "skiff", "kubectl", *args], input=input.encode() if input else None,
                          capture_output=True, env=cluster.server.env, timeout=120)


MASTER_V1 = """
apiVersion: v1
kind: ReplicationController
metadata: {name: redis-master, labels: {name: redis-master}}
spec:
  replicas: 2
  selector: {name: redis-master, version: v1}
  template:
    metadata: {labels: {name: redis-master, version: v1}}
    spec: {containers: [{name: master, image: "kubeguide/redis-master:1.0"}]}
"""


def test_rolling_update_from_a_file_then_by_image(cluster, ns):
    """Seed 001: `kubectl rolling-update redis-master -f redis-master-controller-v2.yaml`, then `--image`."""
    cluster.kubectl("create", "-n", ns, "-f", "-", input=MASTER_V1)
    cluster.wait(lambda: ready_count(cluster, ns, "name=redis-master") == 2)
    v2 = MASTER_V1.replace("name: redis-master,", "name: redis-master-v2,", 1).replace("v1", "v2").replace(
        "1.0", "2.0")
    r = skiff_kubectl(cluster, "rolling-update", "redis-master", "-n", ns, "--update-period=0s",
                      "--poll-interval=100ms", "-f", "-", input=v2)
    out = r.stdout.decode()
    assert r.returncode == 0, r.stderr.decode()
    lines = out.strip().splitlines()
    assert lines[0] == "Created redis-master-v2"
    assert lines[1] == ("Scaling up redis-master-v2 from 0 to 2, scaling down redis-master from 2 to 0 "
                        "(keep 2 pods available, don't exceed 3 pods)")
    assert lines[-2:] == ["Update succeeded. Deleting redis-master",
                          'replicationcontroller "redis-master" rolling updated to "redis-master-v2"']
    cluster.wait(lambda: rc_images(cluster, ns, "name=redis-master") == {"kubeguide/redis-master:2.0"}
                 and ready_count(cluster, ns, "name=redis-master") == 2)
    assert cluster.kubectl("get", "rc", "redis-master", "-n", ns, check=False).returncode == 1

    r = skiff_kubectl(cluster, "rolling-update", "redis-master-v2", "-n", ns, "--update-period=0s",
                      "--poll-interval=100ms", "--image=kubeguide/redis-master:3.0")
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout.decode().strip().splitlines()[-1] == 'replicationcontroller "redis-master-v2" rolling updated'
    rc = cluster.get("rc", "redis-master-v2", "-n", ns)  # the old name, the new template
    assert rc["spec"]["template"]["spec"]["containers"][0]["image"] == "kubeguide/redis-master:3.0"
    cluster.wait(lambda: rc_images(cluster, ns, "name=redis-master") == {"kubeguide/redis-master:3.0"}
                 and ready_count(cluster, ns, "name=redis-master") == 2)

    r = skiff_kubectl(cluster, "rolling-update", "redis-master-v2", "-n", ns, "--image=kubeguide/redis-master:3.0")
    assert r.returncode == 1
    assert b"Specified --image must be distinct from existing container image" in r.stderr


def test_rolling_update_interrupted_then_rolled_back(cluster, ns):
    import signal
    import subprocess
    import sys

    cluster.kubectl("create", "-n", ns, "-f", "-", input=MASTER_V1)
    cluster.wait(lambda: ready_count(cluster, ns, "name=redis-master") == 2)
    proc = subprocess.Popen([sys.executable, "-m", "skiff", "kubectl", "rolling-update", "redis-master", "-n", ns,
                             "--image=kubeguide/redis-master:9.9", "--update-period=10m", "--poll-interval=100ms"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cluster.server.env,
                            start_new_session=True)
    try:
        # the first step: one new pod up, one old pod down; then it sleeps for the update period
        cluster.wait(lambda: rc_images(cluster, ns, "name=redis-master") == {"kubeguide/redis-master:1.0",
                                                                             "kubeguide/redis-master:9.9"}
                     and cluster.get("rc", "redis-master", "-n", ns)["spec"]["replicas"] == 1)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(10)
    r = skiff_kubectl(cluster, "rolling-update", "redis-master", "-n", ns, "--rollback", "--update-period=0s",
                      "--poll-interval=100ms")
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout.decode().strip().splitlines()[-1] == 'replicationcontroller "redis-master" rolled back'
    cluster.wait(lambda: rc_images(cluster, ns, "name=redis-master") == {"kubeguide/redis-master:1.0"}
                 and ready_count(cluster, ns, "name=redis-master") == 2)
    rcs = [rc["metadata"]["name"] for rc in cluster.get("rc", "-n", ns)["items"]]
    assert rcs == ["redis-master"]
