"""Merging service entries: an override file over a base file, or a service over the one it
`extends`, with docker-compose's rules per option. Both sides are in canonical form. Pure."""

from __future__ import annotations

MAPPINGS = ("environment", "labels", "sysctls", "depends_on", "ulimits", "storage_opt", "log_opt",
            "driver_opts")
UNIQUE_LISTS = ("expose", "external_links", "volumes_from", "dns", "dns_search", "env_file", "tmpfs",
                "cap_add", "cap_drop", "devices", "security_opt", "group_add", "dns_opt", "extra_hosts",
                "links", "profiles", "secrets", "configs")


def _volume_target(v) -> str:
    if isinstance(v, dict):
        return str(v.get("target", ""))
    parts = str(v).split(":")
    return parts[1] if len(parts) > 1 else parts[0]


def _source(ref) -> str:
    return str(ref.get("source")) if isinstance(ref, dict) else str(ref)


def _port_key(p) -> str:
    return repr(sorted(p.items())) if isinstance(p, dict) else str(p)


def _unique(base: list, override: list, key=str) -> list:
    seen = {key(x) for x in override}
    return [x for x in base if key(x) not in seen] + list(override)


def merge_service(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        old = base.get(key)
        if old is None or value is None:
            out[key] = value if value is not None else old
        elif key in MAPPINGS and isinstance(old, dict) and isinstance(value, dict):
            out[key] = {**old, **value}
        elif key in ("secrets", "configs") and isinstance(old, list) and isinstance(value, list):
            out[key] = _unique(old, value, _source)  # by the name used, as docker-compose merges them
        elif key in UNIQUE_LISTS and isinstance(old, list) and isinstance(value, list):
            out[key] = _unique(old, value)
        elif key == "volumes":
            out[key] = _unique(old, value, _volume_target)
        elif key == "ports":
            out[key] = _unique(old, value, _port_key)
        elif key == "networks":
            out[key] = {**old, **value}
        elif key in ("build", "logging", "healthcheck", "deploy") and isinstance(old, dict) and isinstance(value, dict):
            merged = {**old, **value}
            for sub in ("args", "options", "labels"):
                if isinstance(old.get(sub), dict) and isinstance(value.get(sub), dict):
                    merged[sub] = {**old[sub], **value[sub]}
            out[key] = merged
        else:
            out[key] = value
    return out


def merge_section(base: dict, override: dict) -> dict:
    """Top-level networks/volumes: an entry of the override replaces keys of the base's."""
    out = dict(base)
    for name, entry in override.items():
        out[name] = {**(base.get(name) or {}), **(entry or {})}
    return out
