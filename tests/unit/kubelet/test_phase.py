"""The restart-policy table (seed 004): the pod phase for containers exiting cleanly or not."""

import pytest

from skiff.cluster.kubelet.phase import conditions, pod_phase


def running(name):
    return {"name": name, "ready": True, "state": {"running": {}}}


def exited(name, code):
    return {"name": name, "ready": False, "state": {"terminated": {"exitCode": code}}}


def crashlooping(name, code):
    return {"name": name, "ready": False, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
            "lastState": {"terminated": {"exitCode": code}}}


def spec(policy, *names, init=()):
    return {"restartPolicy": policy, "containers": [{"name": n} for n in names],
            "initContainers": [{"name": n} for n in init]}


@pytest.mark.parametrize("policy,statuses,expected", [
    # one container exits 0
    ("Always", [crashlooping("a", 0)], "Running"),
    ("OnFailure", [exited("a", 0)], "Succeeded"),
    ("Never", [exited("a", 0)], "Succeeded"),
    # one container exits 1
    ("Always", [crashlooping("a", 1)], "Running"),
    ("OnFailure", [crashlooping("a", 1)], "Running"),
    ("Never", [exited("a", 1)], "Failed"),
    # two containers, one exits 1, the other runs
    ("Always", [running("a"), crashlooping("b", 1)], "Running"),
    ("OnFailure", [running("a"), crashlooping("b", 1)], "Running"),
    ("Never", [running("a"), exited("b", 1)], "Running"),
    # ... then the other exits too
    ("Never", [exited("a", 0), exited("b", 1)], "Failed"),
    ("Never", [exited("a", 0), exited("b", 0)], "Succeeded"),
    # out of memory (exit 137, OOMKilled): a failure like any other
    ("Never", [exited("a", 137)], "Failed"),
    ("OnFailure", [crashlooping("a", 137)], "Running"),
])
def test_restart_policy_table(policy, statuses, expected):
    names = [s["name"] for s in statuses]
    assert pod_phase(spec(policy, *names), statuses, []) == expected


def test_pending_until_every_container_started():
    assert pod_phase(spec("Always", "a", "b"), [running("a")], []) == "Pending"
    waiting = {"name": "a", "state": {"waiting": {"reason": "ErrImagePull"}}}
    assert pod_phase(spec("Always", "a"), [waiting], []) == "Pending"


def test_init_containers_gate_and_fail():
    s = spec("Always", "app", init=("setup",))
    assert pod_phase(s, [], [running("setup")]) == "Pending"
    assert pod_phase(s, [running("app")], [exited("setup", 0)]) == "Running"
    never = spec("Never", "app", init=("setup",))
    assert pod_phase(never, [], [exited("setup", 2)]) == "Failed"
    assert pod_phase(spec("OnFailure", "app", init=("setup",)), [], [crashlooping("setup", 2)]) == "Pending"


def test_conditions_keep_transition_times_and_say_why():
    s = spec("Always", "a", "b")
    first = conditions(s, [running("a"), {**running("b"), "ready": False}], [], "Running", [], "T1")
    by = {c["type"]: c for c in first}
    assert by["Ready"]["status"] == "False"
    assert by["Ready"]["message"] == "containers with unready status: [b]"
    assert by["PodScheduled"]["status"] == "True"
    second = conditions(s, [running("a"), running("b")], [], "Running", first, "T2")
    by2 = {c["type"]: c for c in second}
    assert by2["Ready"] == {"type": "Ready", "status": "True", "lastProbeTime": None, "lastTransitionTime": "T2"}
    assert by2["PodScheduled"]["lastTransitionTime"] == "T1"
    done = {c["type"]: c for c in conditions(s, [exited("a", 0), exited("b", 0)], [], "Succeeded", second, "T3")}
    assert done["Ready"]["reason"] == "PodCompleted"
