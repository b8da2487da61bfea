"""`secrets:` and `configs:` outside swarm, as docker-compose and Compose v2 give them to a
container: a definition with `file:` is bind-mounted read-only (secrets at /run/secrets/<target>,
configs at /<target>); one with `content:` or `environment:` (the compose spec's; docker-compose
1.29 has neither) is written into the container before it starts, mode 0444 unless the service
gives `mode`/`uid`/`gid`. External definitions exist only in swarm, so they are refused. Pure:
files are only checked for existence and read here, the engine calls are the caller's."""

from __future__ import annotations

import io
import os
import tarfile
import time
from collections.abc import Mapping
from dataclasses import dataclass

from skiff.compose.errors import ConfigError

KINDS = ("secrets", "configs")
BASE_DIR = {"secrets": "/run/secrets", "configs": ""}
FIELDS = ("source", "target", "uid", "gid", "mode", "name")  # docker-compose's ServiceSecret, in order


def singular(kind: str) -> str:
    return kind[:-1]


def service_refs(svc: dict, kind: str) -> list[dict]:
    """A service's `secrets:`/`configs:` entries as mappings (short syntax: the name alone)."""
    out = []
    for entry in svc.get(kind) or []:
        out.append({"source": entry} if isinstance(entry, str) else dict(entry))
    return out


def check_references(services: Mapping[str, dict], definitions: Mapping[str, Mapping[str, dict]]) -> None:
    """Every name a service uses is defined at the top level (docker-compose's message, its
    trailing space included)."""
    for name, svc in services.items():
        for kind in KINDS:
            for ref in service_refs(svc, kind):
                if not isinstance(ref.get("source"), str):
                    raise ConfigError(f"services.{name}.{kind} contains an entry without a source")
                if ref["source"] not in definitions.get(kind, {}):
                    raise ConfigError(f'Service "{name}" uses an undefined {singular(kind)} "{ref["source"]}" ')


def target_path(kind: str, ref: dict) -> str:
    target = ref.get("target") or ref["source"]
    if os.path.isabs(target):
        return target
    return f"{BASE_DIR[kind]}/{target}"


@dataclass
class Placement:
    """One secret or config as the container gets it: a bind of `file`, or `data` written at `target`."""

    kind: str
    source: str
    target: str
    file: str | None = None
    data: bytes | None = None
    mode: int = 0o444
    uid: int = 0
    gid: int = 0


def placements(service: str, svc: dict, definitions: Mapping[str, Mapping[str, dict]],
               environ: Mapping[str, str]) -> list[Placement]:
    """What the service's containers get; ConfigError, before anything is created, for an external
    definition, a file that is not there, or an unset variable."""
    out = []
    for kind in KINDS:
        for ref in service_refs(svc, kind):
            source = ref["source"]
            definition = definitions.get(kind, {}).get(source) or {}
            target = target_path(kind, ref)
            if definition.get("external"):
                raise ConfigError(f'Service "{service}" uses {singular(kind)} "{source}" which is external. '
                                  f"External {kind} are not available to containers created by docker-compose.")
            if definition.get("file") is not None:
                path = str(definition["file"])
                if not os.path.exists(path):
                    raise ConfigError(f'Service "{service}" uses an undefined {singular(kind)} file "{path}", '
                                      f'the following file should be created "{path}" ({singular(kind)} "{source}")')
                out.append(Placement(kind, source, target, file=path))
                continue
            if definition.get("content") is not None:
                data = str(definition["content"]).encode()
            elif definition.get("environment") is not None:
                var = str(definition["environment"])
                if var not in environ:
                    raise ConfigError(f'environment variable "{var}" required by {singular(kind)} "{source}" '
                                      "is not set")
                data = environ[var].encode()
            else:
                needs = '"file", "content" or "environment"' if kind == "configs" else '"file" or "environment"'
                raise ConfigError(f"{kind}.{source}: one of {needs} is required outside swarm")
            out.append(Placement(kind, source, target, data=data, mode=_int(ref.get("mode"), 0o444),
                                 uid=_int(ref.get("uid"), 0), gid=_int(ref.get("gid"), 0)))
    return out


def _int(value, default: int) -> int:
    if value is None:
        return default
    try:
        return int(str(value), 0) if isinstance(value, str) else int(value)
    except ValueError:
        raise ConfigError(f"invalid uid, gid or mode: {value!r}") from None


def warnings(service: str, svc: dict, definitions: Mapping[str, Mapping[str, dict]]) -> list[str]:
    """uid/gid/mode on a bind-mounted file cannot be honoured (the file is the host's), as docker-compose warns."""
    out = []
    for kind in KINDS:
        for ref in service_refs(svc, kind):
            definition = definitions.get(kind, {}).get(str(ref.get("source"))) or {}
            if definition.get("file") is not None and any(ref.get(k) is not None for k in ("uid", "gid", "mode")):
                out.append(f'Service "{service}" uses {singular(kind)} "{ref["source"]}" with uid, gid, or mode. '
                           "These fields are not supported by this implementation of the Compose file")
    return out


def bind_mounts(found: list[Placement]) -> list[dict]:
    """HostConfig.Mounts entries for the file-backed ones (a later target replaces an earlier one)."""
    by_target = {p.target: {"Type": "bind", "Source": p.file, "Target": p.target, "ReadOnly": True}
                 for p in found if p.file is not None}
    return list(by_target.values())


def archive(found: list[Placement], mtime: float | None = None) -> bytes | None:
    """A tar of the written ones, paths relative to the container's root (None when there are none)."""
    mtime = time.time() if mtime is None else mtime
    written = [p for p in found if p.data is not None]
    if not written:
        return None
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for p in written:
            info = tarfile.TarInfo(p.target.lstrip("/"))
            info.size, info.mode, info.uid, info.gid = len(p.data or b""), p.mode, p.uid, p.gid
            info.mtime = int(mtime)
            tar.addfile(info, io.BytesIO(p.data or b""))
    return buf.getvalue()


def hash_entries(svc: dict, secrets: Mapping[str, dict]) -> list[dict]:
    """The `secrets` part of docker-compose 1.29's config hash: per non-external secret its
    ServiceSecret fields and definition's file. (1.29 leaves configs out of the hash.)"""
    out = []
    for ref in service_refs(svc, "secrets"):
        definition = secrets.get(ref["source"]) or {}
        if definition.get("external"):
            continue
        entry: dict = {"secret": [ref.get(f) for f in FIELDS], "file": definition.get("file")}
        if definition.get("file") is None:  # content/environment: their value decides, not a path
            entry["source"] = {k: definition[k] for k in ("content", "environment") if k in definition}
        out.append(entry)
    return out
