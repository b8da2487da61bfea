"""Two standalone `skiff controller-manager`s on one Lease: one acts, the other takes over when
it dies; `--controllers` leaves a disabled controller's objects alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.support.kwok import Kwok
from tests.support.server import Server

pytestmark = [pytest.mark.interop, pytest.mark.slow]
LEASE = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager"


def manager(server: Server, *args: str) -> subprocess.Popen:
    # a lease of 6 s: a leader slowed by the full suite's load still renews in time (with 3 s, the
    # standby could take over from a live one); its log in a file, as a pipe nobody reads could fill
    cmd = [sys.executable, "-m", "skiff", "controller-manager", "--kubeconfig", str(server.kubeconfig),
           "--leader-elect-lease-duration=6", "--leader-elect-renew-deadline=4", "--leader-elect-retry-period=0.5",
           *args]
    with open(server.root / "controller-managers.log", "ab") as log:
        return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)


def wait(what, timeout: float = 90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (got := what()):
            return got
        time.sleep(0.2)
    raise AssertionError("timed out")


def holder(server: Server) -> str:
    status, lease = server.json("GET", LEASE)
    return lease.get("spec", {}).get("holderIdentity", "") if status == 200 else ""


def rc_pods(server: Server, ns: str) -> int:
    status, body = server.json("GET", f"/api/v1/namespaces/{ns}/pods")
    return len([p for p in body.get("items", []) if not p["metadata"].get("deletionTimestamp")])


@pytest.fixture
def bare_server():
    server = Server(extra_args=["--disable-controller-manager"]).start()
    kwok = Kwok(server).start([f"kwok-cm-{os.getpid()}"])
    try:
        yield server
    finally:
        try:
            kwok.stop()
        finally:
            server.cleanup()


def rc(replicas: int) -> dict:
    return {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "echo"},
            "spec": {"replicas": replicas, "selector": {"app": "echo"},
                     "template": {"metadata": {"labels": {"app": "echo"}},
                                  "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}}


def test_one_leader_acts_and_a_standby_takes_over(bare_server):
    server = bare_server
    ns = "default"
    a = manager(server)
    b = None
    try:
        first = wait(lambda: holder(server))  # a is the only candidate: it leads
        b = manager(server)
        assert server.json("POST", f"/api/v1/namespaces/{ns}/replicationcontrollers", rc(2))[0] == 201
        wait(lambda: rc_pods(server, ns) == 2)
        time.sleep(1)
        assert holder(server) == first  # renewed, and the standby did not take it
        # kill the leader without a chance to release: the standby waits out the lease and takes over
        os.killpg(a.pid, signal.SIGKILL)
        a.wait()
        wait(lambda: holder(server) not in ("", first))
        status, _ = server.json("PATCH", f"/api/v1/namespaces/{ns}/replicationcontrollers/echo",
                                {"spec": {"replicas": 3}}, headers={"Content-Type": "application/merge-patch+json"})
        assert status == 200
        wait(lambda: rc_pods(server, ns) == 3)
        assert b.poll() is None
    finally:
        for p in (a, b):
            if p is not None and p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(10)


def test_disabled_controller_leaves_its_objects_alone(bare_server):
    server = bare_server
    m = manager(server, "--controllers=*,-replicationcontroller", "--leader-elect=false")
    try:
        assert server.json("POST", "/api/v1/namespaces/default/replicationcontrollers", rc(1))[0] == 201
        rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web"},
              "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                       "template": {"metadata": {"labels": {"app": "web"}},
                                    "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}}
        assert server.json("POST", "/apis/apps/v1/namespaces/default/replicasets", rs)[0] == 201
        wait(lambda: rc_pods(server, "default") == 1)
        time.sleep(1)
        _, pods = server.json("GET", "/api/v1/namespaces/default/pods")
        assert [p["metadata"]["ownerReferences"][0]["kind"] for p in pods["items"]] == ["ReplicaSet"]
    finally:
        os.killpg(m.pid, signal.SIGTERM)
        m.wait(10)
    bad = subprocess.run([sys.executable, "-m", "skiff", "controller-manager", "--kubeconfig", str(server.kubeconfig),
                          "--controllers=*,bogus"], capture_output=True, timeout=30)
    assert bad.returncode == 1
    assert b'"bogus" is not in the list of known controllers' in bad.stderr
