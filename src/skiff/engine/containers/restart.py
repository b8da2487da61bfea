"""Restart policies (`--restart`), decided as a pure function of what happened.

Docker's rules: `no` never; `always` and `unless-stopped` always, except after a manual stop;
`on-failure[:N]` on a non-zero exit while fewer than N restarts were made (N=0: unlimited).
The delay starts at 100 ms and doubles each time; it resets when the container ran 10 s.
"""

from __future__ import annotations

from dataclasses import dataclass

from skiff.common.errors import InvalidArgument

BACKOFF_START = 0.1
BACKOFF_MAX = 60.0
RESET_AFTER = 10.0
POLICIES = ("", "no", "always", "unless-stopped", "on-failure")


def validate(policy: dict | None, auto_remove: bool = False) -> None:
    name = (policy or {}).get("Name") or ""
    if name not in POLICIES:
        raise InvalidArgument(f"invalid restart policy: unknown policy '{name}'; use one of 'no', 'always', "
                              "'on-failure', or 'unless-stopped'")
    count = int((policy or {}).get("MaximumRetryCount") or 0)
    if count < 0:
        raise InvalidArgument("invalid restart policy: maximum retry count cannot be negative")
    if count and name != "on-failure":
        raise InvalidArgument("invalid restart policy: maximum retry count can only be used with 'on-failure'")
    if auto_remove and name not in ("", "no"):
        raise InvalidArgument("can't create 'AutoRemove' container with restart policy")


@dataclass
class Decision:
    restart: bool
    delay: float  # seconds to wait before restarting
    next_backoff: float  # the delay to remember for the next exit


def decide(policy: dict | None, exit_code: int, restart_count: int, manually_stopped: bool,
           ran_for: float, backoff: float) -> Decision:
    """Whether to restart after an exit, and after how long.

    `backoff` is the delay used last time (0 before any restart); `ran_for` how long the
    container ran before this exit, in seconds.
    """
    name = (policy or {}).get("Name") or "no"
    max_retry = int((policy or {}).get("MaximumRetryCount") or 0)
    if ran_for >= RESET_AFTER:
        backoff = 0.0
    delay = BACKOFF_START if backoff <= 0 else min(backoff * 2, BACKOFF_MAX)
    if manually_stopped or name == "no":
        return Decision(False, 0.0, backoff)
    if name in ("always", "unless-stopped"):
        return Decision(True, delay, delay)
    if name == "on-failure":
        if exit_code != 0 and (max_retry == 0 or restart_count < max_retry):
            return Decision(True, delay, delay)
        return Decision(False, 0.0, backoff)
    return Decision(False, 0.0, backoff)
