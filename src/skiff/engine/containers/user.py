"""Resolve Docker's `User` (`name`, `uid`, `uid:gid`, `name:group`) against /etc/passwd and /etc/group.

Pure: the caller reads the files from the container's rootfs and passes their text.
Same rules as runc's user lookup, which Docker uses: numeric ids need no entry; a name
must exist; supplementary groups are the groups listing the user, plus `GroupAdd`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from skiff.common.errors import InvalidArgument


@dataclass
class ResolvedUser:
    uid: int
    gid: int
    additional_gids: list[int] = field(default_factory=list)
    home: str = "/"


def _rows(text: str, width: int) -> list[list[str]]:
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(":")
        parts += [""] * (width - len(parts))
        rows.append(parts)
    return rows


def _int(s: str) -> int | None:
    return int(s) if s.isdigit() else None


def resolve_user(user: str, passwd: str = "", group: str = "", group_add: list[str] | None = None) -> ResolvedUser:
    name, _, grp = (user or "").partition(":")
    users = _rows(passwd, 7)
    groups = _rows(group, 4)
    uid: int | None = None
    gid = 0
    home = "/"
    uname = ""
    if not name:
        name = "0" if not grp else "0"
    entry = next((u for u in users if u[0] == name), None)
    if entry is None and _int(name) is not None:
        entry = next((u for u in users if _int(u[2]) == int(name)), None)
        uid = int(name)
    if entry is not None:
        uname, uid, gid, home = entry[0], int(entry[2] or 0), int(entry[3] or 0), entry[5] or "/"
    if uid is None:
        raise InvalidArgument(f"unable to find user {name}: no matching entries in passwd file")

    if grp:
        g = next((row for row in groups if row[0] == grp), None)
        if g is not None:
            gid = int(g[2] or 0)
        elif _int(grp) is not None:
            gid = int(grp)
        else:
            raise InvalidArgument(f"unable to find group {grp}: no matching entries in group file")

    extra: list[int] = []
    if uname and not grp:
        for row in groups:
            members = [m for m in row[3].split(",") if m]
            if uname in members and _int(row[2]) is not None and int(row[2]) != gid:
                extra.append(int(row[2]))
    for ga in group_add or []:
        g = next((row for row in groups if row[0] == ga), None)
        if g is not None:
            extra.append(int(g[2]))
        elif _int(ga) is not None:
            extra.append(int(ga))
        else:
            raise InvalidArgument(f"Unable to find group {ga}: no matching entries in group file")
    seen: list[int] = []
    for gid_ in extra:
        if gid_ not in seen:
            seen.append(gid_)
    return ResolvedUser(uid, gid, seen, home)
