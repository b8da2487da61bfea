"""Container healthchecks, the pure part: Docker's HealthConfig, the state machine
(starting → healthy / unhealthy with a failing streak), the result log, and the texts that
`docker ps` and inspect show. `healthmon` runs the probes on a timer through the exec path.

The health record is Docker's own JSON shape ({"Status", "FailingStreak", "Log"}), kept in
the container's State so it is saved with the record and shown by inspect as is.
"""

from __future__ import annotations

from dataclasses import dataclass

from skiff.common.errors import InvalidArgument

STARTING, HEALTHY, UNHEALTHY, NONE = "starting", "healthy", "unhealthy", "none"
FILTER_VALUES = (STARTING, HEALTHY, UNHEALTHY, NONE)

# dockerd's defaults (daemon/health.go)
DEFAULT_INTERVAL = 30.0
DEFAULT_TIMEOUT = 30.0
DEFAULT_START_PERIOD = 0.0
DEFAULT_START_INTERVAL = 5.0
DEFAULT_RETRIES = 3
MAX_LOG_ENTRIES = 5
MAX_OUTPUT_LEN = 4096
MIN_DURATION_NS = 1_000_000  # 1ms: the API's smallest non-zero duration
DEFAULT_SHELL = ["/bin/sh", "-c"]


@dataclass(frozen=True)
class Settings:
    """Seconds, with Docker's defaults for the zero values."""

    interval: float = DEFAULT_INTERVAL
    timeout: float = DEFAULT_TIMEOUT
    start_period: float = DEFAULT_START_PERIOD
    start_interval: float = DEFAULT_START_INTERVAL
    retries: int = DEFAULT_RETRIES


def _seconds(ns: object, default: float) -> float:
    value = int(ns or 0)  # type: ignore[call-overload]
    return value / 1e9 if value > 0 else default


def settings(hc: dict) -> Settings:
    retries = int(hc.get("Retries") or 0)
    return Settings(interval=_seconds(hc.get("Interval"), DEFAULT_INTERVAL),
                    timeout=_seconds(hc.get("Timeout"), DEFAULT_TIMEOUT),
                    start_period=_seconds(hc.get("StartPeriod"), DEFAULT_START_PERIOD),
                    start_interval=_seconds(hc.get("StartInterval"), DEFAULT_START_INTERVAL),
                    retries=retries if retries > 0 else DEFAULT_RETRIES)


def validate(hc: dict | None) -> None:
    """dockerd's checks at create (daemon/container.go), with its messages."""
    if not hc:
        return
    for key in ("Interval", "Timeout", "StartPeriod", "StartInterval"):
        value = hc.get(key) or 0
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidArgument(f"{key} in Healthcheck must be an integer number of nanoseconds")
        if value != 0 and value < MIN_DURATION_NS:
            raise InvalidArgument(f"{key} in Healthcheck cannot be less than 1ms")
    if int(hc.get("Retries") or 0) < 0:
        raise InvalidArgument("Retries in Healthcheck cannot be negative")


def merge_with_image(user: dict | None, image: dict | None) -> dict | None:
    """dockerd's create-time merge: fields the user left unset (an empty Test, zero durations
    and retries) come from the image's HEALTHCHECK, so `--health-interval 1s` alone keeps the
    image's command."""
    if not image:
        return user
    if not user:
        return dict(image)
    merged = dict(user)
    for key in ("Test", "Interval", "Timeout", "StartPeriod", "StartInterval", "Retries"):
        if not merged.get(key) and image.get(key):
            merged[key] = image[key]
    return merged


def probe_argv(hc: dict | None, shell: list[str] | None = None) -> list[str] | None:
    """The command a probe execs, or None when there is no check (none set, empty, NONE)."""
    test = list((hc or {}).get("Test") or [])
    if len(test) < 2 or test[0] not in ("CMD", "CMD-SHELL"):
        return None
    if test[0] == "CMD-SHELL":
        return list(shell or DEFAULT_SHELL) + [" ".join(test[1:])]
    return test[1:]


def on_start(hc: dict | None, shell: list[str] | None, previous: dict | None) -> dict | None:
    """The health record of a container that starts: "starting", streak reset, log kept."""
    if probe_argv(hc, shell) is None:
        return None
    return {"Status": STARTING, "FailingStreak": 0, "Log": list((previous or {}).get("Log") or [])}


def on_monitor_stop(health: dict | None) -> None:
    """dockerd marks a container whose probes stop (stop, pause, exit) unhealthy, without an event."""
    if health is not None:
        health["Status"] = UNHEALTHY


def next_interval(s: Settings, since_start: float, status: str) -> float:
    """Probes come every start_interval while starting within the start period, else every interval."""
    if since_start < s.start_period and status == STARTING:
        return s.start_interval
    return s.interval


def record_result(health: dict, result: dict, s: Settings, in_start_period: bool) -> str | None:
    """Adds a probe's result (Start, End, ExitCode, Output) and moves the state machine.
    Returns the new status when it changed (for the `health_status: X` event), else None."""
    before = health.get("Status") or UNHEALTHY
    log = list(health.get("Log") or [])
    log.append(result)
    health["Log"] = log[-MAX_LOG_ENTRIES:]
    if result["ExitCode"] == 0:
        health["FailingStreak"] = 0
        health["Status"] = HEALTHY
    elif not (before == STARTING and in_start_period):  # failures while starting up do not count
        health["FailingStreak"] = int(health.get("FailingStreak") or 0) + 1
        if health["FailingStreak"] >= s.retries:
            health["Status"] = UNHEALTHY
    after = health.get("Status") or UNHEALTHY
    return after if after != before else None


class OutputBuffer:
    """A probe's stdout and stderr together, the first 4096 bytes kept; "..." marks a cut."""

    def __init__(self, limit: int = MAX_OUTPUT_LEN):
        self.limit = limit
        self.data = bytearray()
        self.truncated = False

    def write(self, chunk: bytes) -> None:
        keep = max(0, min(self.limit - len(self.data), len(chunk)))
        self.data += chunk[:keep]
        if keep < len(chunk):
            self.truncated = True

    def text(self) -> str:
        return self.data.decode(errors="replace") + ("..." if self.truncated else "")


def timeout_output(timeout: float, output: str) -> str:
    msg = f"Health check exceeded timeout ({go_duration(timeout)})"
    return f"{msg}: {output}" if output else msg


def go_duration(seconds: float) -> str:
    """Go's time.Duration.String() for the durations healthchecks use: 1s, 500ms, 1m30s, 1h0m0s."""
    ns = round(seconds * 1e9)
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    if ns < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if ns >= size:
                return sign + _trim(ns / size) + unit
    hours, rest = divmod(ns, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    secs = _trim(rest / 1e9) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{secs}"
    if minutes:
        return f"{sign}{minutes}m{secs}"
    return sign + secs


def _trim(value: float) -> str:
    return f"{value:.9f}".rstrip("0").rstrip(".")


def status_of(health: dict | None) -> str:
    """The value `ps --filter health=` compares: none without a check, "unhealthy" if unset."""
    if health is None:
        return NONE
    return health.get("Status") or UNHEALTHY


def ps_suffix(health: dict | None) -> str:
    """What `docker ps` adds to "Up 5 seconds" of a running container: " (healthy)"."""
    if health is None:
        return ""
    status = status_of(health)
    return " (health: starting)" if status == STARTING else f" ({status})"


def check_filter(values: list[str]) -> None:
    for v in values:
        if v not in FILTER_VALUES:
            raise InvalidArgument(f"Unrecognised filter value for health: {v}")
