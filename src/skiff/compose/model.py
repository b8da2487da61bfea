"""A loaded compose project, and docker-compose's naming conventions that let both tools see
the same containers, networks and volumes. Pure."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from skiff.compose import graph
from skiff.compose.errors import ConfigError

COMPOSE_VERSION = "1.29.2"  # what the version label says: docker-compose then treats our containers as its own
LABEL_PROJECT = "com.docker.compose.project"
LABEL_SERVICE = "com.docker.compose.service"
LABEL_NUMBER = "com.docker.compose.container-number"
LABEL_ONEOFF = "com.docker.compose.oneoff"
LABEL_CONFIG_HASH = "com.docker.compose.config-hash"
LABEL_VERSION = "com.docker.compose.version"
LABEL_WORKING_DIR = "com.docker.compose.project.working_dir"
LABEL_CONFIG_FILES = "com.docker.compose.project.config_files"
LABEL_NETWORK = "com.docker.compose.network"
LABEL_VOLUME = "com.docker.compose.volume"


def normalize_project_name(name: str) -> str:
    """docker-compose 1.x: lower case, and only `a-z0-9-_` kept."""
    return re.sub(r"[^-_a-z0-9]", "", name.lower())


@dataclass
class Project:
    name: str
    working_dir: str
    config_files: list[str]
    services: dict[str, dict]  # canonical service entries, by name
    networks: dict[str, dict] = field(default_factory=dict)
    volumes: dict[str, dict] = field(default_factory=dict)
    secrets: dict[str, dict] = field(default_factory=dict)  # top-level definitions, `file` absolute
    configs: dict[str, dict] = field(default_factory=dict)
    version: str = ""
    environment: dict[str, str] = field(default_factory=dict)  # os.environ with .env under it
    profiles: list[str] = field(default_factory=list)  # --profile / COMPOSE_PROFILES

    @property
    def v1(self) -> bool:
        return self.version == "1"

    def enabled(self, service: str, profiles: set[str] | None = None) -> bool:
        """A service with `profiles` runs only when one of them is enabled."""
        own = self.services[service].get("profiles") or []
        return not own or bool(set(own) & (set(self.profiles) if profiles is None else profiles))

    def order(self, names: list[str] | None = None, deps: bool = True) -> list[str]:
        """The services to act on, dependencies first: `names` (whose profiles they enable) or
        every enabled service; a dependency outside the enabled profiles is an error."""
        profiles = set(self.profiles)
        if not names:
            names = [n for n in self.services if self.enabled(n, profiles)]
        else:
            for n in names:
                profiles.update(self.services[n].get("profiles") or [])
        if not deps:
            return [n for n in graph.start_order(self.services) if n in names]
        out = graph.with_dependencies(self.services, names)
        for dep in out:
            if dep not in names and not self.enabled(dep, profiles):
                user = next(n for n in out if dep in graph.dependencies(self.services[n]))
                raise ConfigError(f'Service "{dep}" was pulled in as a dependency of service "{user}" but is '
                                  "not enabled by the active profiles. You may fix this by adding a common "
                                  f'profile to "{dep}" and "{user}".')
        return out

    def image_name(self, service: str) -> str:
        """The image a service runs: its `image`, else the one `build` makes (`<project>_<service>`)."""
        svc = self.services[service]
        return svc.get("image") or f"{self.name}_{service}"

    def container_name(self, service: str, number: int, oneoff: bool = False) -> str:
        custom = self.services[service].get("container_name")
        if custom and not oneoff:
            return custom
        if oneoff:
            return f"{self.name}_{service}_run_{number}"
        return f"{self.name}_{service}_{number}"

    def network_name(self, key: str) -> str:
        return _engine_name(self.name, key, self.networks.get(key) or {})

    def volume_name(self, key: str) -> str:
        return _engine_name(self.name, key, self.volumes.get(key) or {})

    def service_networks(self, service: str) -> dict[str, dict]:
        """Network key → {aliases, ipv4_address}; `default` unless the service names others or
        uses a network_mode (v1 files have no networks: links then name the containers)."""
        svc = self.services[service]
        if svc.get("network_mode"):
            return {}
        return svc.get("networks") or {"default": {}}

    def file_definitions(self) -> dict[str, dict[str, dict]]:
        """Top-level secrets and configs by kind, as skiff.compose.filerefs takes them."""
        return {"secrets": self.secrets, "configs": self.configs}

    def labels(self, service: str, number: int, oneoff: bool = False) -> dict[str, str]:
        return {
            LABEL_PROJECT: self.name,
            LABEL_SERVICE: service,
            LABEL_ONEOFF: "True" if oneoff else "False",
            LABEL_WORKING_DIR: self.working_dir,
            LABEL_CONFIG_FILES: ",".join(os.path.relpath(f, self.working_dir) if os.path.isabs(f) else f
                                         for f in self.config_files),
            LABEL_NUMBER: str(number),
            LABEL_VERSION: COMPOSE_VERSION,
        }


def _engine_name(project: str, key: str, entry: dict) -> str:
    """A top-level network's or volume's name on the engine: `external.name`, `name`, the key
    itself when external, else `<project>_<key>`."""
    external = entry.get("external")
    if isinstance(external, dict) and external.get("name"):
        return external["name"]
    if entry.get("name"):
        return entry["name"]
    return key if external else f"{project}_{key}"
