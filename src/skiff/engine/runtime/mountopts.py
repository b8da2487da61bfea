"""OCI mount options → mount(2) flags, propagation changes and filesystem data (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field

from skiff.engine.runtime import syscalls as sc

# option → (flag, set?) ; "rw" clears MS_RDONLY and so on, as runc reads them.
_FLAGS: dict[str, tuple[int, bool]] = {
    "ro": (sc.MS_RDONLY, True), "rw": (sc.MS_RDONLY, False),
    "nosuid": (sc.MS_NOSUID, True), "suid": (sc.MS_NOSUID, False),
    "nodev": (sc.MS_NODEV, True), "dev": (sc.MS_NODEV, False),
    "noexec": (sc.MS_NOEXEC, True), "exec": (sc.MS_NOEXEC, False),
    "sync": (sc.MS_SYNCHRONOUS, True), "async": (sc.MS_SYNCHRONOUS, False),
    "dirsync": (sc.MS_DIRSYNC, True), "remount": (sc.MS_REMOUNT, True),
    "mand": (sc.MS_MANDLOCK, True), "nomand": (sc.MS_MANDLOCK, False),
    "noatime": (sc.MS_NOATIME, True), "atime": (sc.MS_NOATIME, False),
    "nodiratime": (sc.MS_NODIRATIME, True), "diratime": (sc.MS_NODIRATIME, False),
    "relatime": (sc.MS_RELATIME, True), "norelatime": (sc.MS_RELATIME, False),
    "strictatime": (sc.MS_STRICTATIME, True), "nostrictatime": (sc.MS_STRICTATIME, False),
    "bind": (sc.MS_BIND, True), "rbind": (sc.MS_BIND | sc.MS_REC, True),
    "nosymfollow": (sc.MS_NOSYMFOLLOW, True),
}

_PROPAGATION: dict[str, int] = {
    "private": sc.MS_PRIVATE, "rprivate": sc.MS_PRIVATE | sc.MS_REC,
    "shared": sc.MS_SHARED, "rshared": sc.MS_SHARED | sc.MS_REC,
    "slave": sc.MS_SLAVE, "rslave": sc.MS_SLAVE | sc.MS_REC,
    "unbindable": sc.MS_UNBINDABLE, "runbindable": sc.MS_UNBINDABLE | sc.MS_REC,
}

# Flags a bind mount only takes on a second, remount pass.
BIND_REMOUNT_FLAGS = sc.MS_RDONLY | sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC | sc.MS_NOATIME | sc.MS_NODIRATIME \
    | sc.MS_RELATIME | sc.MS_STRICTATIME


@dataclass
class MountOptions:
    flags: int = 0
    propagation: list[int] = field(default_factory=list)
    data: str = ""

    @property
    def is_bind(self) -> bool:
        return bool(self.flags & sc.MS_BIND)


def parse(options: list[str] | None) -> MountOptions:
    out = MountOptions()
    data: list[str] = []
    for opt in options or []:
        if opt in _FLAGS:
            flag, on = _FLAGS[opt]
            out.flags = out.flags | flag if on else out.flags & ~flag
        elif opt in _PROPAGATION:
            out.propagation.append(_PROPAGATION[opt])
        elif opt == "tmpcopyup":
            continue  # a runc extension we do not implement; harmless to skip
        else:
            data.append(opt)
    out.data = ",".join(data)
    return out


def propagation_flag(name: str) -> int:
    """rootfsPropagation value → flags; unknown names are an error in the spec."""
    if name not in _PROPAGATION:
        raise ValueError(f"invalid rootfsPropagation {name!r}")
    return _PROPAGATION[name]
