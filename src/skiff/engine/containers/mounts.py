"""Docker's mount requests (`Binds`, `Mounts`, `Tmpfs`, image `Volumes`, `VolumesFrom`) as data.

Pure: parsing and validation only. The service resolves volume names to host paths
(creating named and anonymous volumes) and `spec.py` turns the result into OCI mounts.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import asdict, dataclass, field

from skiff.common.errors import InvalidArgument
from skiff.common.ids import new_id

VOLUME_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
PROPAGATIONS = {"private", "rprivate", "shared", "rshared", "slave", "rslave"}
_BIND_FLAGS = {"ro", "rw", "z", "Z", "nocopy", "consistent", "cached", "delegated"} | PROPAGATIONS


@dataclass
class MountPoint:
    """One mount of a container, as recorded and shown in inspect's `Mounts`."""

    type: str  # bind | volume | tmpfs
    destination: str
    source: str = ""  # host path (bind) or, after resolution, the volume's _data dir
    name: str = ""  # volume name
    rw: bool = True
    mode: str = ""  # the option string as the user gave it ("ro", "z", ...)
    propagation: str = ""
    anonymous: bool = False
    nocopy: bool = False
    options: list[str] = field(default_factory=list)  # tmpfs mount options
    create_source: bool = False  # -v host dirs are created when missing, --mount ones are not
    driver_opts: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)

    def to_docker(self) -> dict:
        d: dict[str, object] = {"Type": self.type}
        if self.type == "volume":
            d["Name"] = self.name
        d.update({"Source": self.source, "Destination": self.destination})
        if self.type == "volume":
            d["Driver"] = "local"
        d.update({"Mode": self.mode, "RW": self.rw, "Propagation": self.propagation})
        return d

    def to_record(self) -> dict:
        return asdict(self)

    @classmethod
    def from_record(cls, d: dict) -> MountPoint:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


def _check_dest(dest: str, kind: str) -> str:
    if not dest.startswith("/"):
        raise InvalidArgument(f"invalid mount config for type \"{kind}\": invalid mount path: '{dest}' mount path must be absolute")
    if dest == "/":
        raise InvalidArgument(f"invalid mount config for type \"{kind}\": invalid specification: destination can't be '/'")
    return posixpath.normpath(dest)


def check_volume_name(name: str) -> str:
    if not VOLUME_NAME.match(name):
        raise InvalidArgument(
            f'create {name}: "{name}" includes invalid characters for a local volume name, only '
            '"[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path')
    return name


def parse_bind(spec: str) -> MountPoint:
    """`-v src:dst[:opts]` or `-v dst` (anonymous volume)."""
    parts = spec.split(":")
    if len(parts) == 1:
        dest = _check_dest(parts[0], "volume")
        return MountPoint("volume", dest, name=new_id(), anonymous=True)
    if len(parts) > 3 or not parts[0] or not parts[1]:
        raise InvalidArgument(f"invalid volume specification: '{spec}'")
    src, dst = parts[0], parts[1]
    mode = parts[2] if len(parts) == 3 else ""
    flags = [f for f in mode.split(",") if f]
    for f in flags:
        if f not in _BIND_FLAGS:
            raise InvalidArgument(f"invalid mode: {mode}")
    rw = "ro" not in flags
    propagation = next((f for f in flags if f in PROPAGATIONS), "")
    if src.startswith("/"):
        return MountPoint("bind", _check_dest(dst, "bind"), source=posixpath.normpath(src), rw=rw, mode=mode,
                          propagation=propagation or "rprivate", create_source=True)
    return MountPoint("volume", _check_dest(dst, "volume"), name=check_volume_name(src), rw=rw, mode=mode,
                      nocopy="nocopy" in flags)


def parse_mount(m: dict) -> MountPoint:
    """One entry of HostConfig.Mounts (`--mount`)."""
    kind = m.get("Type") or "volume"
    target = m.get("Target") or m.get("Destination") or ""
    if not target:
        raise InvalidArgument(f'invalid mount config for type "{kind}": field Target must not be empty')
    dest = _check_dest(target, kind)
    ro = bool(m.get("ReadOnly"))
    src = m.get("Source") or ""
    if kind == "bind":
        if not src:
            raise InvalidArgument('invalid mount config for type "bind": field Source must not be empty')
        if not src.startswith("/"):
            raise InvalidArgument(f'invalid mount config for type "bind": invalid mount path: \'{src}\' mount path must be absolute')
        prop = (m.get("BindOptions") or {}).get("Propagation") or "rprivate"
        create = bool((m.get("BindOptions") or {}).get("CreateMountpoint"))
        return MountPoint("bind", dest, source=posixpath.normpath(src), rw=not ro, propagation=prop,
                          create_source=create)
    if kind == "volume":
        vo = m.get("VolumeOptions") or {}
        drv = vo.get("DriverConfig") or {}
        if src:
            return MountPoint("volume", dest, name=check_volume_name(src), rw=not ro, nocopy=bool(vo.get("NoCopy")),
                              driver_opts=dict(drv.get("Options") or {}), labels=dict(vo.get("Labels") or {}))
        return MountPoint("volume", dest, name=new_id(), rw=not ro, anonymous=True, nocopy=bool(vo.get("NoCopy")))
    if kind == "tmpfs":
        if src:
            raise InvalidArgument('invalid mount config for type "tmpfs": field Source must not be specified')
        to = m.get("TmpfsOptions") or {}
        opts = ["nosuid", "nodev", "noexec"]
        if to.get("SizeBytes"):
            opts.append(f"size={int(to['SizeBytes']) // 1024}k")
        if to.get("Mode"):
            opts.append(f"mode={int(to['Mode']):o}")
        if ro:
            opts.append("ro")
        return MountPoint("tmpfs", dest, rw=not ro, options=opts)
    raise InvalidArgument(f"mount type unknown: {kind!r}")


_TMPFS_PAIRS = {"exec": "noexec", "suid": "nosuid", "dev": "nodev", "rw": "ro", "atime": "noatime"}
_OPPOSITE = {**_TMPFS_PAIRS, **{v: k for k, v in _TMPFS_PAIRS.items()}}


def merge_tmpfs_options(options: list[str]) -> list[str]:
    """Later flags win over their opposites (`exec` after the default `noexec`), as Docker merges."""
    out: list[str] = []
    keyed: dict[str, int] = {}
    for opt in options:
        if not opt:
            continue
        key = opt.split("=", 1)[0] if "=" in opt else None
        if key:
            if key in keyed:
                out[keyed[key]] = opt
                continue
            keyed[key] = len(out)
            out.append(opt)
            continue
        if opt in out:
            continue
        opp = _OPPOSITE.get(opt)
        if opp in out:
            out[out.index(opp)] = opt
            continue
        out.append(opt)
    return out


def parse_tmpfs(dest: str, options: str) -> MountPoint:
    """HostConfig.Tmpfs entry: `--tmpfs /run:rw,size=64m`."""
    dest = _check_dest(dest, "tmpfs")
    opts = merge_tmpfs_options(["noexec", "nosuid", "nodev", *options.split(",")])
    return MountPoint("tmpfs", dest, rw="ro" not in opts, options=opts)


def parse_volumes_from(spec: str) -> tuple[str, str]:
    """`container[:ro|rw]` → (container, mode)."""
    name, _, mode = spec.partition(":")
    if mode not in ("", "ro", "rw"):
        raise InvalidArgument(f"invalid mode: {mode}")
    return name, mode


def inherit_mounts(mounts: list[MountPoint], mode: str) -> list[MountPoint]:
    """Mounts copied from another container by --volumes-from (tmpfs mounts are not shared)."""
    out = []
    for m in mounts:
        if m.type == "tmpfs":
            continue
        rw = m.rw if mode == "" else mode == "rw"
        out.append(MountPoint(m.type, m.destination, source=m.source, name=m.name, rw=rw,
                              mode=mode or m.mode, propagation=m.propagation, anonymous=False))
    return out


def collect(host_config: dict, image_volumes: dict | None, inherited: list[MountPoint]) -> list[MountPoint]:
    """All mounts of a new container, later sources overriding earlier ones at the same destination:
    --volumes-from, then image VOLUMEs (only where nothing else mounts), -v, --mount, --tmpfs."""
    by_dest: dict[str, MountPoint] = {}
    explicit: set[str] = set()

    def add(mp: MountPoint) -> None:
        if mp.destination in explicit:
            raise InvalidArgument(f"Duplicate mount point: {mp.destination}")
        explicit.add(mp.destination)
        by_dest[mp.destination] = mp

    for mp in inherited:
        by_dest[mp.destination] = mp
    for spec in host_config.get("Binds") or []:
        add(parse_bind(spec))
    for m in host_config.get("Mounts") or []:
        add(parse_mount(m))
    for dest, opts in (host_config.get("Tmpfs") or {}).items():
        add(parse_tmpfs(dest, opts or ""))
    for dest in sorted(image_volumes or {}):
        d = posixpath.normpath(dest)
        if d not in by_dest:
            by_dest[d] = MountPoint("volume", d, name=new_id(), anonymous=True)
    return sorted(by_dest.values(), key=lambda m: (m.destination.count("/"), m.destination))
