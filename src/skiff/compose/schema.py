"""Which keys a compose file may hold and of what JSON type, with docker-compose's messages. Pure.

The table covers fig's version 1, the 2.x and 3.x formats and the version-less compose spec
(one union: a key of a later format in an earlier file is accepted, as compose-spec does).
"""

from __future__ import annotations

from skiff.compose.errors import SchemaError as ConfigError

S, N, B, L, D = "string", "number", "boolean", "array", "object"

SERVICE_KEYS: dict[str, tuple[str, ...]] = {
    "build": (S, D), "image": (S,), "command": (S, L), "entrypoint": (S, L),
    "container_name": (S,), "environment": (D, L), "env_file": (S, L), "ports": (L,), "expose": (L,),
    "volumes": (L,), "volumes_from": (L,), "links": (L,), "external_links": (L,),
    "depends_on": (L, D), "networks": (L, D), "network_mode": (S,), "net": (S,),
    "restart": (S,), "healthcheck": (D,), "labels": (D, L), "working_dir": (S,), "user": (S, N),
    "hostname": (S,), "domainname": (S,), "extra_hosts": (L, D), "dns": (S, L), "dns_search": (S, L),
    "dns_opt": (L,), "cap_add": (L,), "cap_drop": (L,), "privileged": (B,), "tty": (B,),
    "stdin_open": (B,), "stop_signal": (S,), "stop_grace_period": (S, N), "ulimits": (D,),
    "mem_limit": (S, N), "memswap_limit": (S, N), "mem_reservation": (S, N), "cpus": (S, N),
    "cpu_shares": (S, N), "cpu_quota": (S, N), "cpu_period": (S, N), "cpuset": (S,),
    "shm_size": (S, N), "tmpfs": (S, L), "devices": (L,), "read_only": (B,), "init": (B,),
    "ipc": (S,), "pid": (S,), "security_opt": (L,), "sysctls": (D, L), "logging": (D,),
    "log_driver": (S,), "log_opt": (D,), "deploy": (D,), "extends": (S, D), "scale": (N,),
    "profiles": (L,), "platform": (S,), "pull_policy": (S,), "secrets": (L,), "configs": (L,),
    "group_add": (L,), "oom_score_adj": (N,), "userns_mode": (S,), "mac_address": (S,),
    "runtime": (S,), "cgroup_parent": (S,), "storage_opt": (D,), "isolation": (S,),
    "oom_kill_disable": (B,), "pids_limit": (N, S), "cpu_count": (N,), "cpu_percent": (N,),
}
V1_ONLY = {"net", "log_driver", "log_opt"}
NOT_IN_V1 = {"depends_on", "networks", "network_mode", "healthcheck", "deploy", "secrets", "configs",
             "sysctls", "profiles", "init", "scale", "logging"}
TOP_LEVEL = ("version", "services", "networks", "volumes", "secrets", "configs")
NETWORK_KEYS = {"driver": (S,), "driver_opts": (D,), "ipam": (D,), "external": (B, D), "internal": (B,),
                "labels": (D, L), "name": (S,), "attachable": (B,), "enable_ipv6": (B,)}
VOLUME_KEYS = {"driver": (S,), "driver_opts": (D,), "external": (B, D), "labels": (D, L), "name": (S,)}
SECRET_KEYS = {"name": (S,), "file": (S,), "environment": (S,), "external": (B, D), "labels": (D, L),
               "driver": (S,), "driver_opts": (D,), "template_driver": (S,)}
CONFIG_KEYS = {"name": (S,), "file": (S,), "environment": (S,), "content": (S,), "external": (B, D),
               "labels": (D, L), "template_driver": (S,)}
FILE_REF_KEYS = {"source": (S,), "target": (S,), "uid": (S, N), "gid": (S, N), "mode": (N, S)}
HINTS = {"cpu_share": "cpu_shares", "add_host": "extra_hosts", "hosts": "extra_hosts",
         "extra_host": "extra_hosts", "device": "devices", "link": "links", "memory_swap": "memswap_limit",
         "port": "ports", "privilege": "privileged", "priviliged": "privileged", "privilige": "privileged",
         "volume": "volumes", "workdir": "working_dir"}


def json_type(value: object) -> str:
    if isinstance(value, bool):
        return B
    if isinstance(value, int | float):
        return N
    if isinstance(value, str):
        return S
    if isinstance(value, list):
        return L
    if isinstance(value, dict):
        return D
    return "null"


def _should_be(types: tuple[str, ...]) -> str:
    named = [("an " if t[0] in "aeiou" else "a ") + t for t in types]
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " or " + named[-1]


def _check_keys(entry: dict, table: dict, where: str, extra_ok: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    for key, value in entry.items():
        if not isinstance(key, str):
            raise ConfigError(f"{where} contains an invalid type, it should be a string")
        if key.startswith("x-"):
            continue
        if key not in table or key in extra_ok:
            msg = f"Unsupported config option for {where}: '{key}'"
            if key in HINTS:
                msg += f" (did you mean '{HINTS[key]}'?)"
            raise ConfigError(msg)
        if value is None:
            continue  # an empty key (`environment:`) is null, which compose accepts as unset
        if json_type(value) not in table[key]:
            raise ConfigError(f"{where}.{key} contains an invalid type, it should be {_should_be(table[key])}")


def check_service(name: str, entry: object, v1: bool) -> None:
    where = name if v1 else f"services.{name}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be a mapping, not {json_type(entry) if entry is not None else 'null'}"
                          if entry is not None else f"Service \"{name}\" is empty (a mapping is expected).")
    banned = NOT_IN_V1 if v1 else V1_ONLY
    _check_keys(entry, SERVICE_KEYS, where, set(banned))
    for key in ("ports", "expose", "dns", "cap_add", "cap_drop", "links", "external_links", "volumes_from"):
        for item in entry.get(key) or []:
            allowed = (S, N, D) if key == "ports" else (S, N) if key == "expose" else (S,)
            if json_type(item) not in allowed:
                raise ConfigError(f"{where}.{key} contains {json_type(item)}, which is an invalid type, "
                                  f"it should be {_should_be(allowed)}")
    for key in ("secrets", "configs"):
        for item in entry.get(key) or []:
            if isinstance(item, dict):
                _check_keys(item, FILE_REF_KEYS, f"{where}.{key}")
            elif not isinstance(item, str):
                raise ConfigError(f"{where}.{key} contains {json_type(item)}, which is an invalid type, "
                                  "it should be a string or an object")


def check_top_level(doc: dict, filename: str) -> None:
    for key in doc:
        if isinstance(key, str) and (key in TOP_LEVEL or key.startswith("x-")):
            continue
        raise ConfigError(
            f'Invalid top-level property "{key}". Valid top-level sections for this Compose file are: '
            f'{", ".join(TOP_LEVEL)}, and extensions starting with "x-".')
    for section, table in (("networks", NETWORK_KEYS), ("volumes", VOLUME_KEYS), ("secrets", SECRET_KEYS),
                           ("configs", CONFIG_KEYS)):
        entries = doc.get(section) or {}
        if not isinstance(entries, dict):
            raise ConfigError(f"{section} contains an invalid type, it should be an object")
        for name, entry in entries.items():
            if entry is not None and not isinstance(entry, dict):
                raise ConfigError(f"{section}.{name} contains an invalid type, it should be an object")
            _check_keys(entry or {}, table, f"{section}.{name}")
