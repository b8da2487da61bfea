"""A small process that forks containers for the engine.

`spawn` forks twice (the shim-to-be A, then the container's init B) and both children
start as copies of the forking process. Forked from the engine, each copy is ~40 MB of
address space: the fork, the copy-on-write faults of the Python code running in A and B
and the teardown when each execs all grow with it (about 1.5 ms per container on the
benchmark machine, and the engine's event loop stalls while it forks). The fork server is
a fresh interpreter (`python -S`) that imports only the runtime, started once by the engine
(`LinuxRuntime.start_fork_server`), which then runs `spawn._spawn` for each request.

Wire: one JSON message per request and per answer on a SOCK_SEQPACKET pair.
request {"shim", "plan", "io", "files"} -> {"pid", "shim_pid"} or {"error", "exit_code", "exec_failed"}.
The shims are the server's children (it reaps them); the engine waits on them through
pidfds as it does after a restart. The server dies with the engine (PR_SET_PDEATHSIG).
It keeps one spare pair of spawn children forked ahead of the next request (zygote.py).
"""

from __future__ import annotations

import dataclasses
import json
import os
import select
import signal
import socket
import sys
import threading
from typing import Any

from skiff.common.errors import SkiffError, SystemError_
from skiff.engine.runtime.api import IOSpec
from skiff.engine.runtime.errors import ExecFailed
from skiff.engine.runtime.init import SetupPlan
from skiff.engine.runtime.namespaces import NamespacePlan

MAX_MESSAGE = 1 << 20


# ---- the wire form of a spawn request (pure) ----

def _fields(obj: Any) -> dict[str, Any]:
    """A dataclass's fields, shallow: `dataclasses.asdict` deep-copies the whole spec, which
    cost more than the rest of the request (json.dumps walks the nested dicts anyway)."""
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


def plan_to_wire(plan: SetupPlan) -> dict[str, Any]:
    raw = _fields(plan)
    raw["ns"] = {**_fields(plan.ns), "types": sorted(plan.ns.types)}
    return raw


def plan_from_wire(raw: dict[str, Any]) -> SetupPlan:
    ns = dict(raw["ns"])
    ns["join"] = [tuple(j) for j in ns["join"]]
    ns["types"] = set(ns["types"])
    fields = dict(raw, ns=NamespacePlan(**ns))
    fields["cgroup_binds"] = [tuple(b) for b in raw["cgroup_binds"]]
    return SetupPlan(**fields)


def request(shim: str, plan: SetupPlan, io: IOSpec, files: Any) -> bytes:
    return json.dumps({"shim": shim, "plan": plan_to_wire(plan), "io": _fields(io),
                       "files": _fields(files)}).encode()


def answer_error(e: BaseException) -> dict[str, Any]:
    if isinstance(e, ExecFailed):
        return {"error": e.message, "exit_code": e.exit_code, "exec_failed": True}
    message = e.message if isinstance(e, SkiffError) else f"spawn: {e!r}"
    return {"error": message, "exit_code": 1, "exec_failed": False}


def result(answer: dict[str, Any]) -> tuple[int, int]:
    """(pid, shim pid), or the error the spawn raised in the server, raised again here."""
    if "pid" in answer:
        return int(answer["pid"]), int(answer["shim_pid"])
    if answer.get("exec_failed"):
        raise ExecFailed(answer["error"], int(answer["exit_code"]))
    raise SystemError_(str(answer.get("error") or "fork server: no answer"))


# ---- the engine's side ----

class ForkServer:
    """The engine's handle on its fork server; one request at a time."""

    def __init__(self, pid: int, sock: socket.socket):
        self.pid = pid
        self.sock = sock
        self.lock = threading.Lock()

    @classmethod
    def start(cls) -> ForkServer:
        """Start the server (from the engine's main thread: the death signal follows the
        thread that started it). It imports the runtime while the engine goes on."""
        import skiff

        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        src = os.path.dirname(os.path.dirname(os.path.abspath(skiff.__file__)))
        code = (f"import sys; sys.path.insert(0, {src!r}); "
                f"from skiff.engine.runtime.forkserver import serve; serve({theirs.fileno()}, {os.getpid()})")
        os.set_inheritable(theirs.fileno(), True)
        try:
            pid = os.posix_spawn(sys.executable, [sys.executable, "-S", "-c", code], dict(os.environ))
        finally:
            theirs.close()
        return cls(pid, ours)

    def spawn(self, shim: str, plan: SetupPlan, io: IOSpec, files: Any) -> tuple[int, int]:
        """Raises ConnectionError when the server is gone (the caller spawns by itself)."""
        with self.lock:
            try:
                self.sock.sendall(request(shim, plan, io, files))
                raw = self.sock.recv(MAX_MESSAGE)
            except OSError as e:
                raise ConnectionError(f"fork server: {e}") from e
        if not raw:
            raise ConnectionError("fork server exited")
        return result(json.loads(raw))

    def close(self) -> None:
        self.sock.close()  # the server sees EOF and exits
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


# ---- the server ----

def _reap() -> None:
    """Collect exited shims (our children) and failed first-stage children."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def serve(fd: int, engine_pid: int) -> None:
    from skiff.engine.runtime import syscalls as sc
    from skiff.engine.runtime import zygote
    from skiff.engine.runtime.spawn import ShimFiles, _spawn

    s = sc.LinuxSyscalls()
    s.prctl(sc.PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != engine_pid:  # the engine died before the line above took effect
        return
    s.set_name("skiff-forkd")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a ctrl-c in the engine's terminal is the engine's
    sock = socket.socket(fileno=fd)
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    spare: zygote.Spare | None = zygote.prefork(s, plan_from_wire)  # see zygote.py
    while True:
        if not poller.poll(1000):
            _reap()
            continue
        raw = sock.recv(MAX_MESSAGE)
        if not raw:
            if spare is not None:  # it exits on EOF; reaped here, not left a zombie of PID 1
                spare.close()
                os.waitpid(spare.pid, 0)
            return
        try:
            msg = json.loads(raw)
            plan, io, files = plan_from_wire(msg["plan"]), IOSpec(**msg["io"]), ShimFiles(**msg["files"])
            done: tuple[int, int] | None = None
            if spare is not None and zygote.eligible(plan):
                taken, spare = spare, None
                try:
                    done = taken.spawn(msg["shim"], plan, msg["plan"], io, files)
                except ConnectionError:  # the spare died: fork as usual
                    taken.close()
            pid, shim_pid = done or _spawn(s, msg["shim"], plan, io, files)
            answer: dict[str, Any] = {"pid": pid, "shim_pid": shim_pid}
        except Exception as e:  # every failure goes back to the engine, the server keeps serving
            answer = answer_error(e)
        sock.sendall(json.dumps(answer).encode())
        _reap()
        if spare is None:
            spare = zygote.prefork(s, plan_from_wire)
