"""`skiff scheduler` on its own (kube-scheduler's role), with leader election, against a
`skiff server --disable-scheduler`; and the server's own scheduler as a supervised child."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from tests.integration.scheduler.test_scheduling import create, get_pod, node, pod, wait_for
from tests.support.server import Server

pytestmark = [pytest.mark.interop, pytest.mark.slow]


def start_scheduler(srv: Server, *flags: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "skiff", "scheduler", "--kubeconfig", str(srv.kubeconfig),
                             "--leader-elect-retry-period", "0.5", *flags],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def stop(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=20)
    return out


def test_two_standalone_schedulers_one_leader_and_a_clean_handover(tmp_path):
    srv = Server(tmp_path / "srv", extra_args=["--disable-scheduler"]).start()
    first = start_scheduler(srv)
    second = None
    try:
        create(srv, node("n1"), pod("web"))
        assert wait_for(lambda: get_pod(srv, "web")["spec"].get("nodeName"), what="web bound") == "n1"
        out = srv.kubectl("get", "lease", "-n", "kube-system", "kube-scheduler",
                          "-o", "jsonpath={.spec.holderIdentity}")
        assert out.returncode == 0 and out.stdout.decode().startswith(os.uname().nodename + "_"), out
        holder = out.stdout.decode()
        second = start_scheduler(srv)
        log = stop(first)  # gives the lease up: the second takes over at once
        assert "successfully acquired lease kube-system/kube-scheduler" in log
        create(srv, pod("api"))
        assert wait_for(lambda: get_pod(srv, "api")["spec"].get("nodeName"), what="api bound") == "n1"
        assert wait_for(lambda: srv.kubectl("get", "events", "--field-selector",
                                            "reason=Scheduled,involvedObject.name=api", "-o",
                                            "jsonpath={.items[*].message}").stdout, what="Scheduled event")
        lease = srv.kubectl("get", "lease", "-n", "kube-system", "kube-scheduler",
                            "-o", "jsonpath={.spec.holderIdentity}")
        assert lease.stdout.decode() not in ("", holder)  # the second scheduler holds it now
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                stop(proc)
        srv.cleanup()


def test_bad_kubeconfig_is_a_clear_error(tmp_path):
    out = subprocess.run([sys.executable, "-m", "skiff", "scheduler", "--kubeconfig", str(tmp_path / "none.yaml")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and out.stderr.startswith("skiff scheduler: "), out


def test_server_restarts_its_scheduler_child_and_it_goes_with_the_server(tmp_path):
    srv = Server(tmp_path / "srv").start()
    try:
        def child() -> int:
            found = subprocess.run(["pgrep", "-P", str(srv.proc.pid), "-f", "skiff scheduler"],
                                   capture_output=True, text=True).stdout.split()
            return int(found[0]) if found else 0

        first = wait_for(child, what="the scheduler child")
        os.kill(first, signal.SIGKILL)
        second = wait_for(lambda: (c := child()) != first and c, what="a restarted scheduler")
        create(srv, node("n1"), pod("web"))
        assert wait_for(lambda: get_pod(srv, "web")["spec"].get("nodeName"), what="web bound") == "n1"
        assert f"scheduler (pid {first}) exited" in srv.log()
    finally:
        srv.cleanup()
    assert wait_for(lambda: not os.path.exists(f"/proc/{second}") or "Z" in open(f"/proc/{second}/stat").read().split()[2],
                    what="the child to go with the server")
