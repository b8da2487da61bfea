"""The process half of init: limits, identity, capabilities, and finding the executable.

Called in the container's init after pivot_root, through a `Syscalls` object. The order is
runc's: rlimits; drop the bounding set; keep caps across the uid switch; groups, gid, uid;
capset; ambient; no_new_privs last (it would stop nothing we still need).
"""

from __future__ import annotations

import os
import stat

from skiff.engine.runtime import caps
from skiff.engine.runtime import syscalls as sc
from skiff.engine.runtime.syscalls import Syscalls

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class ExecError(Exception):
    """The command cannot be run; message and code as Docker reports them (127 or 126)."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def set_rlimits(s: Syscalls, rlimits: list[dict] | None) -> None:
    for r in rlimits or []:
        s.setrlimit(r["type"], int(r["soft"]), int(r["hard"]))


def set_identity_and_caps(s: Syscalls, process: dict, last_cap: int) -> None:
    user = process.get("user") or {}
    uid, gid = int(user.get("uid", 0)), int(user.get("gid", 0))
    groups = [int(g) for g in user.get("additionalGids") or []]
    capsets = process.get("capabilities")
    if capsets is not None:
        bounding = caps.mask(capsets.get("bounding"), last_cap)
        for n in caps.to_drop(bounding, last_cap):
            s.prctl(sc.PR_CAPBSET_DROP, n)
    s.prctl(sc.PR_SET_KEEPCAPS, 1)
    s.setgroups(groups)
    s.setresgid(gid)
    s.setresuid(uid)
    s.prctl(sc.PR_SET_KEEPCAPS, 0)
    if capsets is not None:
        s.capset(caps.mask(capsets.get("effective"), last_cap), caps.mask(capsets.get("permitted"), last_cap),
                 caps.mask(capsets.get("inheritable"), last_cap))
        ambient = caps.mask(capsets.get("ambient"), last_cap)
        for n in range(last_cap + 1):
            if ambient & (1 << n):
                s.prctl(sc.PR_CAP_AMBIENT, sc.PR_CAP_AMBIENT_RAISE, n)
    if process.get("noNewPrivileges"):
        s.prctl(sc.PR_SET_NO_NEW_PRIVS, 1)


def env_dict(env: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in env or []:
        k, _, v = item.partition("=")
        out[k] = v
    return out


def home_of(uid: int, passwd_text: str) -> str:
    for line in passwd_text.splitlines():
        parts = line.split(":")
        if len(parts) >= 6 and parts[2].isdigit() and int(parts[2]) == uid:
            return parts[5] or "/"
    return "/"


def _check_executable(path: str, shown: str) -> None:
    """Go's exec.LookPath semantics: a regular file with some execute bit."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ExecError(f'exec: "{shown}": stat {shown}: no such file or directory', 127) from None
    except PermissionError:
        raise ExecError(f'exec: "{shown}": permission denied', 126) from None
    if stat.S_ISDIR(st.st_mode) or not st.st_mode & 0o111:
        raise ExecError(f'exec: "{shown}": permission denied', 126)


def find_executable(name: str, path_env: str | None) -> str:
    """Resolve argv[0] against the container's PATH, with Docker's messages on failure."""
    if not name:
        raise ExecError("exec: no command specified", 127)
    if "/" in name:
        _check_executable(name, name)
        return name
    for d in (path_env if path_env is not None else DEFAULT_PATH).split(":"):
        candidate = os.path.join(d or ".", name)
        try:
            _check_executable(candidate, candidate)
            return candidate
        except ExecError:
            continue  # like Go's LookPath: a non-executable match is no match
    raise ExecError(f'exec: "{name}": executable file not found in $PATH', 127)
