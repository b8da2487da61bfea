"""RuncRuntime: the same Runtime protocol, with /usr/sbin/runc doing the container set-up.

The shim runs `runc create` (or `runc exec -d`) itself, as a child subreaper, so the
container process ends up as the shim's child exactly as with LinuxRuntime; the state
files, logs, attach and wait are shared code (`ShimmedRuntime`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
from typing import Any

from skiff.common.errors import Conflict, InvalidArgument, SystemError_
from skiff.common.timefmt import now_rfc3339
from skiff.engine.runtime.api import CREATED, RUNNING, IOSpec, RuntimeState
from skiff.engine.runtime.errors import ExecFailed
from skiff.engine.runtime.linux import load_bundle
from skiff.engine.runtime.shimargs import log_args, stdio_pipes
from skiff.engine.runtime.shimbin import ensure_shim
from skiff.engine.runtime.shimmed import ShimmedRuntime
from skiff.engine.runtime.spawn import listen_unix
from skiff.engine.runtime.state import StateDir, proc_start_time

RUNC = shutil.which("runc") or "/usr/sbin/runc"


def runc_error(text: str) -> SystemError_:
    """runc's last error line → ExecFailed (126/127, Docker's mapping) or SystemError_."""
    msg = text.strip().splitlines()[-1] if text.strip() else "runc failed"
    m = re.search(r'exec: "[^"]*": .*', msg)
    if m:
        detail = m.group(0)
        if "executable file not found" in detail or "no such file or directory" in detail:
            return ExecFailed(detail, 127)
        if "permission denied" in detail or "is a directory" in detail:
            return ExecFailed(detail, 126)
    return SystemError_(msg)


def _runc_log_text(path: str) -> str:
    lines = []
    try:
        with open(path) as f:
            for line in f:
                try:
                    entry = json.loads(line)
                except ValueError:
                    lines.append(line.strip())
                    continue
                if entry.get("level") in ("error", "fatal"):
                    lines.append(entry.get("msg", ""))
    except OSError:
        pass
    return "\n".join(lines)


class RuncRuntime(ShimmedRuntime):
    def __init__(self, state_root: str, prefix: str = "skiff", bin_dir: str | None = None, runc: str = RUNC):
        super().__init__(state_root, prefix, bin_dir)
        self.runc = runc
        self.runc_root = os.path.join(state_root, ".runc")

    def _runc(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run([self.runc, "--root", self.runc_root, *args], capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise runc_error(proc.stderr)
        return proc

    def _spawn(self, d: StateDir, runc_args: list[str], io: IOSpec, terminal: bool, oom_file: str) -> tuple[int, int]:
        """Fork a shim that runs `runc <runc_args>`; returns (container pid, shim pid)."""
        shim = ensure_shim(self.bin_dir)
        pid_file = d.file("init.pid")
        log_file = d.file("runc.log")
        argv = [shim, "--exit-file", d.file("exit.json"), "--pid-file", pid_file]
        child: list[int] = []
        keep: list[int] = []
        socks = [listen_unix(d.sock("attach")), listen_unix(d.sock("control"))]
        argv += ["--attach-fd", str(socks[0].fileno()), "--control-fd", str(socks[1].fileno())]
        keep += [s.fileno() for s in socks]
        if terminal:
            console = listen_unix(d.sock("console"))
            socks.append(console)
            keep.append(console.fileno())
            argv += ["--console-fd", str(console.fileno())]
            runc_args = runc_args[:1] + ["--console-socket", d.sock("console")] + runc_args[1:]
            child = [os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC)] * 3
        else:
            pipe_args, child, shim_ends = stdio_pipes(io.stdin)
            argv += pipe_args
            keep += shim_ends
        argv += log_args(io)
        if oom_file:
            argv += ["--oom-file", oom_file]
        ready_r, ready_w = os.pipe()
        keep.append(ready_w)
        argv += ["--ready-fd", str(ready_w), "--run", self.runc, "--root", self.runc_root, "--log", log_file,
                 "--log-format", "json", *runc_args]
        pid = os.fork()
        if pid == 0:
            try:
                os.setsid()
                for target, fd in enumerate(child):
                    os.dup2(fd, target)
                for fd in keep:
                    os.set_inheritable(fd, True)
                os.execv(shim, argv)
            finally:
                os._exit(127)
        sock_fds = {s.fileno() for s in socks}
        for fd in (set(child) | set(keep)) - sock_fds:
            os.close(fd)
        for s in socks:
            s.close()
        with os.fdopen(ready_r, "rb") as f:
            answer = f.read().decode().split()
        if not answer or answer[0] != "ok":
            try:
                os.waitpid(pid, 0)  # the shim exits right after a failed runc
            except ChildProcessError:
                pass
            raise runc_error(_runc_log_text(log_file))
        return int(answer[1]), pid

    def create(self, id: str, bundle: str, io: IOSpec) -> RuntimeState:
        d = self._check_new(id)
        self._check_log(io)
        config, rootfs = load_bundle(bundle)
        config = json.loads(json.dumps(config))
        terminal = bool(config["process"].get("terminal", io.terminal))
        config["process"]["terminal"] = terminal
        config["root"] = dict(config.get("root") or {}, path=rootfs)
        cgpath = self._cgroup_path(id, config)
        config.setdefault("linux", {})["cgroupsPath"] = cgpath
        own_bundle = d.file("bundle")
        os.makedirs(own_bundle, mode=0o711)
        with open(os.path.join(own_bundle, "config.json"), "w") as f:
            json.dump(config, f)
        cg = self._cgroup({"cgroup_path": cgpath})
        try:
            pid, shim_pid = self._spawn(d, ["create", "--bundle", own_bundle, "--pid-file", d.file("init.pid"), id],
                                        io, terminal, cg.oom_file())
        except BaseException:
            self._runc("delete", "--force", id, check=False)
            d.remove()
            raise
        os.mkfifo(d.fifo)  # "created" until start, as for LinuxRuntime
        d.write({"id": id, "bundle": os.path.abspath(bundle), "rootfs": rootfs, "pid": pid,
                 "pid_start": proc_start_time(pid), "shim_pid": shim_pid, "shim_start": proc_start_time(shim_pid),
                 "created": now_rfc3339(), "cgroup_path": cgpath, "terminal": terminal,
                 "annotations": config.get("annotations") or {}, "runtime": "runc"})
        return self.state(id)

    def start(self, id: str) -> None:
        d = self.root.existing(id)
        status, _ = self._status(d, d.read())
        self._require(status, CREATED, id)
        self._runc("start", id)
        os.unlink(d.fifo)

    def delete(self, id: str, force: bool = False) -> None:
        d = self.root.existing(id)
        st = d.read()
        status, _ = self._status(d, st)
        if status not in (CREATED, "stopped") and not force:
            raise Conflict(f"cannot delete container {id} that is not stopped: {status}")
        self._runc("kill", "--all", id, str(int(signal.SIGKILL)), check=False)
        super().delete(id, force=True)
        self._runc("delete", "--force", id, check=False)

    def exec(self, id: str, exec_id: str, process: dict[str, Any], io: IOSpec) -> RuntimeState:
        d = self.root.existing(id)
        status, _ = self._status(d, d.read())
        self._require(status, RUNNING, id)
        ed = self.root.exec(id, exec_id)
        if ed.exists():
            raise InvalidArgument(f"exec {exec_id} already exists")
        os.makedirs(ed.path, mode=0o711, exist_ok=True)
        process = dict(process)
        process["terminal"] = bool(process.get("terminal", io.terminal))
        with open(ed.file("process.json"), "w") as f:
            json.dump(process, f)
        try:
            pid, shim_pid = self._spawn(ed, ["exec", "--detach", "--process", ed.file("process.json"), "--pid-file",
                                             ed.file("init.pid"), id], io, process["terminal"], "")
        except BaseException:
            ed.remove()
            raise
        st = d.read()
        ed.write({"id": exec_id, "container": id, "pid": pid, "pid_start": proc_start_time(pid),
                  "shim_pid": shim_pid, "shim_start": proc_start_time(shim_pid), "created": now_rfc3339(),
                  "cgroup_path": st["cgroup_path"], "terminal": process["terminal"]})
        return self._to_state(ed, ed.read())
