"""DaemonSets, Jobs, CronJobs, cascading deletion and namespace deletion through real kubectl,
pods run (and finished) by kwok nodes."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

import pytest

pytestmark = [pytest.mark.interop, pytest.mark.slow]

DAEMONSET = """
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: node-agent}
spec:
  selector: {matchLabels: {app: node-agent}}
  template:
    metadata: {labels: {app: node-agent}}
    spec:
      containers: [{name: agent, image: busybox, command: [sleep, "3600"]}]
"""


def job(name: str, **spec) -> str:
    body = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"template": {"spec": {"restartPolicy": "Never",
                                           "containers": [{"name": "work", "image": "busybox"}]}}, **spec}}
    return json.dumps(body)


def running(cluster, ns: str, selector: str) -> list[dict]:
    return [p for p in cluster.pods(ns, selector) if p.get("status", {}).get("phase") == "Running"]


def test_daemonset_runs_one_pod_per_node_and_follows_a_joining_node(cluster, ns):
    cluster.kubectl("apply", "-n", ns, "-f", "-", input=DAEMONSET)
    nodes = list(cluster.kwok.nodes)

    def placed() -> list[str]:
        return sorted(p["spec"].get("nodeName", "") for p in running(cluster, ns, "app=node-agent"))

    cluster.wait(lambda: placed() == sorted(nodes))
    joining = f"kwok-{os.getpid()}-joining"
    cluster.kwok.add_node(joining)
    cluster.wait(lambda: placed() == sorted(nodes + [joining]))
    ds = cluster.wait(lambda: (d := cluster.get("ds", "node-agent", "-n", ns))["status"].get("numberReady") == 4
                      and d)
    assert ds["status"]["desiredNumberScheduled"] == 4 and ds["status"]["currentNumberScheduled"] == 4
    table = cluster.kubectl("get", "ds", "node-agent", "-n", ns).stdout.decode().split("\n")
    assert table[0].split()[:6] == ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE"]
    assert table[1].split()[1:6] == ["4", "4", "4", "4", "4"]
    # a rolling update, one node at a time, followed by kubectl
    cluster.kubectl("set", "image", "ds/node-agent", "agent=busybox:2", "-n", ns)
    cluster.kubectl("rollout", "status", "ds/node-agent", "-n", ns, "--timeout=90s")
    images = {p["spec"]["containers"][0]["image"] for p in running(cluster, ns, "app=node-agent")}
    assert images == {"busybox:2"} and len(placed()) == 4
    history = cluster.kubectl("rollout", "history", "ds/node-agent", "-n", ns).stdout.decode().split("\n")
    assert history[0] == "daemonset.apps/node-agent " and [r.split()[0] for r in history[2:] if r.strip()] == ["1", "2"]
    cluster.kubectl("rollout", "undo", "ds/node-agent", "-n", ns)
    cluster.kubectl("rollout", "status", "ds/node-agent", "-n", ns, "--timeout=90s")
    cluster.wait(lambda: {p["spec"]["containers"][0]["image"] for p in running(cluster, ns, "app=node-agent")}
                 == {"busybox"} and len(placed()) == 4)
    history = cluster.kubectl("rollout", "history", "ds/node-agent", "-n", ns).stdout.decode().split("\n")
    assert [r.split()[0] for r in history[2:] if r.strip()] == ["2", "3"]  # revision 1 came back as 3


def test_job_of_five_completions_two_at_a_time(cluster, ns):
    cluster.kubectl("create", "-n", ns, "-f", "-", input=job("five", completions=5, parallelism=2))
    finished: set[str] = set()
    most_active = 0
    while len(finished) < 5:
        pods = cluster.wait(lambda: running(cluster, ns, "job-name=five"))
        most_active = max(most_active, len(pods))
        for p in pods:
            cluster.kwok.finish(ns, p["metadata"]["name"])
            finished.add(p["metadata"]["name"])
    assert most_active <= 2
    cluster.kubectl("wait", "--for=condition=complete", "job/five", "-n", ns, "--timeout=60s")
    status = cluster.get("job", "five", "-n", ns)["status"]
    assert status["succeeded"] == 5 and status.get("active", 0) == 0 and status["completionTime"]
    assert len(finished) == 5


def test_failing_job_stops_at_backoff_limit(cluster, ns):
    cluster.kubectl("create", "-n", ns, "-f", "-", input=job("fails", backoffLimit=1))
    seen: set[str] = set()
    for _ in range(2):  # the first failure and the one retry after the 10 s back-off
        pod = cluster.wait(lambda: [p for p in running(cluster, ns, "job-name=fails")
                                    if p["metadata"]["name"] not in seen])[0]
        seen.add(pod["metadata"]["name"])
        cluster.kwok.finish(ns, pod["metadata"]["name"], exit_code=1)
    cluster.kubectl("wait", "--for=condition=failed", "job/fails", "-n", ns, "--timeout=60s")
    job_obj = cluster.get("job", "fails", "-n", ns)
    failed = [c for c in job_obj["status"]["conditions"] if c["type"] == "Failed"][0]
    assert failed["reason"] == "BackoffLimitExceeded" and job_obj["status"]["failed"] == 2
    assert len(cluster.get("pods", "-n", ns, "-l", "job-name=fails")["items"]) == 2  # no third try


def test_cronjob_fires_a_missed_schedule(cluster, ns):
    cluster.kubectl("create", "cronjob", "tick", "-n", ns, "--image=busybox", "--schedule=*/1 * * * *",
                    "--", "date")
    # kube's controller starts the latest time missed since status.lastScheduleTime: moving that
    # into the past makes the next minute's run due now, with the clock untouched
    past = (datetime.now(UTC) - timedelta(minutes=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    cluster.kubectl("patch", "cronjob", "tick", "-n", ns, "--subresource=status", "--type=merge",
                    "-p", json.dumps({"status": {"lastScheduleTime": past}}))
    jobs = cluster.wait(lambda: cluster.get("jobs", "-n", ns)["items"])
    assert len(jobs) == 1
    assert jobs[0]["metadata"]["ownerReferences"][0]["kind"] == "CronJob"
    assert jobs[0]["metadata"]["name"].startswith("tick-")
    cj = cluster.wait(lambda: (c := cluster.get("cronjob", "tick", "-n", ns))["status"].get("active") and c)
    assert cj["status"]["lastScheduleTime"] > past
    assert [a["name"] for a in cj["status"]["active"]] == [jobs[0]["metadata"]["name"]]


def _replicaset(name: str) -> str:
    return json.dumps({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name},
                       "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                                "template": {"metadata": {"labels": {"app": name}},
                                             "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}})


def test_foreground_deletion_removes_the_pods_before_the_owner(cluster, ns):
    cluster.kubectl("create", "-n", ns, "-f", "-", input=_replicaset("fg"))
    cluster.wait(lambda: len(running(cluster, ns, "app=fg")) == 2)
    cluster.kubectl("delete", "rs", "fg", "-n", ns, "--cascade=foreground", "--timeout=60s")
    assert cluster.get("pods", "-n", ns, "-l", "app=fg")["items"] == []
    assert cluster.kubectl("get", "rs", "fg", "-n", ns, check=False).returncode == 1


def test_orphan_deletion_keeps_the_pods_without_their_owner(cluster, ns):
    cluster.kubectl("create", "-n", ns, "-f", "-", input=_replicaset("or"))
    cluster.wait(lambda: len(running(cluster, ns, "app=or")) == 2)
    cluster.kubectl("delete", "rs", "or", "-n", ns, "--cascade=orphan", "--timeout=60s")
    pods = cluster.pods(ns, "app=or")
    assert len(pods) == 2 and all(not p["metadata"].get("ownerReferences") for p in pods)


def test_background_deletion_of_a_job_removes_its_pods(cluster, ns):
    cluster.kubectl("create", "-n", ns, "-f", "-", input=job("bg", parallelism=2, completions=2))
    cluster.wait(lambda: len(running(cluster, ns, "job-name=bg")) == 2)
    cluster.kubectl("delete", "job", "bg", "-n", ns)
    cluster.wait(lambda: cluster.get("pods", "-n", ns, "-l", "job-name=bg")["items"] == [])


def test_deleting_a_namespace_removes_everything_in_it(cluster):
    name = f"doomed-{os.urandom(3).hex()}"
    cluster.kubectl("create", "namespace", name)
    cluster.kubectl("create", "-n", name, "-f", "-", input=_replicaset("web"))
    cluster.kubectl("create", "-n", name, "-f", "-", input=job("batch", parallelism=1, completions=1))
    cluster.kubectl("create", "configmap", "settings", "-n", name, "--from-literal=a=b")
    cluster.kubectl("create", "service", "clusterip", "web", "-n", name, "--tcp=80:80")
    cluster.wait(lambda: len(running(cluster, name, "app=web")) == 2)
    cluster.kubectl("delete", "namespace", name, "--timeout=90s")
    assert cluster.kubectl("get", "namespace", name, check=False).returncode == 1


def test_finished_job_with_a_ttl_is_deleted_with_its_pods(cluster, ns):
    cluster.kubectl("create", "-n", ns, "-f", "-", input=job("brief", ttlSecondsAfterFinished=1))
    pod = cluster.wait(lambda: running(cluster, ns, "job-name=brief"))[0]
    cluster.kwok.finish(ns, pod["metadata"]["name"])
    cluster.wait(lambda: cluster.kubectl("get", "job", "brief", "-n", ns, check=False).returncode == 1)
    cluster.wait(lambda: cluster.get("pods", "-n", ns, "-l", "job-name=brief")["items"] == [])


STATEFULSET = """
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  replicas: 3
  serviceName: web
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: c, image: busybox, command: [sleep, "3600"]}]
  volumeClaimTemplates:
  - metadata: {name: www}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
"""


def test_statefulset_starts_in_order_with_stable_names_and_claims(cluster, ns):
    cluster.kubectl("apply", "-n", ns, "-f", "-", input=STATEFULSET)
    order: list[str] = []

    def names() -> list[str]:
        for p in cluster.pods(ns, "app=web"):
            if p["metadata"]["name"] not in order:
                order.append(p["metadata"]["name"])
        return order

    cluster.wait(lambda: len(names()) == 3, interval=0.05)
    assert order == ["web-0", "web-1", "web-2"]
    claims = cluster.wait(lambda: (c := cluster.get("pvc", "-n", ns)["items"]) and len(c) == 3
                          and all(x["status"].get("phase") == "Bound" for x in c) and c)
    assert sorted(c["metadata"]["name"] for c in claims) == ["www-web-0", "www-web-1", "www-web-2"]
    cluster.kubectl("rollout", "status", "statefulset/web", "-n", ns, "--timeout=60s")
    # a deleted pod comes back with the same name and the same claim
    old_uid = cluster.get("pod", "web-1", "-n", ns)["metadata"]["uid"]
    cluster.kubectl("delete", "pod", "web-1", "-n", ns, "--wait=false")
    pod = cluster.wait(lambda: [p for p in running(cluster, ns, "app=web")
                                if p["metadata"]["name"] == "web-1" and p["metadata"]["uid"] != old_uid])[0]
    assert pod["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] == "www-web-1"
    assert pod["spec"]["hostname"] == "web-1" and pod["spec"]["subdomain"] == "web"


def test_deleting_a_deployment_cascades_through_its_replicaset_to_the_pods(cluster, ns):
    cluster.kubectl("create", "deployment", "cascade", "-n", ns, "--image=busybox", "--replicas=2")
    cluster.wait(lambda: len(running(cluster, ns, "app=cascade")) == 2)
    assert len(cluster.get("rs", "-n", ns, "-l", "app=cascade")["items"]) == 1
    cluster.kubectl("delete", "deployment", "cascade", "-n", ns)
    cluster.wait(lambda: cluster.get("rs", "-n", ns, "-l", "app=cascade")["items"] == [])
    cluster.wait(lambda: cluster.get("pods", "-n", ns, "-l", "app=cascade")["items"] == [])
