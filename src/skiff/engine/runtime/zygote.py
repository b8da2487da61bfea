"""A spare pair of spawn children, forked ahead of the next request (fork server only).

`spawn._spawn` forks A (the shim-to-be), which forks B (the container's init) once a request
has come: two forks of a Python process, each child first running only once the scheduler
gives it a CPU and after its copy-on-write faults — ~2 ms quiet, much more on a busy host, on
the critical path of every `docker run`. The fork server instead keeps one spare: A already
`setsid`, in a new pid namespace, B forked and blocked on a socket. A request for an init
with a new pid namespace and no user namespace (what `docker run` asks for) is handed to the
spare: A gets the shim's command line and descriptors, passes the plan and B's stdio on to B,
and from there everything runs as in `spawn` (B sets up, A reports and execs the shim, so the
shim is the fork server's child and the init the shim's, as before). The server forks the
next spare after answering, off the critical path. Other requests (exec, a user namespace,
`--pid host`) fork as before.

Wire (SOCK_SEQPACKET, JSON with descriptors): server → A `{"plan", "argv", "shim_log",
"shim_fds": [numbers in the server]}` + the shim's descriptors then B's stdio; A → B
`{"plan"}` + B's stdio; A → server the report `spawn` reads (`{"pid"}` or `{"error",
"exit_code"}`). A spare whose server is gone sees EOF and exits, killing its B.
"""

from __future__ import annotations

import json
import os
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from skiff.engine.runtime import syscalls as sc
from skiff.engine.runtime.init import SetupPlan
from skiff.engine.runtime.spawn import (
    ShimFiles,
    SocketChannel,
    _await_init_and_exec_shim,
    _child_b,
    shim_resources,
    spawn_result,
)

MAX_MESSAGE = 1 << 20
MAX_FDS = 16


def eligible(plan: SetupPlan) -> bool:
    """Whether a spare (new pid namespace already made, no user namespace) fits the request."""
    return (plan.mode == "init" and plan.ns.new_pid and not plan.ns.join_pid
            and not plan.ns.new & sc.CLONE_NEWUSER)


def remap_fd_args(argv: list[str], theirs: list[int], ours: list[int]) -> list[str]:
    """The shim's command line with each `--…-fd N` number moved from the sender's descriptor
    table to the receiver's (descriptors passed over a socket get new numbers)."""
    moved = {str(a): str(b) for a, b in zip(theirs, ours, strict=True)}
    return [moved.get(arg, arg) if i and argv[i - 1].endswith("-fd") else arg for i, arg in enumerate(argv)]


def _recv(sock: socket.socket) -> tuple[dict[str, Any], list[int]]:
    data, fds, _flags, _addr = socket.recv_fds(sock, MAX_MESSAGE, MAX_FDS)
    return (json.loads(data) if data else {}), list(fds)


@dataclass
class Spare:
    pid: int  # A
    ctl: socket.socket

    def close(self) -> None:
        """Let it go (it exits on EOF); the server reaps it."""
        self.ctl.close()

    def spawn(self, shim_path: str, plan: SetupPlan, plan_wire: dict[str, Any], io: Any,
              files: ShimFiles) -> tuple[int, int]:
        """Hand a request to the spare; returns (init pid, shim pid) as `spawn._spawn` does.
        Raises ConnectionError (nothing made is left open) when the spare is gone."""
        res = shim_resources(shim_path, plan, io, files)
        try:
            job = {"plan": plan_wire, "argv": res.argv, "shim_log": files.shim_log, "shim_fds": res.shim_fds}
            try:
                socket.send_fds(self.ctl, [json.dumps(job).encode()], res.shim_fds + res.child_stdio)
            except OSError as e:
                raise ConnectionError(f"spare: {e}") from e
        finally:
            res.close()
        raw = self.ctl.recv(MAX_MESSAGE)
        self.ctl.close()
        result: dict[str, Any] = json.loads(raw) if raw else {"error": "shim start failed", "exit_code": 1}
        return spawn_result(result, self.pid)


def prefork(s: sc.LinuxSyscalls, decode_plan: Callable[[dict[str, Any]], SetupPlan]) -> Spare:
    ctl, ctl_a = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    sync_a, sync_b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    a = os.fork()
    if a == 0:
        try:
            ctl.close()
            _spare_a(s, ctl_a, sync_a, sync_b, decode_plan)
        except BaseException:  # noqa: B036 - a child never unwinds into the server's code
            pass
        os._exit(1)
    ctl_a.close()
    sync_a.close()
    sync_b.close()
    return Spare(a, ctl)


def _spare_a(s: sc.LinuxSyscalls, ctl: socket.socket, sync_a: socket.socket, sync_b: socket.socket,
             decode_plan: Callable[[dict[str, Any]], SetupPlan]) -> None:
    s.close_fds_except({ctl.fileno(), sync_a.fileno(), sync_b.fileno()})  # the server's own (engine socket…)
    os.setsid()
    s.unshare(sc.CLONE_NEWPID)
    b = os.fork()
    if b == 0:
        ctl.close()
        sync_a.close()
        job, stdio = _recv(sync_b)
        if not job:
            os._exit(0)
        _child_b(s, SocketChannel(sync_b), decode_plan(job["plan"]), stdio)
    sync_b.close()
    job, fds = _recv(ctl)
    if not job:  # the server is gone or let us go
        os.kill(b, signal.SIGKILL)
        os.waitpid(b, 0)
        os._exit(0)
    n = len(job["shim_fds"])
    shim_fds, child_stdio = fds[:n], fds[n:]
    argv = remap_fd_args(job["argv"], job["shim_fds"], shim_fds)
    socket.send_fds(sync_a, [json.dumps({"plan": job["plan"]}).encode()], child_stdio)
    for fd in child_stdio:
        os.close(fd)

    def report(msg: dict[str, Any]) -> None:
        ctl.send(json.dumps(msg).encode())

    _await_init_and_exec_shim(decode_plan(job["plan"]), SocketChannel(sync_a), b, b, argv, report, shim_fds,
                              job["shim_log"])
