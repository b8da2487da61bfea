"""Linux capabilities as Docker grants them: the default set, `--cap-add`/`--cap-drop`, privileged."""

from __future__ import annotations

from skiff.common.errors import InvalidArgument
from skiff.engine.runtime.caps import NAMES, bits_to_names

# Every capability by number (linux/capability.h); the runtime's table is the one source.
ALL_CAPS = NAMES

DEFAULT_CAPS = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
    "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
    "CAP_AUDIT_WRITE",
]


def normalize(caps: list[str] | None) -> list[str]:
    """Upper-case, `CAP_` prefixed, validated; `ALL` kept as is."""
    out = []
    for c in caps or []:
        u = c.strip().upper()
        if u == "ALL":
            out.append("ALL")
            continue
        if not u.startswith("CAP_"):
            u = "CAP_" + u
        if u not in ALL_CAPS:
            raise InvalidArgument(f'invalid CapAdd: unknown capability: "{u}"')
        out.append(u)
    return out


def effective_caps(cap_add: list[str] | None, cap_drop: list[str] | None, privileged: bool) -> list[str]:
    """Docker's rules: privileged = all; ALL in add = all minus drops; ALL in drop = only adds."""
    if privileged:
        return list(ALL_CAPS)
    adds, drops = normalize(cap_add), normalize(cap_drop)
    if not adds and not drops:
        return list(DEFAULT_CAPS)
    if "ALL" in adds:
        return [c for c in ALL_CAPS if c not in drops]
    if "ALL" in drops:
        return [c for c in dict.fromkeys(adds) if c != "ALL"]
    caps = [c for c in DEFAULT_CAPS if c not in drops]
    caps += [c for c in adds if c not in caps]
    return caps


def host_bounding() -> set[str] | None:
    """Capabilities this engine process may grant at all (its bounding set); None if unknown.

    `ALL` and privileged mean every capability the host lets us hold: on a host that took
    some away (a VM or an outer container), asking for more makes the runtime fail."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("CapBnd:"):
                    return set(bits_to_names(int(line.split()[1], 16)))
    except OSError:
        return None
    return None
