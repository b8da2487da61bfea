"""The real kubectl's streaming commands against `skiff server` + a `skiff agent`: logs (with
-f, --previous, --tail, --since, --timestamps, --limit-bytes), exec with exit codes and stdin,
attach, cp both ways — through the API server's subresources to the kubelet's server."""

import json
import os
import pty
import re
import socket
import subprocess
import time
import urllib.request

import pytest

from tests.support import agent as agent_support
from tests.support.ptys import read_match, read_to_eof, set_size

cluster = agent_support.cluster  # fixtures: a server and one agent, a namespace per test
pod_ns = agent_support.pod_ns
pytestmark = [pytest.mark.root, pytest.mark.interop, pytest.mark.slow]


def busybox(name, command, **extra):
    return {"name": name, "image": "busybox:latest", "imagePullPolicy": "IfNotPresent", "command": command, **extra}


def run_pod(cluster, ns, name, containers, wait="Running", **spec):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {
        "terminationGracePeriodSeconds": 1, "containers": containers, **spec}}
    r = cluster.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(pod))
    assert r.returncode == 0, r.stderr
    cluster.wait_for(f"pod/{name}", "{.status.phase}", lambda v: v == wait, namespace=ns)


def test_logs_of_one_and_of_a_named_container(cluster, pod_ns):
    run_pod(cluster, pod_ns, "talker", [
        busybox("a", ["sh", "-c", "for i in 1 2 3 4 5; do echo line$i; done; echo oops >&2; sleep 3600"]),
        busybox("b", ["sh", "-c", "echo from-b; sleep 3600"])])
    cluster.wait_for("pod/talker", "{.status.containerStatuses[*].ready}", lambda v: v == "true true", pod_ns)
    deadline = time.monotonic() + 60  # ready once started: the shell may not have written yet (under load)
    while b"oops" not in cluster.kubectl("logs", "-n", pod_ns, "talker", "-c", "a").stdout:
        assert time.monotonic() < deadline, "talker's container a never logged"
        time.sleep(0.2)
    r = cluster.kubectl("logs", "-n", pod_ns, "talker", "-c", "a")
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().splitlines() == ["line1", "line2", "line3", "line4", "line5", "oops"]
    assert cluster.kubectl("logs", "-n", pod_ns, "talker", "-c", "b").stdout == b"from-b\n"
    r = cluster.kubectl("logs", "-n", pod_ns, "talker", "-c", "a", "--tail=2")
    assert r.stdout.decode().splitlines() == ["line5", "oops"]
    r = cluster.kubectl("logs", "-n", pod_ns, "talker", "-c", "a", "--limit-bytes=8")
    assert r.stdout == b"line1\nli"
    r = cluster.kubectl("logs", "-n", pod_ns, "talker", "-c", "a", "--timestamps", "--tail=1")
    assert re.fullmatch(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z oops\n", r.stdout), r.stdout
    r = cluster.kubectl("logs", "-n", pod_ns, "talker", "-c", "a", "--since=1h")
    assert r.stdout.decode().count("line") == 5
    r = cluster.kubectl("logs", "-n", pod_ns, "talker", "-c", "nope")
    assert r.returncode == 1
    assert b"container nope is not valid for pod talker" in r.stderr
    r = cluster.kubectl("logs", "-n", pod_ns, "missing")
    assert r.returncode == 1 and b'pods "missing" not found' in r.stderr


def test_logs_follow_streams_new_lines(cluster, pod_ns):
    run_pod(cluster, pod_ns, "ticker", [busybox("main", ["sh", "-c", "i=0; while true; do i=$((i+1)); "
                                                                       "echo tick$i; sleep 0.2; done"])])
    proc = subprocess.Popen(["kubectl", "--kubeconfig", str(cluster.server.kubeconfig), "logs", "-f", "-n", pod_ns,
                             "ticker"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        lines = [proc.stdout.readline() for _ in range(8)]
        assert lines == [f"tick{i}\n".encode() for i in range(1, 9)]
    finally:
        proc.kill()
        proc.wait()


def test_logs_previous_after_a_restart(cluster, pod_ns):
    run_pod(cluster, pod_ns, "crasher", [busybox("main", ["sh", "-c", "echo run-at-$(date +%s%N); sleep 1; exit 3"])])
    cluster.wait_for("pod/crasher", "{.status.containerStatuses[0].restartCount}",
                     lambda v: v not in ("", "0"), pod_ns, timeout=90)
    r = cluster.kubectl("logs", "-n", pod_ns, "crasher", "--previous")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(b"run-at-")
    r = cluster.kubectl("logs", "-n", pod_ns, "crasher", "-p", "-c", "main")
    assert r.stdout.startswith(b"run-at-")


def test_logs_previous_without_a_restart_is_an_error(cluster, pod_ns):
    run_pod(cluster, pod_ns, "steady", [busybox("main", ["sleep", "3600"])])
    r = cluster.kubectl("logs", "-n", pod_ns, "steady", "--previous")
    assert r.returncode == 1
    assert b'previous terminated container "main" in pod "steady" not found' in r.stderr


def test_exec_output_exit_codes_and_stdin(cluster, pod_ns):
    run_pod(cluster, pod_ns, "shell", [busybox("main", ["sleep", "3600"])])
    r = cluster.kubectl("exec", "-n", pod_ns, "shell", "--", "sh", "-c", "echo out; echo err >&2")
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"out\n" and r.stderr == b"err\n"
    r = cluster.kubectl("exec", "-n", pod_ns, "shell", "--", "sh", "-c", "exit 7")
    assert r.returncode == 7
    assert b"command terminated with exit code 7" in r.stderr
    r = cluster.kubectl("exec", "-i", "-n", pod_ns, "shell", "--", "sh", "-c", "tr a-z A-Z; echo done",
                        input="hello from stdin\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"HELLO FROM STDIN\ndone\n"
    r = cluster.kubectl("exec", "-n", pod_ns, "shell", "-c", "nope", "--", "true")
    assert r.returncode == 1 and b"container nope is not valid for pod shell" in r.stderr
    r = cluster.kubectl("exec", "-n", pod_ns, "shell", "--", "/no/such/binary")
    assert r.returncode != 0


def test_exec_with_a_tty_passes_its_size_and_exit_code(cluster, pod_ns):
    run_pod(cluster, pod_ns, "tty", [busybox("main", ["sleep", "3600"])])
    pid, fd = pty.fork()
    if pid == 0:  # the size set by the child: kubectl exec reads it once at its start
        set_size(0, 30, 100)
        os.execvp("kubectl", ["kubectl", "--kubeconfig", str(cluster.server.kubeconfig), "exec", "-i", "-t",
                              "-n", pod_ns, "tty", "--", "sh"])
    try:
        os.write(fd, b"stty size; tty; exit 4\n")
        out = read_to_eof(fd, timeout=60)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert b"30 100" in out, out
    assert b"/dev/pts/" in out, out
    assert os.waitstatus_to_exitcode(status) == 4


def test_attach_reads_the_main_process(cluster, pod_ns):
    run_pod(cluster, pod_ns, "catter", [busybox("main", ["sh", "-c", "while read l; do echo got:$l; done; "
                                                                       "echo bye; sleep 1"], stdin=True,
                                                  stdinOnce=True)])
    r = cluster.kubectl("attach", "-i", "-n", pod_ns, "catter", input="one\ntwo\n", timeout=60)
    assert b"got:one\ngot:two\n" in r.stdout, (r.stdout, r.stderr)


def _reap(pid: int) -> int:
    """The pty child's wait status; killed first when it is still running after 10 s (a failed
    step leaves kubectl attached, and waiting on it would hang the test)."""
    for _ in range(100):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.1)
    os.kill(pid, 9)
    return os.waitpid(pid, 0)[1]


def test_attach_with_a_terminal_to_an_interactive_shell(cluster, pod_ns):
    run_pod(cluster, pod_ns, "term", [busybox("main", ["sh"], stdin=True, tty=True)])
    pid, fd = pty.fork()
    if pid == 0:
        set_size(0, 25, 90)
        os.execvp("kubectl", ["kubectl", "--kubeconfig", str(cluster.server.kubeconfig), "attach", "-i", "-t",
                              "-n", pod_ns, "term"])
    try:
        seen = read_match(fd, rb"try pressing enter", timeout=30)
        assert b"try pressing enter" in seen, seen
        # kubectl sends the size plus one, then the size (to force a redraw): a command typed
        # between the two sees 26 91, so ask again until the second resize has landed
        seen = read_match(fd, rb"size=25 90", timeout=30, poke=b"echo size=$(stty size)\n")
        assert b"size=25 90" in seen, seen
        os.write(fd, b"echo sum=$((40+2))\n")
        seen = read_match(fd, rb"sum=42", timeout=30)
        assert b"sum=42" in seen, seen
        os.write(fd, b"exit 0\n")
        read_to_eof(fd, timeout=30)
    finally:
        status = _reap(pid)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0
    cluster.wait_for("pod/term", "{.status.containerStatuses[0].restartCount}", lambda v: v not in ("", "0"),
                     pod_ns, timeout=60)  # the shell exited: restartPolicy Always starts it again


def test_exec_waits_for_the_exit_code_after_the_output_closes(cluster, pod_ns):
    run_pod(cluster, pod_ns, "late", [busybox("main", ["sleep", "3600"])])
    r = cluster.kubectl("exec", "-n", pod_ns, "late", "--", "sh", "-c", "echo bye; exec >&- 2>&-; sleep 2; exit 9")
    assert (r.returncode, r.stdout) == (9, b"bye\n"), r.stderr


def test_cp_into_and_out_of_a_pod(cluster, pod_ns, tmp_path):
    run_pod(cluster, pod_ns, "files", [busybox("main", ["sleep", "3600"])])
    src = tmp_path / "in.txt"
    src.write_bytes(b"payload " * 1000)
    r = cluster.kubectl("cp", str(src), f"{pod_ns}/files:/tmp/in.txt")
    assert r.returncode == 0, r.stderr
    r = cluster.kubectl("exec", "-n", pod_ns, "files", "--", "wc", "-c", "/tmp/in.txt")
    assert r.stdout.split()[0] == b"8000"
    r = cluster.kubectl("exec", "-n", pod_ns, "files", "--", "sh", "-c", "mkdir -p /tmp/d && echo inside > /tmp/d/f")
    assert r.returncode == 0
    out = tmp_path / "out"
    r = cluster.kubectl("cp", f"{pod_ns}/files:/tmp/d", str(out))
    assert r.returncode == 0, r.stderr
    assert (out / "f").read_bytes() == b"inside\n"


def _forward(cluster, ns, target, ports):
    proc = subprocess.Popen(["kubectl", "--kubeconfig", str(cluster.server.kubeconfig), "port-forward", "-n", ns,
                             target, ports], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = proc.stdout.readline().decode()
    match = re.match(r"Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)", line)
    if not match:
        proc.kill()
        raise AssertionError(f"kubectl port-forward said {line!r}: {proc.communicate()[1]!r}")
    return proc, int(match.group(1))


def test_port_forward_to_busybox_httpd(cluster, pod_ns):
    run_pod(cluster, pod_ns, "web", [busybox("httpd", ["sh", "-c", "mkdir -p /www && echo hello-pod > /www/index.html"
                                                                   " && exec httpd -f -p 8080 -h /www"],
                                             ports=[{"containerPort": 8080}])])
    deadline = time.monotonic() + 60  # Running once started: httpd may not listen yet (under load)
    while cluster.kubectl("exec", "-n", pod_ns, "web", "--", "wget", "-qO-", "http://127.0.0.1:8080/index.html"
                          ).stdout != b"hello-pod\n":
        assert time.monotonic() < deadline, "httpd never answered in the pod"
        time.sleep(0.2)
    proc, local = _forward(cluster, pod_ns, "pod/web", ":8080")
    try:
        for _ in range(3):  # one pair of streams per connection
            with urllib.request.urlopen(f"http://127.0.0.1:{local}/index.html", timeout=20) as resp:
                assert resp.read() == b"hello-pod\n"
        big = "x" * 300_000  # more than a SPDY window, both ways
        r = cluster.kubectl("exec", "-n", pod_ns, "web", "--", "sh", "-c",
                            "head -c 300000 /dev/zero | tr '\\0' x > /www/big")
        assert r.returncode == 0, r.stderr
        with urllib.request.urlopen(f"http://127.0.0.1:{local}/big", timeout=30) as resp:
            assert resp.read() == big.encode()
    finally:
        proc.terminate()
        proc.wait(20)


def test_port_forward_to_a_closed_port_reports_the_error(cluster, pod_ns):
    run_pod(cluster, pod_ns, "quiet", [busybox("main", ["sleep", "3600"])])
    proc, local = _forward(cluster, pod_ns, "quiet", "0:9999")
    try:
        with socket.create_connection(("127.0.0.1", local), timeout=20) as conn:
            conn.settimeout(20)
            assert conn.recv(100) == b""  # kubectl closes the local connection
        time.sleep(0.5)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert b"error forwarding port 9999" in err, err
