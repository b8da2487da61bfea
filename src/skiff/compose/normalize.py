"""One canonical shape per service option, so that merging files and building containers
deal with a single form: mappings for environment/labels, dicts for depends_on/networks/build,
lists for the list-or-string options. Pure."""

from __future__ import annotations

from skiff.compose.errors import ConfigError


def as_mapping(value, what: str, sep: str = "=") -> dict[str, str | None]:
    """`["A=1", "B"]` or `{"A": 1}` → {"A": "1", "B": None} (None: take it from the environment)."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return {str(k): None if v is None else _scalar(v) for k, v in value.items()}
    out: dict[str, str | None] = {}
    for item in value:
        if not isinstance(item, str):
            raise ConfigError(f"{what} contains {item!r}, which is an invalid type, it should be a string")
        key, eq, val = item.partition(sep)
        out[key] = val if eq else None
    return out


def _scalar(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _depends_on(value) -> dict[str, dict]:
    if isinstance(value, dict):
        return {k: {"condition": (v or {}).get("condition", "service_started")} for k, v in value.items()}
    return {name: {"condition": "service_started"} for name in as_list(value)}


def _networks(value) -> dict[str, dict]:
    if isinstance(value, dict):
        return {k: dict(v or {}) for k, v in value.items()}
    return {name: {} for name in as_list(value)}


def _build(value) -> dict:
    if isinstance(value, str):
        return {"context": value}
    out = dict(value)
    if "args" in out:
        out["args"] = as_mapping(out["args"], "build.args")
    return out


def _extra_hosts(value) -> list[str]:
    if isinstance(value, dict):
        return [f"{k}:{v}" for k, v in value.items()]
    return [str(v) for v in as_list(value)]


def service(name: str, entry: dict, v1: bool = False) -> dict:
    """A service entry in canonical form (a new dict)."""
    out = dict(entry)
    if "environment" in out:
        out["environment"] = as_mapping(out["environment"], f"services.{name}.environment")
    if "labels" in out:
        out["labels"] = {k: v or "" for k, v in as_mapping(out["labels"], f"services.{name}.labels").items()}
    if "sysctls" in out:
        out["sysctls"] = as_mapping(out["sysctls"], f"services.{name}.sysctls")
    for key in ("env_file", "dns", "dns_search", "tmpfs", "profiles"):
        if key in out:
            out[key] = as_list(out[key])
    if "depends_on" in out:
        out["depends_on"] = _depends_on(out["depends_on"])
    if "networks" in out:
        out["networks"] = _networks(out["networks"])
    if "build" in out:
        out["build"] = _build(out["build"])
    if "extra_hosts" in out:
        out["extra_hosts"] = _extra_hosts(out["extra_hosts"])
    if v1 and "net" in out:  # fig's `net` is `network_mode` (and `container:<service>` names a service)
        net = out.pop("net")
        out["network_mode"] = net
    if "ports" in out:
        out["ports"] = [p if isinstance(p, dict) else str(p) for p in out["ports"]]
    return out


def link_target(link: str) -> str:
    return link.split(":", 1)[0]


def service_of_mode(mode: str | None) -> str | None:
    """`service:x` (and fig's `container:x` when x is a service: checked by the caller) → x."""
    if mode and mode.startswith("service:"):
        return mode[len("service:"):]
    return None


def volumes_from_service(entry: str) -> str | None:
    """`web`, `web:ro` name a service; `container:x[:ro]` a container."""
    if entry.startswith("container:"):
        return None
    return entry.split(":", 1)[0]
