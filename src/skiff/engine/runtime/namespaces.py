"""linux.namespaces of a config → what to unshare and what to join (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field

from skiff.common.errors import InvalidArgument
from skiff.engine.runtime import syscalls as sc

FLAGS = {
    "pid": sc.CLONE_NEWPID, "network": sc.CLONE_NEWNET, "mount": sc.CLONE_NEWNS, "ipc": sc.CLONE_NEWIPC,
    "uts": sc.CLONE_NEWUTS, "user": sc.CLONE_NEWUSER, "cgroup": sc.CLONE_NEWCGROUP,
}
# /proc/<pid>/ns/<file> for each type, used to join a running container's namespaces.
PROC_NAMES = {"pid": "pid", "network": "net", "mount": "mnt", "ipc": "ipc", "uts": "uts", "user": "user",
              "cgroup": "cgroup"}
# setns order: user first (it grants the rights for the rest), mount last among the
# ones that need a path lookup.
JOIN_ORDER = ["user", "ipc", "uts", "network", "cgroup", "mount"]


@dataclass
class NamespacePlan:
    new: int = 0  # CLONE_* flags to unshare (pid handled by the parent before fork)
    join: list[tuple[str, str]] = field(default_factory=list)  # (type, path) in setns order, pid excluded
    new_pid: bool = False
    join_pid: str = ""
    types: set[str] = field(default_factory=set)

    def has(self, kind: str) -> bool:
        return kind in self.types


def plan(namespaces: list[dict] | None) -> NamespacePlan:
    out = NamespacePlan()
    joins: dict[str, str] = {}
    for ns in namespaces or []:
        kind = ns.get("type", "")
        if kind not in FLAGS:
            raise InvalidArgument(f"namespace type {kind!r} is not supported")
        if kind in out.types:
            raise InvalidArgument(f"duplicate namespace type {kind!r}")
        out.types.add(kind)
        path = ns.get("path") or ""
        if kind == "pid":
            out.new_pid, out.join_pid = not path, path
        elif path:
            joins[kind] = path
        else:
            out.new |= FLAGS[kind]
    out.join = [(k, joins[k]) for k in JOIN_ORDER if k in joins]
    return out


def exec_plan(init_pid: int, types: set[str]) -> NamespacePlan:
    """To exec into a running container: join every namespace its init is in."""
    out = NamespacePlan(types=set(types))
    for kind in JOIN_ORDER:
        if kind in types:
            out.join.append((kind, f"/proc/{init_pid}/ns/{PROC_NAMES[kind]}"))
    if "pid" in types:
        out.join_pid = f"/proc/{init_pid}/ns/pid"
    return out
