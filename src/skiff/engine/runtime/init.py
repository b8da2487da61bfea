"""Inside the new container process: namespaces, rootfs, identity, then wait and exec.

`container_setup` is the part between fork and execve of the container's init (or of an
exec'd process). It only ever calls through a `Syscalls` object and a `Channel` to its
parent, so unit tests run it against `RecordingSyscalls` and a fake channel.

Messages on the channel (child → parent): {"type": "userns"} (write my id maps, then
answer), {"type": "ready"} with the pty master as an attached fd when there is a
terminal, or {"type": "error", "message": ..., "exit_code": ...}.
"""

from __future__ import annotations

import fcntl
import os
import signal
import struct
import termios
from dataclasses import dataclass, field
from typing import Any, Protocol

from skiff.engine.runtime import process as proc
from skiff.engine.runtime import rootfs
from skiff.engine.runtime import syscalls as sc
from skiff.engine.runtime.namespaces import NamespacePlan
from skiff.engine.runtime.syscalls import Syscalls

TIOCGPTPEER = 0x5441
TIOCSPTLCK = 0x40045431
TIOCSCTTY = 0x540E


class Channel(Protocol):
    def send(self, msg: dict[str, Any], fds: list[int] | None = None) -> None: ...
    def recv(self) -> dict[str, Any]: ...


@dataclass
class SetupPlan:
    """Everything the child needs, computed in the parent before fork."""

    mode: str  # "init" or "exec"
    process: dict[str, Any]
    ns: NamespacePlan
    config: dict[str, Any] = field(default_factory=dict)  # the whole spec (init only)
    rootfs: str = ""
    cgroup_procs: list[str] = field(default_factory=list)
    cgroup_binds: list[tuple[str, str]] = field(default_factory=list)
    fifo: str = ""  # blocks here until `start` (init) or the shim's gate opens (exec)
    last_cap: int = 40
    fifo_fd: int = -1  # the fifo, already open (the user namespace stage opens it)


@dataclass
class Ready:
    """What setup hands back to the exec step."""

    path: str
    args: list[str]
    env: list[str]
    fifo_fd: int = -1


def _open_terminal(s: Syscalls, ioctl, size: dict[str, int] | None) -> tuple[int, int]:
    """A pty from the container's own devpts; returns (master, slave)."""
    master = s.open("/dev/ptmx", os.O_RDWR | os.O_NOCTTY)
    ioctl(master, TIOCSPTLCK, 0)
    if size:
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", int(size.get("height", 0)),
                                                            int(size.get("width", 0)), 0, 0))
    slave = ioctl(master, TIOCGPTPEER, os.O_RDWR | os.O_NOCTTY)
    return master, slave


def enter_user_namespace(s: Syscalls, ch: Channel, plan: SetupPlan) -> tuple[int, int]:
    """The extra stage a new user namespace needs (run in a child of the shim-to-be):
    join the cgroup while still host root, unshare the user namespace and have the parent
    write the id maps, become its root, unshare the pid namespace (so the user namespace
    owns it, which /proc needs), and clone the container's init as the shim's own child.
    Returns (the clone's result: 0 in the init, its pid in this stage; the exec fifo opened
    while the state directory was still reachable)."""
    fifo_fd = s.open(plan.fifo, os.O_PATH) if plan.fifo else -1
    for f in plan.cgroup_procs:
        s.write_file(f, "0")
    s.unshare(sc.CLONE_NEWUSER)
    ch.send({"type": "userns"})
    ch.recv()
    s.setresgid(0)
    s.setresuid(0)
    if plan.ns.new_pid:
        s.unshare(sc.CLONE_NEWPID)
    return s.clone_parent(), fifo_fd


def linux_ioctl(fd: int, request: int, arg: int) -> int:
    if request == TIOCSPTLCK:  # takes a pointer to an int
        fcntl.ioctl(fd, request, struct.pack("i", arg))
        return 0
    return fcntl.ioctl(fd, request, arg)


def container_setup(s: Syscalls, ch: Channel, plan: SetupPlan, ioctl=linux_ioctl) -> Ready:
    """Run in the forked child. Raises proc.ExecError or OSError on failure."""
    process = plan.process
    config = plan.config
    linux = config.get("linux") or {}
    fifo_fd = plan.fifo_fd
    if plan.fifo and fifo_fd < 0:  # opened by host path, before any namespace or root changes
        fifo_fd = s.open(plan.fifo, os.O_PATH)
    for f in plan.cgroup_procs:
        s.write_file(f, "0")
    for _kind, path in plan.ns.join:
        s.setns(path, 0)
    new = plan.ns.new & ~sc.CLONE_NEWUSER  # entered before, by `enter_user_namespace`
    if new:
        s.unshare(new)
    if plan.mode == "init" and new & sc.CLONE_NEWNET:
        s.loopback_up()  # a namespace nobody configures from outside (--network none) gets lo
    if plan.mode == "init":
        if "oomScoreAdj" in process:
            s.write_file("/proc/self/oom_score_adj", str(process["oomScoreAdj"]))
        if plan.ns.new & sc.CLONE_NEWNS:
            rootfs.prepare(s, config, plan.rootfs, plan.cgroup_binds)
        if plan.ns.new & sc.CLONE_NEWUTS:
            if config.get("hostname"):
                s.sethostname(config["hostname"])
            if config.get("domainname"):
                s.setdomainname(config["domainname"])
        rootfs.set_propagation(s, config)
        for key, value in (linux.get("sysctl") or {}).items():
            s.write_file("/proc/sys/" + key.replace(".", "/"), str(value))
        rootfs.readonly_paths(s, linux.get("readonlyPaths"))
        rootfs.mask_paths(s, linux.get("maskedPaths"))
        if (config.get("root") or {}).get("readonly"):
            rootfs.readonly_root(s)
    user = process.get("user") or {}
    uid = int(user.get("uid", 0))
    master = -1
    if process.get("terminal"):
        master, slave = _open_terminal(s, ioctl, process.get("consoleSize"))
        os.setsid()
        ioctl(slave, TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        if slave > 2:
            os.close(slave)
        if uid:
            os.fchown(0, uid, -1)
    if "umask" in user:
        s.umask(int(user["umask"]))
    cwd = process.get("cwd") or "/"
    if not s.kind(cwd):
        s.mkdir_all(cwd)
    s.chdir(cwd)
    proc.set_rlimits(s, process.get("rlimits"))
    proc.set_identity_and_caps(s, process, plan.last_cap)
    env = list(process.get("env") or [])
    envd = proc.env_dict(env)
    if "HOME" not in envd:
        env.append("HOME=" + _home(uid))
    args = list(process.get("args") or [])
    path = proc.find_executable(args[0] if args else "", envd.get("PATH"))
    ch.send({"type": "ready"}, [master] if master >= 0 else None)
    if master >= 0:
        os.close(master)
    return Ready(path=path, args=args, env=env, fifo_fd=fifo_fd)


def _home(uid: int) -> str:
    try:
        with open("/etc/passwd") as f:
            return proc.home_of(uid, f.read())
    except OSError:
        return "/"


_CATCHABLE = [sig for sig in signal.valid_signals() if sig not in (signal.SIGKILL, signal.SIGSTOP)]


def wait_for_start_and_exec(s: sc.LinuxSyscalls, ready: Ready) -> None:
    """Block on the exec fifo until `start` reads it, then become the container's command."""
    if ready.fifo_fd >= 0:
        fd = os.open(f"/proc/self/fd/{ready.fifo_fd}", os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.write(fd, b"0")
        except BrokenPipeError:
            pass  # the shim's gate opens and closes the read side without reading
        os.close(fd)
        os.close(ready.fifo_fd)
    # Ignored signals survive execve: Python ignores SIGPIPE and SIGXFSZ, the fork server
    # SIGINT, and an engine started by `nohup ... &` inherits ignored SIGHUP and SIGQUIT. A
    # container starts with every disposition at its default (as runc's do), or a STOPSIGNAL
    # of SIGINT/SIGQUIT would be ignored and `docker stop` would wait for the SIGKILL.
    for sig in _CATCHABLE:
        if signal.getsignal(sig) == signal.SIG_IGN:
            try:
                signal.signal(sig, signal.SIG_DFL)
            except OSError:  # the C library's own real-time signals (32, 33)
                pass
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    s.mark_fds_cloexec(3)
    os.execve(ready.path, ready.args, dict(e.partition("=")[::2] for e in ready.env))
