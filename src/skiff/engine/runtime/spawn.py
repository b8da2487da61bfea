"""Forking a container process under a new shim.

The engine (P) forks A. A calls setsid, enters or creates the pid namespace, and forks B.
B sets itself up (`init.container_setup`) and tells A it is ready (or why it failed). A
reports B's pid (or the failure) to P on a pipe, then execs the shim, which thereby
inherits B as its child together with the stdio ends and the listening sockets.
B, for an init, then blocks on the exec fifo until `start`.

Forking straight from the engine (an asyncio program with worker threads) is safe here
because the children only run code imported before the fork, take no locks the other
threads could hold (no logging, no imports, no executor), and leave with os._exit or
execve. It costs two forks and no interpreter start-up.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import os
import signal
import socket
import threading
import traceback
from dataclasses import dataclass
from typing import Any

from skiff.common.errors import SystemError_
from skiff.engine.runtime import syscalls as sc
from skiff.engine.runtime.api import IOSpec
from skiff.engine.runtime.errors import ExecFailed
from skiff.engine.runtime.init import (
    SetupPlan,
    container_setup,
    enter_user_namespace,
    wait_for_start_and_exec,
)
from skiff.engine.runtime.process import ExecError
from skiff.engine.runtime.shimargs import log_args, stdio_pipes


@dataclass
class ShimFiles:
    exit_file: str
    attach_path: str
    control_path: str
    shim_log: str
    oom_file: str = ""


class SocketChannel:
    """JSON messages (with optional fds) over a SOCK_SEQPACKET socket."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.fds: list[int] = []

    def send(self, msg: dict[str, Any], fds: list[int] | None = None) -> None:
        socket.send_fds(self.sock, [json.dumps(msg).encode()], fds or [])

    def recv(self) -> dict[str, Any]:
        data, fds, _flags, _addr = socket.recv_fds(self.sock, 65536, 4)
        self.fds.extend(fds)
        return json.loads(data) if data else {}


def listen_unix(path: str) -> socket.socket:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    os.chmod(path, 0o600)
    s.listen(64)
    return s


def _describe(e: BaseException) -> tuple[str, int]:
    if isinstance(e, ExecError):
        return e.message, e.exit_code
    if isinstance(e, OSError):
        where = f" {e.filename}" if e.filename else ""
        return f"container init:{where}: {e.strerror or e}", 1
    return f"container init: {e!r}", 1


def _write_maps(pid: int, config: dict[str, Any]) -> None:
    linux = config.get("linux") or {}
    for kind, key in (("uid", "uidMappings"), ("gid", "gidMappings")):
        lines = "".join(f"{m['containerID']} {m['hostID']} {m['size']}\n" for m in linux.get(key) or [])
        if lines:
            with open(f"/proc/{pid}/{kind}_map", "w") as f:
                f.write(lines)


def _child_b(s: sc.LinuxSyscalls, ch: SocketChannel, plan: SetupPlan, stdio: list[int]) -> None:
    try:
        s.set_name("skiff-init")  # not the engine's name, while it waits for `start`
        if not plan.process.get("terminal"):
            for target, fd in enumerate(stdio):
                os.dup2(fd, target)
        # Drop every engine descriptor now rather than at exec: a container left `created`
        # must not keep the engine's client connections (or other containers' pipes) open.
        # No cyclic GC from here on: a finalizer could close a number since reused.
        gc.disable()
        s.close_fds_except({ch.sock.fileno(), plan.fifo_fd})
        ready = container_setup(s, ch, plan)
    except BaseException as e:  # noqa: B036 - everything must reach the parent, nothing may unwind
        msg, code = _describe(e)
        try:
            ch.send({"type": "error", "message": msg, "exit_code": code, "trace": traceback.format_exc()})
        finally:
            os._exit(1)
    ch.sock.close()
    try:
        wait_for_start_and_exec(s, ready)
    except BaseException as e:  # noqa: B036
        os.write(2, f"{_describe(e)[0]}\n".encode())
    os._exit(127)


def _child_a(s: sc.LinuxSyscalls, plan: SetupPlan, shim_argv: list[str], report_w: int,
             sync_a: socket.socket, sync_b: socket.socket, child_stdio: list[int], shim_fds: list[int],
             shim_log: str) -> None:
    os.setsid()
    userns = bool(plan.ns.new & sc.CLONE_NEWUSER)
    if plan.ns.join_pid:
        s.setns(plan.ns.join_pid, sc.CLONE_NEWPID)
    elif plan.ns.new_pid and not userns:
        s.unshare(sc.CLONE_NEWPID)
    b = stage = os.fork()
    if stage == 0:
        sync_a.close()
        os.close(report_w)  # else the engine would wait for this child's exec to see EOF
        ch_b = SocketChannel(sync_b)
        if not userns:
            _child_b(s, ch_b, plan, child_stdio)
        try:
            init, fifo_fd = enter_user_namespace(s, ch_b, plan)
        except BaseException as e:  # noqa: B036
            text, code = _describe(e)
            ch_b.send({"type": "error", "message": text, "exit_code": code})
            os._exit(1)
        if init == 0:
            _child_b(s, ch_b, dataclasses.replace(plan, cgroup_procs=[], fifo_fd=fifo_fd), child_stdio)
        ch_b.send({"type": "child", "pid": init})
        os._exit(0)
    sync_b.close()
    for fd in child_stdio:
        os.close(fd)

    def report(msg: dict[str, Any]) -> None:
        os.write(report_w, json.dumps(msg).encode() + b"\n")

    _await_init_and_exec_shim(plan, SocketChannel(sync_a), 0 if userns else b, stage, shim_argv, report,
                              shim_fds, shim_log)


def _await_init_and_exec_shim(plan: SetupPlan, ch: SocketChannel, b: int, stage: int, shim_argv: list[str],
                              report: Any, shim_fds: list[int], shim_log: str) -> None:
    """A, once B exists: wait for B's "ready" (or error), report B's pid (or the error) to the
    forking process, and exec the shim. `b` is 0 when the pid comes from a user namespace stage."""
    sync_a = ch.sock
    outcome: dict[str, Any] | None = None
    while outcome is None or not b:
        msg = ch.recv()
        kind = msg.get("type")
        if kind == "userns":
            _write_maps(stage, plan.config)
            ch.send({"type": "ok"})
        elif kind == "child":
            b = int(msg["pid"])
            os.waitpid(stage, 0)
        elif not msg:  # EOF: every holder of the socket is gone
            break
        elif outcome is None:
            outcome = msg  # "ready" or "error"
    if outcome is None:
        outcome = {"type": "error", "message": "container init exited during setup", "exit_code": 1}
    if outcome.get("type") != "ready":
        report({"error": outcome.get("message"), "exit_code": outcome.get("exit_code", 1)})
        for pid in {b, stage} - {0}:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        os._exit(0)
    shim_argv = [str(b) if arg == "{pid}" else arg for arg in shim_argv]
    if ch.fds:  # the pty master
        shim_argv += ["--pty-fd", str(ch.fds[0])]
        shim_fds.append(ch.fds[0])
    sync_a.close()
    report({"pid": b})
    for fd in shim_fds:
        os.set_inheritable(fd, True)
    null = os.open("/dev/null", os.O_RDWR)
    log = os.open(shim_log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.dup2(log, 2)
    os.execv(shim_argv[0], shim_argv)


# One spawn at a time: while a spawn's pipes and sockets are open in the engine, a fork by
# another worker thread would hand them to that container's init, which keeps them until it
# execs; two concurrent spawns then each wait forever for EOF on the other's report pipe.
_SPAWN_LOCK = threading.Lock()


def spawn(s: sc.LinuxSyscalls, shim_path: str, plan: SetupPlan, io: IOSpec, files: ShimFiles) -> tuple[int, int]:
    """Fork the process described by `plan` under a new shim. Returns (pid, shim pid)."""
    with _SPAWN_LOCK:
        return _spawn(s, shim_path, plan, io, files)


@dataclass
class ShimResources:
    """What the forking process makes for one spawn: the shim's command line, the process's
    stdio ends, the shim's ends and its listening sockets (their fds are in `shim_fds`)."""

    argv: list[str]
    child_stdio: list[int]
    shim_fds: list[int]
    listeners: list[socket.socket]

    def close(self) -> None:
        """The forking process's copies, once the children have theirs."""
        for fd in self.child_stdio + self.shim_fds[:-2]:
            os.close(fd)
        for sock in self.listeners:
            sock.close()


def shim_resources(shim_path: str, plan: SetupPlan, io: IOSpec, files: ShimFiles) -> ShimResources:
    terminal = bool(plan.process.get("terminal"))
    argv = [shim_path, "--exit-file", files.exit_file]
    child_stdio: list[int] = []
    shim_fds: list[int] = []
    if not terminal:
        pipe_args, child_stdio, shim_fds = stdio_pipes(io.stdin)
        argv += pipe_args
    attach = listen_unix(files.attach_path)
    control = listen_unix(files.control_path)
    shim_fds += [attach.fileno(), control.fileno()]
    argv += ["--attach-fd", str(attach.fileno()), "--control-fd", str(control.fileno())]
    argv += log_args(io)
    if files.oom_file:
        argv += ["--oom-file", files.oom_file]
    if plan.mode == "exec" and plan.fifo:
        argv += ["--gate-fifo", plan.fifo] + (["--gate-ms", "0"] if io.detached else [])
    argv += ["--pid", "{pid}"]
    return ShimResources(argv, child_stdio, shim_fds, [attach, control])


def spawn_result(result: dict[str, Any], a: int) -> tuple[int, int]:
    """(init pid, shim pid) from A's report, or its error raised (A reaped)."""
    if "pid" not in result:
        os.waitpid(a, 0)
        code = int(result.get("exit_code", 1))
        if code in (126, 127):
            raise ExecFailed(result["error"], code)
        raise SystemError_(str(result["error"]))
    return int(result["pid"]), a


def _spawn(s: sc.LinuxSyscalls, shim_path: str, plan: SetupPlan, io: IOSpec, files: ShimFiles) -> tuple[int, int]:
    res = shim_resources(shim_path, plan, io, files)
    argv, child_stdio, shim_fds = res.argv, res.child_stdio, res.shim_fds
    report_r, report_w = os.pipe()
    sync_a, sync_b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        a = os.fork()
        if a == 0:
            try:
                os.close(report_r)
                _child_a(s, plan, argv, report_w, sync_a, sync_b, child_stdio, shim_fds, files.shim_log)
            except BaseException:  # noqa: B036
                try:
                    os.write(report_w, json.dumps({"error": traceback.format_exc(), "exit_code": 1}).encode() + b"\n")
                finally:
                    os._exit(1)
            os._exit(1)
    finally:
        os.close(report_w)
        sync_a.close()
        sync_b.close()
        res.close()
    # One JSON line; no need to wait for the exec of the shim (EOF): the sockets are
    # already listening and the pipes buffer whatever the process writes meanwhile.
    raw = b""
    while not raw.endswith(b"\n"):
        chunk = os.read(report_r, 65536)
        if not chunk:
            break
        raw += chunk
    os.close(report_r)
    result: dict[str, Any] = json.loads(raw) if raw else {"error": "shim start failed", "exit_code": 1}
    return spawn_result(result, a)
