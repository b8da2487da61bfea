"""docker-compose 1.29's `com.docker.compose.config-hash`, computed the way it does, so that
either tool finds the other's containers up to date and recreates only what changed. Pure.

docker-compose hashes (sha256 of sorted-key compact JSON) the service's options as its config
layer leaves them, plus the image id, links, network mode, networks, ipc mode, secrets and
volumes_from. Options here are rebuilt from skiff's canonical form: ports and volumes become
docker-compose's tuples, restart and healthcheck durations are parsed, and the keys it keeps
out of `options` are moved to their own fields. Where a long-syntax entry is shaped differently,
the hashes differ and the other tool recreates the container, which is safe."""

from __future__ import annotations

import hashlib
import json

from skiff.compose import deploy, filerefs
from skiff.compose.model import Project
from skiff.compose.normalize import service_of_mode, volumes_from_service
from skiff.compose.ports import parse_port
from skiff.compose.spec import duration_ns

OUTSIDE_OPTIONS = ("links", "networks", "network_mode", "volumes_from", "secrets", "extends", "env_file",
                   "ipc", "pid", "scale", "deploy", "configs", "credential_spec")


def _ports(entries: list) -> list[list]:
    out = []
    for entry in entries:
        if isinstance(entry, dict):
            out.append([int(entry["target"]), entry.get("published"), entry.get("protocol"), entry.get("mode"),
                        entry.get("host_ip")])
            continue
        explicit_proto = "/" in str(entry)
        for key, ip, host in parse_port(entry):
            port, proto = key.split("/")
            out.append([int(port), int(host) if host else None, proto if explicit_proto else None, None,
                        ip or None])
    return out


def _volumes(project: Project, entries: list) -> list:
    out: list = []
    for v in entries:
        if isinstance(v, dict):
            out.append({k: val for k, val in v.items() if val})  # MountSpec.repr(): the fields given
            continue
        parts = str(v).split(":")
        if len(parts) == 1:
            out.append([None, parts[0], "rw"])
            continue
        source = parts[0]
        if not source.startswith(("/", ".", "~")):
            source = project.volume_name(source) if source in project.volumes else source
        out.append([source, parts[1], parts[2] if len(parts) > 2 else "rw"])
    return out


def _healthcheck(hc: dict) -> dict:
    out = dict(hc)
    for key in ("interval", "timeout", "start_period"):
        if key in out and not isinstance(out[key], int):
            out[key] = duration_ns(out[key], f"healthcheck.{key}")
    return out


def _restart(text: str) -> dict:
    name, _, count = text.partition(":")
    return {"Name": name, "MaximumRetryCount": int(count or 0)}


def options(project: Project, service: str) -> dict:
    svc = deploy.container_options(project.services[service])
    opts = {k: v for k, v in svc.items() if k not in OUTSIDE_OPTIONS}
    opts.setdefault("device_requests", None)
    opts.setdefault("platform", None)
    if not project.v1:
        opts.setdefault("volumes", [])
    if "volumes" in opts:
        opts["volumes"] = _volumes(project, opts["volumes"])
    if "ports" in opts:
        opts["ports"] = _ports(opts["ports"])
    if opts.get("restart"):
        opts["restart"] = _restart(opts["restart"])
    if opts.get("healthcheck"):
        opts["healthcheck"] = _healthcheck(opts["healthcheck"])
    return opts


def network_mode_id(project: Project, service: str) -> str | None:
    svc = project.services[service]
    mode = svc.get("network_mode")
    if mode:
        return service_of_mode(mode) or mode
    if project.v1:
        return None
    nets = project.service_networks(service)
    ranked = sorted(nets, key=lambda k: (-int((nets[k] or {}).get("priority") or 0), project.network_name(k)))
    return project.network_name(ranked[0]) if ranked else None


def hash_input(project: Project, service: str, image_id: str | None) -> dict:
    svc = project.services[service]
    links = []
    for link in svc.get("links") or []:
        target, _, alias = link.partition(":")
        links.append([target, alias or None])
    volumes_from = []
    for entry in svc.get("volumes_from") or []:
        source = volumes_from_service(entry)
        if source:
            volumes_from.append([source, entry.split(":", 1)[1] if ":" in entry else "rw"])
    networks = {} if svc.get("network_mode") or project.v1 else \
        {project.network_name(k): dict(v or {}) for k, v in project.service_networks(service).items()}
    return {"options": options(project, service), "image_id": image_id, "links": links,
            "net": network_mode_id(project, service), "ipc_mode": svc.get("ipc"), "networks": networks,
            "secrets": filerefs.hash_entries(svc, project.secrets), "volumes_from": volumes_from}


def service_hash(project: Project, service: str, image_id: str | None) -> str:
    dump = json.dumps(hash_input(project, service, image_id), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(dump.encode()).hexdigest()
