"""Linux capabilities as Docker grants them: the default set, `--cap-add`/`--cap-drop`, privileged."""

from __future__ import annotations

from skiff.common.errors import InvalidArgument

# Index = capability number (linux/capability.h), up to CAP_CHECKPOINT_RESTORE (40).
ALL_CAPS = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
    "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN",
    "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
]

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
                    bits = int(line.split()[1], 16)
                    return {name for i, name in enumerate(ALL_CAPS) if bits & (1 << i)}
    except OSError:
        return None
    return None
