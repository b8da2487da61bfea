"""A service → the body of POST /containers/create, as docker-compose builds it. Pure: the
container names of other services it needs (links, volumes_from, network_mode) are passed in."""

from __future__ import annotations

import re
import shlex

from skiff.common.goduration import parse_go_duration
from skiff.compose import deploy, filerefs
from skiff.compose.errors import ConfigError
from skiff.compose.model import Project
from skiff.compose.normalize import service_of_mode, volumes_from_service
from skiff.compose.ports import port_config

_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "m": 1024 ** 2, "mb": 1024 ** 2, "g": 1024 ** 3,
          "gb": 1024 ** 3, "t": 1024 ** 4, "tb": 1024 ** 4}


def parse_bytes(value, what: str) -> int:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", str(value))
    if not m or m.group(2).lower() not in _UNITS:
        raise ConfigError(f"{what}: invalid size: '{value}'")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def duration_ns(value, what: str) -> int:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value * 1e9)
    try:
        return int(parse_go_duration(str(value)) * 1e9)
    except ValueError as e:
        raise ConfigError(f"{what}: {e}") from None


def duration_seconds(value) -> int:
    return duration_ns(value, "stop_grace_period") // 1_000_000_000


def split_command(value) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, list):
        return [str(v) for v in value]
    return shlex.split(value)


def restart_policy(text: str | None) -> dict:
    if not text or text == "no":
        return {"Name": "", "MaximumRetryCount": 0}
    name, _, count = text.partition(":")
    if name not in ("always", "unless-stopped", "on-failure"):
        raise ConfigError(f"Invalid restart policy: {text}")
    return {"Name": name, "MaximumRetryCount": int(count or 0)}


def _healthcheck(hc: dict) -> dict:
    if hc.get("disable"):
        return {"Test": ["NONE"]}
    out: dict = {}
    test = hc.get("test")
    if isinstance(test, str):
        out["Test"] = ["CMD-SHELL", test]
    elif test is not None:
        out["Test"] = list(test)
    for key, api in (("interval", "Interval"), ("timeout", "Timeout"), ("start_period", "StartPeriod")):
        if key in hc:
            out[api] = duration_ns(hc[key], f"healthcheck.{key}")
    if "retries" in hc:
        out["Retries"] = int(hc["retries"])
    return out


def _ulimits(ulimits: dict) -> list[dict]:
    out = []
    for name, value in ulimits.items():
        if isinstance(value, dict):
            out.append({"Name": name, "Soft": int(value["soft"]), "Hard": int(value["hard"])})
        else:
            out.append({"Name": name, "Soft": int(value), "Hard": int(value)})
    return out


def _volumes(project: Project, svc: dict) -> tuple[list[str], dict, list[dict]]:
    """(Binds, Config.Volumes for anonymous volumes, Mounts for long-syntax tmpfs/volume/bind)."""
    binds: list[str] = []
    anonymous: dict[str, dict] = {}
    mounts: list[dict] = []
    for v in svc.get("volumes") or []:
        if isinstance(v, dict):
            kind = v.get("type", "volume")
            target = v["target"]
            if kind == "volume" and not v.get("source"):
                anonymous[target] = {}
                continue
            source = v.get("source", "")
            if kind == "volume":
                source = project.volume_name(source) if source in project.volumes else source
            mount = {"Type": kind, "Source": source, "Target": target, "ReadOnly": bool(v.get("read_only"))}
            mounts.append(mount)
            continue
        parts = str(v).split(":")
        if len(parts) == 1:
            anonymous[parts[0]] = {}
            continue
        source, target = parts[0], parts[1]
        mode = parts[2] if len(parts) > 2 else ""
        if not source.startswith("/"):
            if project.volumes and source not in project.volumes and not project.v1:
                raise ConfigError(f'Named volume "{v}" is used in service "{svc.get("_name", "")}" but no '
                                  "declaration was found in the volumes section.")
            source = project.volume_name(source) if source in project.volumes else source
        binds.append(f"{source}:{target}" + (f":{mode}" if mode else ""))
    return binds, anonymous, mounts


def create_body(project: Project, service: str, number: int, *, containers: dict[str, str],
                image_id: str | None, config_hash: str, oneoff: bool = False, command=None,
                entrypoint=None, extra_env: dict | None = None, tty: bool | None = None,
                stdin_open: bool | None = None, extra_labels: dict | None = None) -> dict:
    """`containers` maps a service name to the name of its first container (for links,
    volumes_from, network_mode); the first network of the service is joined at create."""
    svc = deploy.container_options(dict(project.services[service], _name=service))
    env = {k: project.environment.get(k) if v is None else v for k, v in (svc.get("environment") or {}).items()}
    env = {k: v for k, v in env.items() if v is not None}  # a bare key unset in the shell is left out
    env.update(extra_env or {})
    labels = dict(svc.get("labels") or {})
    labels.update(project.labels(service, number, oneoff))
    labels["com.docker.compose.config-hash"] = config_hash
    labels.update(extra_labels or {})
    exposed, bindings = port_config([] if oneoff else svc.get("ports") or [], svc.get("expose") or [])
    binds, anonymous, mounts = _volumes(project, svc)
    mounts += filerefs.bind_mounts(filerefs.placements(service, svc, project.file_definitions(),
                                                       project.environment))
    config: dict = {
        "Image": project.image_name(service),
        "Env": [f"{k}={v}" for k, v in env.items()],
        "Labels": labels,
        "Tty": bool(svc.get("tty")) if tty is None else tty,
        "OpenStdin": bool(svc.get("stdin_open")) if stdin_open is None else stdin_open,
        "AttachStdin": False, "AttachStdout": True, "AttachStderr": True,
    }
    cmd = split_command(command if command is not None else svc.get("command"))
    if cmd is not None:
        config["Cmd"] = cmd
    ep = split_command(entrypoint if entrypoint is not None else svc.get("entrypoint"))
    if ep is not None:
        config["Entrypoint"] = ep if ep else [""]
    for key, api in (("working_dir", "WorkingDir"), ("hostname", "Hostname"), ("domainname", "Domainname"),
                     ("stop_signal", "StopSignal"), ("mac_address", "MacAddress")):
        if svc.get(key):
            config[api] = str(svc[key])
    if svc.get("user") is not None:
        config["User"] = str(svc["user"])
    if exposed:
        config["ExposedPorts"] = exposed
    if anonymous:
        config["Volumes"] = anonymous
    if svc.get("healthcheck"):
        config["Healthcheck"] = _healthcheck(svc["healthcheck"])
    if svc.get("stop_grace_period") is not None:
        config["StopTimeout"] = duration_seconds(svc["stop_grace_period"])

    host: dict = {"Binds": binds, "PortBindings": bindings,
                  "RestartPolicy": restart_policy(None if oneoff else svc.get("restart"))}
    if mounts:
        host["Mounts"] = mounts
    for key, api in (("extra_hosts", "ExtraHosts"), ("dns", "Dns"), ("dns_search", "DnsSearch"),
                     ("dns_opt", "DnsOptions"), ("cap_add", "CapAdd"), ("cap_drop", "CapDrop"),
                     ("security_opt", "SecurityOpt"), ("group_add", "GroupAdd")):
        if svc.get(key):
            host[api] = [str(x) for x in svc[key]]
    for key, api in (("privileged", "Privileged"), ("read_only", "ReadonlyRootfs"), ("init", "Init"),
                     ("oom_kill_disable", "OomKillDisable")):
        if svc.get(key) is not None:
            host[api] = bool(svc[key])
    for key, api in (("mem_limit", "Memory"), ("memswap_limit", "MemorySwap"),
                     ("mem_reservation", "MemoryReservation"), ("shm_size", "ShmSize")):
        if svc.get(key) is not None:
            host[api] = parse_bytes(svc[key], key)
    for key, api in (("cpu_shares", "CpuShares"), ("cpu_quota", "CpuQuota"), ("cpu_period", "CpuPeriod"),
                     ("oom_score_adj", "OomScoreAdj"), ("pids_limit", "PidsLimit")):
        if svc.get(key) is not None:
            host[api] = int(svc[key])
    if svc.get("cpus") is not None:
        host["NanoCpus"] = int(float(svc["cpus"]) * 1e9)
    if svc.get("cpuset"):
        host["CpusetCpus"] = str(svc["cpuset"])
    if svc.get("ulimits"):
        host["Ulimits"] = _ulimits(svc["ulimits"])
    if svc.get("tmpfs"):
        host["Tmpfs"] = {str(t).split(":")[0]: (str(t).split(":", 1)[1] if ":" in str(t) else "")
                         for t in svc["tmpfs"]}
    if svc.get("devices"):
        host["Devices"] = [_device(str(d)) for d in svc["devices"]]
    if svc.get("sysctls"):
        host["Sysctls"] = {k: str(v) for k, v in svc["sysctls"].items()}
    if svc.get("cgroup_parent"):
        host["CgroupParent"] = svc["cgroup_parent"]
    logging = svc.get("logging") or ({"driver": svc["log_driver"], "options": svc.get("log_opt")}
                                     if svc.get("log_driver") else None)
    if logging:
        host["LogConfig"] = {"Type": logging.get("driver", "json-file"),
                             "Config": {k: str(v) for k, v in (logging.get("options") or {}).items()}}
    for key, api in (("ipc", "IpcMode"), ("pid", "PidMode")):
        mode = svc.get(key)
        if mode:
            target = service_of_mode(mode)
            host[api] = f"container:{containers[target]}" if target else mode
    volumes_from = []
    for entry in svc.get("volumes_from") or []:
        target = volumes_from_service(entry)
        if target:
            mode = entry.split(":", 1)[1] if ":" in entry else ""
            volumes_from.append(containers[target] + (f":{mode}" if mode else ""))
        else:
            volumes_from.append(entry[len("container:"):])
    if volumes_from:
        host["VolumesFrom"] = volumes_from

    links = []
    for link in svc.get("links") or []:
        target, _, alias = link.partition(":")
        cname = containers.get(target)
        if cname:
            for a in dict.fromkeys([alias or target, cname]):
                links.append(f"{cname}:{a}")
    for link in svc.get("external_links") or []:
        name, _, alias = link.partition(":")
        links.append(f"{name}:{alias or name}")

    networking: dict = {}
    mode = svc.get("network_mode")
    networks = project.service_networks(service)
    if mode:
        target = service_of_mode(mode)
        host["NetworkMode"] = f"container:{containers[target]}" if target else mode
        if links:
            host["Links"] = links
    elif project.v1:
        host["NetworkMode"] = "bridge"
        if links:
            host["Links"] = links
    else:
        key = next(iter(networks))
        host["NetworkMode"] = project.network_name(key)
        networking = {"EndpointsConfig": {project.network_name(key): endpoint_config(
            service, networks[key], links, oneoff)}}
    body = dict(config, HostConfig=host)
    if networking:
        body["NetworkingConfig"] = networking
    return body


def endpoint_config(service: str, entry: dict, links: list[str], oneoff: bool = False) -> dict:
    aliases = [] if oneoff else [service]
    aliases += [a for a in (entry or {}).get("aliases") or [] if a not in aliases]
    out: dict = {"Aliases": aliases}
    if links:
        out["Links"] = links
    ipam = {}
    if (entry or {}).get("ipv4_address"):
        ipam["IPv4Address"] = entry["ipv4_address"]
    if ipam:
        out["IPAMConfig"] = ipam
    return out


def _device(text: str) -> dict:
    parts = text.split(":")
    host = parts[0]
    inside = parts[1] if len(parts) > 1 else host
    perms = parts[2] if len(parts) > 2 else "rwm"
    return {"PathOnHost": host, "PathInContainer": inside, "CgroupPermissions": perms}
