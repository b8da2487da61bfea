"""The project's networks and volumes on the engine: created with docker-compose's names and
labels when missing, external ones checked, removed by `down`."""

from __future__ import annotations

from skiff.compose import model
from skiff.compose.errors import ConfigError
from skiff.compose.model import Project


def status_of(e: Exception) -> int | None:
    return getattr(e, "status", None)


def used_networks(project: Project, services: list[str] | None = None) -> list[str]:
    """Network keys the services join (`default` only if some service uses it), declaration order."""
    if project.v1:
        return []
    wanted: list[str] = []
    for name in services or list(project.services):
        for key in project.service_networks(name):
            if key not in wanted:
                wanted.append(key)
    return [k for k in list(project.networks) + ["default"] if k in wanted]


def ensure_networks(project: Project, api, say, services: list[str] | None = None) -> None:
    for key in used_networks(project, services):
        entry = project.networks.get(key) or {}
        name = project.network_name(key)
        if _exists(api, f"/networks/{name}"):
            continue
        if entry.get("external"):
            raise ConfigError(f"Network {name} declared as external, but could not be found. Please create the "
                              f"network manually using `docker network create {name}` and try again.")
        driver = entry.get("driver") or "bridge"
        say(f'Creating network "{name}" with {"the default driver" if driver == "bridge" and not entry.get("driver") else "driver " + repr(driver)}')
        labels = dict(_labels(entry.get("labels")))
        labels.update({model.LABEL_NETWORK: key, model.LABEL_PROJECT: project.name,
                       model.LABEL_VERSION: model.COMPOSE_VERSION})
        body: dict = {"Name": name, "Driver": driver, "Labels": labels, "CheckDuplicate": True,
                      "Internal": bool(entry.get("internal")), "Attachable": bool(entry.get("attachable")),
                      "EnableIPv6": bool(entry.get("enable_ipv6")),
                      "Options": {k: str(v) for k, v in (entry.get("driver_opts") or {}).items()}}
        ipam = entry.get("ipam") or {}
        if ipam:
            body["IPAM"] = {"Driver": ipam.get("driver", "default"),
                            "Config": [{_camel(k): v for k, v in c.items()} for c in ipam.get("config") or []],
                            "Options": ipam.get("options") or {}}
        api.post("/networks/create", None, body)


def _exists(api, path: str) -> bool:
    try:
        api.get(path)
        return True
    except Exception as e:
        if status_of(e) != 404:
            raise
        return False


def _camel(key: str) -> str:
    return {"subnet": "Subnet", "ip_range": "IPRange", "gateway": "Gateway",
            "aux_addresses": "AuxiliaryAddresses"}.get(key, key)


def _labels(value) -> dict[str, str]:
    if isinstance(value, dict):
        return {k: str(v) for k, v in value.items()}
    return {k: v for k, _, v in (str(x).partition("=") for x in value or [])}


def remove_networks(project: Project, api, say) -> None:
    for key in used_networks(project) or (["default"] if not project.v1 else []):
        entry = project.networks.get(key) or {}
        if entry.get("external"):
            continue
        name = project.network_name(key)
        try:
            info = api.get(f"/networks/{name}")
        except Exception as e:
            if status_of(e) == 404:
                continue
            raise
        if (info.get("Labels") or {}).get(model.LABEL_PROJECT, project.name) != project.name:
            continue
        say(f"Removing network {name}")
        try:
            api.delete(f"/networks/{name}")
        except Exception as e:
            if status_of(e) != 404:
                say(f"ERROR: error while removing network: {getattr(e, 'message', e)}")


def ensure_volumes(project: Project, api, say) -> None:
    for key, entry in project.volumes.items():
        entry = entry or {}
        name = project.volume_name(key)
        if _exists(api, f"/volumes/{name}"):
            continue
        if entry.get("external"):
            raise ConfigError(f"Volume {name} declared as external, but could not be found. Please create the "
                              f"volume manually using `docker volume create --name={name}` and try again.")
        driver = entry.get("driver") or "local"
        say(f'Creating volume "{name}" with {"default driver" if not entry.get("driver") else driver + " driver"}')
        labels = dict(_labels(entry.get("labels")))
        labels.update({model.LABEL_VOLUME: key, model.LABEL_PROJECT: project.name,
                       model.LABEL_VERSION: model.COMPOSE_VERSION})
        api.post("/volumes/create", None, {"Name": name, "Driver": driver, "Labels": labels,
                                           "DriverOpts": {k: str(v) for k, v in (entry.get("driver_opts") or {}).items()}})


def remove_volumes(project: Project, api, say) -> None:
    for key, entry in project.volumes.items():
        if (entry or {}).get("external"):
            continue
        name = project.volume_name(key)
        say(f"Removing volume {name}")
        try:
            api.delete(f"/volumes/{name}")
        except Exception as e:
            if status_of(e) == 404:
                say(f"WARNING: Volume {name} not found.")
            else:
                say(f"ERROR: {getattr(e, 'message', e)}")
