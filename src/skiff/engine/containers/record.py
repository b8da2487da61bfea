"""The container record: what `containers/<id>/config.v2.json` holds, and the state shown by inspect."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from skiff.common.timefmt import ZERO_TIME
from skiff.engine.containers.mounts import MountPoint


@dataclass
class State:
    status: str = "created"  # created | running | paused | restarting | removing | exited | dead
    pid: int = 0
    exit_code: int = 0
    error: str = ""
    oom_killed: bool = False
    started_at: str = ZERO_TIME
    finished_at: str = ZERO_TIME
    health: dict | None = None  # Docker's Health JSON while the container has a healthcheck

    def to_docker(self) -> dict:
        d = {
            "Status": self.status,
            "Running": self.status in ("running", "paused", "restarting"),
            "Paused": self.status == "paused",
            "Restarting": self.status == "restarting",
            "OOMKilled": self.oom_killed,
            "Dead": self.status == "dead",
            "Pid": self.pid,
            "ExitCode": self.exit_code,
            "Error": self.error,
            "StartedAt": self.started_at,
            "FinishedAt": self.finished_at,
        }
        if self.health is not None:
            d["Health"] = self.health
        return d

    @property
    def running(self) -> bool:
        return self.status in ("running", "paused", "restarting")


@dataclass
class Container:
    id: str
    name: str  # without the leading "/"
    created: str
    image_id: str  # sha256:...
    config: dict  # Docker's Config, merged with the image's
    host_config: dict
    networking_config: dict = field(default_factory=dict)
    state: State = field(default_factory=State)
    mounts: list[MountPoint] = field(default_factory=list)
    restart_count: int = 0
    manually_stopped: bool = False
    has_been_started: bool = False
    backoff: float = 0.0
    started_mono: float = 0.0  # time.monotonic() at the last start, for the restart back-off reset

    @property
    def path(self) -> str:
        args = list(self.config.get("Entrypoint") or []) + list(self.config.get("Cmd") or [])
        return args[0] if args else ""

    @property
    def args(self) -> list[str]:
        args = list(self.config.get("Entrypoint") or []) + list(self.config.get("Cmd") or [])
        return args[1:]

    @property
    def tty(self) -> bool:
        return bool(self.config.get("Tty"))

    @property
    def network_mode(self) -> str:
        return self.host_config.get("NetworkMode") or "bridge"

    def to_record(self) -> dict:
        """For serializing right away: shares the live config dicts (asdict's deep copy was a
        large share of every state-change save)."""
        d = {name: getattr(self, name) for name in _CONTAINER_FIELDS}
        d["state"] = {name: getattr(self.state, name) for name in _STATE_FIELDS}
        d["mounts"] = [m.to_record() for m in self.mounts]
        d["started_mono"] = 0.0
        return d

    @classmethod
    def from_record(cls, d: dict) -> Container:
        d = dict(d)
        d["state"] = State(**d.get("state", {}))
        d["mounts"] = [MountPoint.from_record(m) for m in d.get("mounts", [])]
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


_CONTAINER_FIELDS = tuple(f.name for f in fields(Container))
_STATE_FIELDS = tuple(f.name for f in fields(State))
