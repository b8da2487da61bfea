"""The runtime contract: what the containers service may ask of an OCI runtime.

`LinuxRuntime` (our own namespace/mount/cgroup code) and `RuncRuntime` (the runc binary)
both implement `Runtime`, and both put the container's init under the same C shim, so the
state files under `<state_root>/<id>/` look the same whichever runtime made them.
"""

from __future__ import annotations

import builtins
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

# Status strings exactly as runc reports them.
CREATING = "creating"
CREATED = "created"
RUNNING = "running"
PAUSED = "paused"
STOPPED = "stopped"
STATUSES = (CREATING, CREATED, RUNNING, PAUSED, STOPPED)


@dataclass
class IOSpec:
    """How the shim wires the process's stdio.

    log_path: json-file log to write (None: not logged, as for execs).
    log_max_size: rotate when the file passes this many bytes (0: never).
    log_max_file: how many files to keep, the live one included.
    detached: exec only: no client will attach, so the process starts at once. Otherwise an
        exec'd process waits for the first attach (at most 2 s) so no output is lost.
    """

    terminal: bool = False
    stdin: bool = False
    stdin_once: bool = False
    log_path: str | None = None
    log_max_size: int = 0
    log_max_file: int = 1
    detached: bool = False


@dataclass
class ExitStatus:
    """How a process ended. exit_code is what Docker reports: the code, or 128+signal.

    error: why the process never ran, when it did not (e.g. the exec of the command failed:
    'exec: "foo": executable file not found in $PATH'); exit_code is then 127 or 126.
    """

    exit_code: int
    signal: int = 0
    oom_killed: bool = False
    finished_at: str = ""
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ExitStatus:
        return cls(
            exit_code=int(d.get("exit_code", 0)),
            signal=int(d.get("signal", 0)),
            oom_killed=bool(d.get("oom_killed", False)),
            finished_at=str(d.get("finished_at", "")),
            error=str(d.get("error", "")),
        )


@dataclass
class RuntimeState:
    """A container (or exec) as the runtime sees it, rebuilt from files on every call.

    pid: the init process on the host (kept after it stops; to_oci() shows 0 then); shim_pid: its shim.
    created: RFC 3339 time of create. exit: set once status is stopped.
    error: a setup/exec failure reason, when init failed before running the command.
    """

    id: str
    status: str
    pid: int
    shim_pid: int
    bundle: str
    created: str
    exit: ExitStatus | None = None
    annotations: dict[str, str] = field(default_factory=dict)
    error: str = ""

    def to_oci(self) -> dict[str, Any]:
        """runc's `state` JSON shape."""
        return {
            "ociVersion": "1.0.2",
            "id": self.id,
            "pid": self.pid if self.status != STOPPED else 0,
            "status": self.status,
            "bundle": self.bundle,
            "rootfs": "",
            "created": self.created,
            "owner": "",
            "annotations": dict(self.annotations),
        }


@runtime_checkable
class Runtime(Protocol):
    """Bundle (config.json + rootfs) → a running process under a shim.

    Every verb takes the container id; state lives in files under the runtime's state
    root, so a new Runtime object (e.g. after an engine restart) sees the same containers.
    Errors: NotFound for an unknown id, Conflict for a verb the state does not allow,
    SystemError_ for a host refusal.
    """

    def create(self, id: str, bundle: str, io: IOSpec) -> RuntimeState: ...

    def start(self, id: str) -> None: ...

    def kill(self, id: str, sig: int, all: bool = False) -> None: ...

    def pause(self, id: str) -> None: ...

    def resume(self, id: str) -> None: ...

    def delete(self, id: str, force: bool = False) -> None: ...

    def state(self, id: str) -> RuntimeState: ...

    def list(self) -> builtins.list[RuntimeState]: ...

    def stats(self, id: str) -> dict[str, Any]: ...

    def update(self, id: str, resources: dict[str, Any]) -> None: ...

    def pids(self, id: str) -> builtins.list[int]: ...

    def exec(self, id: str, exec_id: str, process: dict[str, Any], io: IOSpec) -> RuntimeState: ...

    async def wait(self, id: str, exec_id: str | None = None) -> ExitStatus: ...

    def attach_path(self, id: str, exec_id: str | None = None) -> str: ...

    def resize(self, id: str, exec_id: str | None, height: int, width: int) -> None: ...

    def close_stdin(self, id: str, exec_id: str | None = None) -> None: ...
