from skiff.cluster.kubelet.backoff import Backoff
from skiff.cluster.kubelet.naming import ContainerKey
from skiff.cluster.kubelet.runtime import RuntimeContainer
from skiff.cluster.kubelet.status import container_status


def rc(attempt, status="running", code=0, oom=False):
    return RuntimeContainer(f"id{attempt}", ContainerKey("app", "p", "d", "u", attempt), {}, status, code, oom,
                            "2026-01-02T03:04:05.123456789Z", "2026-01-02T03:04:09.5Z", "busybox", "sha256:abc", "")


def test_backoff_is_immediate_then_doubles_to_five_minutes_and_resets():
    b = Backoff()
    assert b.next_start("k", 0, 5) == 5
    assert b.next_start("k", 5, 6) == 16
    assert b.next_start("k", 16, 17) == 37
    for _ in range(10):
        b.next_start("k", 0, 1)
    assert b.delays["k"] == 300
    assert b.next_start("k", 0, 1000) == 1000  # ran ten minutes: forgiven
    b.forget("k")
    assert "k" not in b.delays


def test_running_container():
    s = container_status("app", "busybox", [rc(0)], None, ready=True, started=True)
    assert s["state"] == {"running": {"startedAt": "2026-01-02T03:04:05Z"}}
    assert s["ready"] and s["started"] and s["restartCount"] == 0
    assert s["containerID"] == "docker://id0" and s["imageID"] == "docker://sha256:abc"


def test_crashloop_shows_last_termination():
    waiting = {"reason": "CrashLoopBackOff", "message": "back-off 10s restarting failed container=app pod=p_d(u)"}
    s = container_status("app", "busybox", [rc(0, "exited", 1), rc(1, "exited", 2)], waiting, False, False)
    assert s["state"] == {"waiting": waiting}
    assert s["lastState"]["terminated"]["exitCode"] == 2
    assert s["lastState"]["terminated"]["reason"] == "Error"
    assert s["restartCount"] == 1


def test_terminated_reasons_and_previous_attempt():
    s = container_status("app", "busybox", [rc(0, "exited", 137, oom=True)], None, False, False)
    assert s["state"]["terminated"]["reason"] == "OOMKilled"
    s = container_status("app", "busybox", [rc(0, "exited", 1), rc(1)], None, True, True)
    assert s["lastState"]["terminated"]["exitCode"] == 1 and "running" in s["state"]
    s = container_status("app", "busybox", [], {"reason": "ErrImagePull", "message": "m"}, False, False)
    assert s["state"] == {"waiting": {"reason": "ErrImagePull", "message": "m"}}
    assert container_status("app", "busybox", [rc(0, "exited", 0)], None, False, False)["state"]["terminated"][
        "reason"] == "Completed"
