"""VolumeService: named and anonymous volumes with the `local` driver.

Volumes live under `root/volumes/<name>/_data` with their record in `opts.json`.
`local` driver options (`type`, `device`, `o`) make a volume a mount of its own (tmpfs, a bind
of a host directory, ...), mounted on `_data` when a container first uses it.
Returns Docker's Volume JSON shapes, so engine/api only serializes.
"""

from __future__ import annotations

import asyncio
import builtins
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from skiff.common.errors import Conflict, InvalidArgument, NotFound, SystemError_
from skiff.common.ids import new_id
from skiff.common.timefmt import now_rfc3339
from skiff.engine.events import EventBus
from skiff.engine.volumes.filters import matches

VOLUME_NAME_CHARS = "[a-zA-Z0-9][a-zA-Z0-9_.-]"
_KNOWN_OPTS = {"type", "device", "o", "size"}


def _check_name(name: str) -> None:
    import re

    if not re.match(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$", name):
        raise InvalidArgument(
            f'create {name}: "{name}" includes invalid characters for a local volume name, only '
            f'"{VOLUME_NAME_CHARS}" are allowed. If you intended to pass a host directory, use absolute path')


def _du(path: Path) -> int:
    total = 0
    for dirpath, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(dirpath, f)).st_size
            except OSError:
                pass
    return total


def mount_command(opts: dict, target: str) -> list[str]:
    """`mount(8)` arguments for a local volume's `type`/`device`/`o` options."""
    flags = [f for f in (opts.get("o") or "").split(",") if f]
    device = opts.get("device") or opts.get("type", "none")
    if "bind" in flags or "rbind" in flags:
        rest = [f for f in flags if f not in ("bind", "rbind")]
        return ["mount", "--rbind" if "rbind" in flags else "--bind", *(["-o", ",".join(rest)] if rest else []),
                device, target]
    return ["mount", "-t", opts["type"], *(["-o", ",".join(flags)] if flags else []), device, target]


class VolumeService:
    """`VolumeService(root, events)`; the container service sets `users(name) -> [container ids]`."""

    def __init__(self, root: str | Path, events: EventBus | None = None):
        self.root = Path(root) / "volumes"
        self.root.mkdir(parents=True, exist_ok=True)
        self.events = events or EventBus()
        self.users: Callable[[str], list[str]] = lambda name: []
        self._records: dict[str, dict] = {}
        for d in self.root.iterdir():
            rec = d / "opts.json"
            if rec.is_file():
                try:
                    self._records[d.name] = orjson.loads(rec.read_bytes())
                except ValueError:
                    continue

    # -- records --------------------------------------------------------------------------------
    def _save(self, rec: dict) -> None:
        d = self.root / rec["Name"]
        tmp = d / "opts.json.tmp"
        tmp.write_bytes(orjson.dumps(rec))
        os.replace(tmp, d / "opts.json")

    def _get(self, name: str) -> dict:
        rec = self._records.get(name)
        if rec is None:
            raise NotFound(f"get {name}: no such volume")
        return rec

    def exists(self, name: str) -> bool:
        return name in self._records

    def data_dir(self, name: str) -> Path:
        return self.root / name / "_data"

    def _to_docker(self, rec: dict, usage: bool = False) -> dict:
        out = {
            "CreatedAt": rec["CreatedAt"],
            "Driver": rec["Driver"],
            "Labels": dict(rec.get("Labels") or {}),
            "Mountpoint": str(self.data_dir(rec["Name"])),
            "Name": rec["Name"],
            "Options": dict(rec.get("Options") or {}) or None,
            "Scope": "local",
        }
        if usage:
            out["UsageData"] = {"RefCount": len(self.users(rec["Name"])),
                                "Size": _du(self.data_dir(rec["Name"]))}
        return out

    # -- the verbs ------------------------------------------------------------------------------
    def create_sync(self, name: str | None = None, driver: str = "local", driver_opts: dict | None = None,
                    labels: dict | None = None, anonymous: bool = False) -> dict:
        if driver not in ("local", ""):
            raise NotFound(f"error looking up volume plugin {driver}: plugin \"{driver}\" not found")
        name = name or new_id()
        _check_name(name)
        if name in self._records:
            return self._to_docker(self._records[name])
        opts = dict(driver_opts or {})
        unknown = set(opts) - _KNOWN_OPTS
        if unknown:
            raise InvalidArgument(f"invalid option key: {sorted(unknown)[0]!r}")
        if opts and "type" not in opts and "device" in opts:
            raise InvalidArgument('missing required option: "type"')
        (self.root / name / "_data").mkdir(parents=True, exist_ok=True)
        os.chmod(self.root / name / "_data", 0o755)
        rec: dict[str, Any] = {"Name": name, "Driver": "local", "CreatedAt": now_rfc3339()[:19] + "Z", "Labels": dict(labels or {}),
               "Options": opts, "Anonymous": anonymous}
        if anonymous:
            rec["Labels"].setdefault("com.docker.volume.anonymous", "")
        self._save(rec)
        self._records[name] = rec
        self.events.publish("volume", "create", name, {"driver": "local"})
        return self._to_docker(rec)

    async def create(self, name: str | None = None, driver: str = "local", driver_opts: dict | None = None,
                     labels: dict | None = None) -> dict:
        """Docker's Volume JSON. Creating an existing name returns it unchanged (as Docker)."""
        return self.create_sync(name, driver, driver_opts, labels)

    async def inspect(self, name: str) -> dict:
        """Docker's Volume JSON; NotFound `get <name>: no such volume`."""
        return self._to_docker(self._get(name))

    async def list(self, filters: dict[str, builtins.list[str]] | None = None, usage: bool = False) -> dict:
        """{"Volumes": [...], "Warnings": []}; with `usage` each volume carries Docker's UsageData
        ({"RefCount", "Size"}), as `system df` shows it."""
        out = []
        for rec in sorted(self._records.values(), key=lambda r: r["Name"]):
            if matches(rec, filters or {}, in_use=bool(self.users(rec["Name"]))):
                out.append(await asyncio.to_thread(self._to_docker, rec, usage) if usage else self._to_docker(rec))
        return {"Volumes": out, "Warnings": []}

    def remove_sync(self, name: str, force: bool = False) -> None:
        rec = self._records.get(name)
        if rec is None:
            if force:
                return
            raise NotFound(f"get {name}: no such volume")
        users = self.users(name)
        if users:
            raise Conflict(f"remove {name}: volume is in use - [{', '.join(users)}]")
        self.unmount(name)
        shutil.rmtree(self.root / name, ignore_errors=True)
        del self._records[name]
        self.events.publish("volume", "destroy", name, {"driver": "local"})

    async def remove(self, name: str, force: bool = False) -> None:
        """Conflict `remove <name>: volume is in use - [<ids>]` unless force."""
        await asyncio.to_thread(self.remove_sync, name, force)

    async def prune(self, filters: dict[str, builtins.list[str]] | None = None) -> dict:
        """{"VolumesDeleted": [...], "SpaceReclaimed": int}. Like Docker ≥ 23, only anonymous
        volumes unless the filter `all=true` is given."""
        filters = dict(filters or {})
        all_volumes = any(v.lower() in ("1", "true") for v in filters.pop("all", []))
        deleted, space = [], 0
        for name, rec in list(self._records.items()):
            if self.users(name) or not matches(rec, filters, in_use=False):
                continue
            if not all_volumes and not rec.get("Anonymous"):
                continue
            space += await asyncio.to_thread(_du, self.data_dir(name))
            await self.remove(name)
            deleted.append(name)
        return {"VolumesDeleted": deleted or None, "SpaceReclaimed": space}

    # -- for containers -------------------------------------------------------------------------
    def mount(self, name: str) -> str:
        """The host path to bind into a container; mounts `type/device/o` volumes on first use."""
        rec = self._get(name)
        data = self.data_dir(name)
        opts = rec.get("Options") or {}
        if opts.get("type") and not os.path.ismount(data):
            cmd = mount_command(opts, str(data))
            res = subprocess.run(cmd, capture_output=True, text=True)
            if res.returncode != 0:
                raise SystemError_(f"error while mounting volume '{data}': {res.stderr.strip()}")
        return str(data)

    def unmount(self, name: str) -> None:
        data = self.data_dir(name)
        if os.path.ismount(data):
            subprocess.run(["umount", "-l", str(data)], capture_output=True)

    def is_empty(self, name: str) -> bool:
        try:
            return not any(self.data_dir(name).iterdir())
        except FileNotFoundError:
            return True

    def mark_populated(self, name: str) -> bool:
        """True the first time only: Docker copies image content into a volume once."""
        rec = self._get(name)
        if rec.get("Populated"):
            return False
        rec["Populated"] = True
        self._save(rec)
        return True
