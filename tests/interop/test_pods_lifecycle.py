"""Restart policies and phases (seed 004's table), back-off, OOMKilled, init containers, image errors,
admission, through the real kubectl."""

import json

import pytest

from tests.support import agent as agent_support

cluster = agent_support.cluster  # fixtures: a server and one agent, a namespace per test
pod_ns = agent_support.pod_ns
pytestmark = [pytest.mark.root, pytest.mark.interop, pytest.mark.slow]


def busybox(name, script, **extra):
    return {"name": name, "image": "busybox:latest", "imagePullPolicy": "IfNotPresent",
            "command": ["sh", "-c", script], **extra}


def run_pod(cluster, ns, name, containers, **spec):
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"nodeName": cluster.node, "containers": containers, **spec}}
    r = cluster.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(body))
    assert r.returncode == 0, r.stderr


def pod(cluster, ns, name):
    return json.loads(cluster.kubectl("get", "pod", name, "-n", ns, "-o", "json").stdout)


@pytest.mark.parametrize("policy,code,phase", [("Never", 0, "Succeeded"), ("Never", 1, "Failed"),
                                                ("OnFailure", 0, "Succeeded")])
def test_one_container_exits(cluster, pod_ns, policy, code, phase):
    run_pod(cluster, pod_ns, "once", [busybox("main", f"exit {code}")], restartPolicy=policy)
    cluster.wait_for("pod/once", "{.status.phase}", lambda v: v == phase, pod_ns)
    status = pod(cluster, pod_ns, "once")["status"]["containerStatuses"][0]
    term = status["state"]["terminated"]
    assert term["exitCode"] == code
    assert term["reason"] == ("Completed" if code == 0 else "Error")
    assert status["restartCount"] == 0
    out = cluster.kubectl("get", "pod", "once", "-n", pod_ns).stdout.decode()
    assert ("Completed" if code == 0 else "Error") in out


@pytest.mark.parametrize("policy,code", [("Always", 0), ("Always", 1), ("OnFailure", 1)])
def test_restarting_container_backs_off(cluster, pod_ns, policy, code):
    run_pod(cluster, pod_ns, "crasher", [busybox("main", f"echo run; exit {code}")], restartPolicy=policy)
    cluster.wait_for("pod/crasher", "{.status.containerStatuses[0].state.waiting.reason}",
                     lambda v: v == "CrashLoopBackOff", pod_ns)
    p = pod(cluster, pod_ns, "crasher")
    status = p["status"]["containerStatuses"][0]
    assert p["status"]["phase"] == "Running"
    assert status["restartCount"] >= 1
    assert status["lastState"]["terminated"]["exitCode"] == code
    assert "back-off" in status["state"]["waiting"]["message"]
    out = cluster.kubectl("get", "pod", "crasher", "-n", pod_ns).stdout.decode()
    assert "CrashLoopBackOff" in out
    events = json.loads(cluster.kubectl("get", "events", "-n", pod_ns, "-o", "json").stdout)["items"]
    assert any(e["reason"] == "BackOff" and e["type"] == "Warning" for e in events)


def test_two_containers_never_one_fails(cluster, pod_ns):
    run_pod(cluster, pod_ns, "pair", [busybox("ok", "sleep 2; exit 0"), busybox("bad", "exit 3")],
            restartPolicy="Never")
    cluster.wait_for("pod/pair", "{.status.phase}", lambda v: v == "Failed", pod_ns)
    codes = {s["name"]: s["state"]["terminated"]["exitCode"] for s in pod(cluster, pod_ns, "pair")["status"][
        "containerStatuses"]}
    assert codes == {"ok": 0, "bad": 3}


def test_out_of_memory_is_oomkilled(cluster, pod_ns):
    run_pod(cluster, pod_ns, "hog", [busybox("main", "x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo done",
                                             resources={"limits": {"memory": "32Mi"}})], restartPolicy="Never")
    cluster.wait_for("pod/hog", "{.status.phase}", lambda v: v == "Failed", pod_ns)
    term = pod(cluster, pod_ns, "hog")["status"]["containerStatuses"][0]["state"]["terminated"]
    assert term["reason"] == "OOMKilled"
    assert term["exitCode"] == 137


def test_init_containers_run_in_order_first(cluster, pod_ns):
    run_pod(cluster, pod_ns, "inits", [busybox("app", "cat /work/order; sleep 3600",
                                               volumeMounts=[{"name": "work", "mountPath": "/work"}])],
            initContainers=[busybox("first", "echo first >> /work/order",
                                    volumeMounts=[{"name": "work", "mountPath": "/work"}]),
                            busybox("second", "echo second >> /work/order",
                                    volumeMounts=[{"name": "work", "mountPath": "/work"}])],
            volumes=[{"name": "work", "emptyDir": {}}])
    cluster.wait_for("pod/inits", "{.status.phase}", lambda v: v == "Running", pod_ns)
    p = pod(cluster, pod_ns, "inits")
    assert [s["state"]["terminated"]["reason"] for s in p["status"]["initContainerStatuses"]] == ["Completed"] * 2
    uid = p["metadata"]["uid"]
    import time
    deadline = time.monotonic() + 20
    logs = b""
    while time.monotonic() < deadline and b"second" not in logs:
        logs = cluster.agent.docker("logs", f"k8s_app_inits_{pod_ns}_{uid}_0").stdout
        time.sleep(0.2)
    assert logs.split() == [b"first", b"second"]


def test_failing_init_container_under_never_fails_the_pod(cluster, pod_ns):
    run_pod(cluster, pod_ns, "badinit", [busybox("app", "sleep 3600")], initContainers=[busybox("setup", "exit 1")],
            restartPolicy="Never")
    cluster.wait_for("pod/badinit", "{.status.phase}", lambda v: v == "Failed", pod_ns)
    out = cluster.kubectl("get", "pod", "badinit", "-n", pod_ns).stdout.decode()
    assert "Init:Error" in out


def test_image_errors(cluster, pod_ns):
    run_pod(cluster, pod_ns, "never", [{"name": "main", "image": "not-here:1.0", "imagePullPolicy": "Never"}])
    cluster.wait_for("pod/never", "{.status.containerStatuses[0].state.waiting.reason}",
                     lambda v: v == "ErrImageNeverPull", pod_ns)
    run_pod(cluster, pod_ns, "unpullable", [{"name": "main", "image": "127.0.0.1:1/nope:1.0"}])
    reason = cluster.wait_for("pod/unpullable", "{.status.containerStatuses[0].state.waiting.reason}",
                              lambda v: v in ("ErrImagePull", "ImagePullBackOff"), pod_ns)
    assert reason in ("ErrImagePull", "ImagePullBackOff")
    assert pod(cluster, pod_ns, "unpullable")["status"]["phase"] == "Pending"
    out = cluster.kubectl("get", "pod", "-n", pod_ns).stdout.decode()
    assert "ErrImageNeverPull" in out


def test_pod_that_does_not_fit_is_rejected(cluster, pod_ns):
    run_pod(cluster, pod_ns, "huge", [busybox("main", "sleep 3600", resources={"requests": {"cpu": "500"}})])
    cluster.wait_for("pod/huge", "{.status.phase}", lambda v: v == "Failed", pod_ns)
    status = pod(cluster, pod_ns, "huge")["status"]
    assert status["reason"] == "OutOfcpu"
    assert status["message"].startswith("Pod was rejected: Node didn't have enough resource: cpu, requested: 500000")
    assert "OutOfcpu" in cluster.kubectl("get", "pod", "huge", "-n", pod_ns).stdout.decode()
