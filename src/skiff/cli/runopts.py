"""`run`/`create` flags → the body of POST /containers/create, as the docker CLI builds it. Pure.

Errors are `UsageError`s carrying Docker's messages; the caller exits 125 with them.
"""

from __future__ import annotations

import os

from skiff.cli.flags import UsageError

# -- environment and label files ---------------------------------------------------------------


def parse_env_file(text: str, lookup=os.environ.get, what: str = "variable") -> list[str]:
    """Docker's env-file format: KEY=VALUE lines taken literally, KEY alone from the caller's env."""
    out = []
    for n, raw in enumerate(text.splitlines()):
        line = raw.lstrip("\ufeff" if n == 0 else "").lstrip()
        if not line or line.startswith("#"):
            continue
        key, eq, value = line.partition("=")
        if not key:
            raise UsageError(f"{what} '{line}' contains whitespaces" if " " in line else f"no {what} name on line '{line}'")
        if any(c.isspace() for c in key):
            raise UsageError(f"{what} '{key}' contains whitespaces")
        if eq:
            out.append(f"{key}={value}")
        else:
            found = lookup(key)
            if found is not None:
                out.append(f"{key}={found}")
    return out


def expand_env(values: list[str], lookup=os.environ.get) -> list[str]:
    """`-e KEY` takes KEY's value from the caller's environment when it has one, as docker does."""
    out = []
    for v in values:
        if "=" not in v:
            if not v:
                raise UsageError("invalid environment variable: ")
            found = lookup(v)
            out.append(f"{v}={found}" if found is not None else v)
        else:
            if v.startswith("="):
                raise UsageError(f"invalid environment variable: {v}")
            out.append(v)
    return out


def parse_key_values(values: list[str]) -> dict[str, str]:
    """`key=value` flags (--label, --opt, --log-opt, --sysctl, ...) → a map; a bare key maps to ""."""
    out = {}
    for v in values:
        key, _, value = v.partition("=")
        out[key] = value
    return out


# -- ports ---------------------------------------------------------------------------------------

_PROTOS = ("tcp", "udp", "sctp")


def _port_range(text: str, what: str) -> tuple[int, int]:
    start, dash, end = text.partition("-")
    try:
        lo = int(start)
        hi = int(end) if dash else lo
        if not (0 <= lo <= 65535 and 0 <= hi <= 65535) or hi < lo:
            raise ValueError
    except ValueError:
        raise UsageError(f"invalid {what}: {text}") from None
    return lo, hi


def parse_publish(spec: str) -> dict[str, list[dict]]:
    """`-p [ip:][hostPort:]containerPort[/proto]` → {"80/tcp": [{"HostIp", "HostPort"}]}."""
    text, _, proto = spec.partition("/")
    proto = proto.lower() or "tcp"
    if proto not in _PROTOS:
        raise UsageError(f"invalid proto: {proto}")
    ip = ""
    if text.startswith("["):  # [ipv6]:host:container
        close = text.find("]")
        ip, text = text[1:close], text[close + 2:]
        parts = text.split(":")
        parts = [ip] + parts if len(parts) == 2 else [ip, "", *parts]
    else:
        parts = text.split(":")
    if len(parts) == 1:
        ip, host, container = "", "", parts[0]
    elif len(parts) == 2:
        ip, (host, container) = "", parts
    elif len(parts) == 3:
        ip, host, container = parts
    else:
        raise UsageError(f"invalid port format: {spec}")
    if ip and not _valid_ip(ip):
        raise UsageError(f"invalid IP address: {ip}")
    if not container:
        raise UsageError(f"No port specified: {spec}<empty>")
    c_lo, c_hi = _port_range(container, "containerPort")
    bindings: dict[str, list[dict]] = {}
    if host:
        h_lo, h_hi = _port_range(host, "hostPort")
        if h_hi - h_lo != c_hi - c_lo and c_hi != c_lo:
            raise UsageError(f"invalid ranges specified for container and host Ports: {container} and {host}")
    for i, port in enumerate(range(c_lo, c_hi + 1)):
        host_port = ""
        if host:
            host_port = host if c_lo == c_hi else str(h_lo + i)
        bindings.setdefault(f"{port}/{proto}", []).append({"HostIp": ip, "HostPort": host_port})
    return bindings


def _valid_ip(ip: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(ip)
        return True
    except ValueError:
        return False


def validate_extra_host(value: str) -> str:
    """`--add-host name:ip` (or `name=ip`; `host-gateway` as the address), checked as the docker CLI does."""
    name, sep, addr = value.partition("=") if "=" in value else value.partition(":")
    if not sep or not name or ":" in name:
        raise UsageError(f'invalid argument "{value}" for "--add-host" flag: bad format for add-host: "{value}"')
    if addr != "host-gateway":
        bare = addr[1:-1] if len(addr) > 2 and addr[0] == "[" and addr[-1] == "]" else addr
        if not _valid_ip(bare):
            raise UsageError(f'invalid argument "{value}" for "--add-host" flag: invalid IP address in add-host: '
                             f'"{bare}"')
    return value


def validate_dns(value: str) -> str:
    if not _valid_ip(value.strip()):
        raise UsageError(f'invalid argument "{value}" for "--dns" flag: IP address is not correctly formatted: '
                         f"{value}")
    return value.strip()


def parse_expose(spec: str) -> list[str]:
    text, _, proto = spec.partition("/")
    proto = proto or "tcp"
    lo, hi = _port_range(text, "range format for --expose")
    return [f"{p}/{proto}" for p in range(lo, hi + 1)]


# -- volumes and mounts --------------------------------------------------------------------------


def parse_volume(spec: str, cwd: str | None = None) -> tuple[str | None, str | None]:
    """`-v` → (bind string for HostConfig.Binds, or anonymous volume path for Config.Volumes).

    As in the docker CLI, only the split is done here; the engine validates paths and modes.
    A relative host path ("./data") is made absolute against the current directory.
    """
    parts = spec.split(":")
    if len(parts) == 1:
        return None, spec
    source = parts[0]
    if source in (".", "..") or source.startswith(("./", "../")):
        source = os.path.normpath(os.path.join(cwd or os.getcwd(), source))
    return ":".join([source, *parts[1:]]), None


_BOOL_TRUE = ("", "1", "true", "yes")


def parse_mount(spec: str) -> dict:
    """`--mount type=bind,source=/a,target=/b,readonly` → an API Mount object."""
    mount: dict = {"Type": "volume"}
    fields: list[tuple[str, str, bool]] = []
    for field in spec.split(","):
        if not field:
            continue
        key, eq, value = field.partition("=")
        fields.append((key.strip().lower(), value, bool(eq)))
    for key, value, _has_value in fields:
        if key == "type":
            mount["Type"] = value
    for key, value, has_value in fields:
        if key == "type":
            continue
        if key in ("readonly", "ro"):
            if value.lower() not in _BOOL_TRUE + ("0", "false", "no"):
                raise UsageError(f"invalid value for {key}: {value}")
            mount["ReadOnly"] = value.lower() in _BOOL_TRUE
            continue
        if not has_value and key == "volume-nocopy":
            value, has_value = "true", True  # a bare boolean key, like readonly
        if not has_value:
            raise UsageError(f"invalid field '{key}' must be a key=value pair")
        if key in ("source", "src"):
            mount["Source"] = value
        elif key in ("target", "destination", "dst"):
            mount["Target"] = value
        elif key == "consistency":
            mount["Consistency"] = value
        elif key == "bind-propagation":
            mount.setdefault("BindOptions", {})["Propagation"] = value
        elif key == "bind-recursive":
            mount.setdefault("BindOptions", {})["NonRecursive"] = value == "disabled"
        elif key == "volume-nocopy":
            mount.setdefault("VolumeOptions", {})["NoCopy"] = value.lower() in _BOOL_TRUE
        elif key == "volume-label":
            k, _, v = value.partition("=")
            mount.setdefault("VolumeOptions", {}).setdefault("Labels", {})[k] = v
        elif key == "volume-driver":
            mount.setdefault("VolumeOptions", {}).setdefault("DriverConfig", {})["Name"] = value
        elif key == "volume-opt":
            k, _, v = value.partition("=")
            cfg = mount.setdefault("VolumeOptions", {}).setdefault("DriverConfig", {})
            cfg.setdefault("Options", {})[k] = v
        elif key == "volume-subpath":
            mount.setdefault("VolumeOptions", {})["Subpath"] = value
        elif key == "tmpfs-size":
            mount.setdefault("TmpfsOptions", {})["SizeBytes"] = ram_in_bytes(value)
        elif key == "tmpfs-mode":
            try:
                mount.setdefault("TmpfsOptions", {})["Mode"] = int(value, 8)
            except ValueError:
                raise UsageError(f"invalid value for {key}: {value}") from None
        else:
            raise UsageError(f"unexpected key '{key}' in '{key}={value}'")
    if not mount.get("Target"):
        raise UsageError(f'invalid argument "{spec}" for "--mount" flag: target is required', flag_error=True)
    return mount


def parse_tmpfs(spec: str) -> tuple[str, str]:
    path, _, options = spec.partition(":")
    return path, options


# -- the rest ------------------------------------------------------------------------------------


def parse_restart(text: str) -> dict:
    """`--restart name[:count]`; the engine judges the name, as dockerd does."""
    name, _, count = text.partition(":")
    policy = {"Name": "" if name == "no" else name, "MaximumRetryCount": 0}
    if count:
        try:
            policy["MaximumRetryCount"] = int(count)
        except ValueError:
            raise UsageError("invalid restart policy format: maximum retry count must be an integer") from None
    return policy


def normalize_caps(caps: list[str]) -> list[str] | None:
    """As the docker CLI sends them: upper case with the CAP_ prefix ("ALL" stays as it is)."""
    out = []
    for cap in caps:
        cap = cap.strip().upper()
        out.append(cap if cap == "ALL" or cap.startswith("CAP_") else "CAP_" + cap)
    return out or None


def parse_cpus(text: str) -> int:
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f'invalid argument "{text}" for "--cpus" flag: failed to parse {text} as a rational number',
                         flag_error=True) from None
    return int(round(value * 1e9))


def parse_ulimit(text: str) -> dict:
    name, eq, limits = text.partition("=")
    if not eq:
        raise UsageError(f"invalid ulimit argument: {text}")
    soft, _, hard = limits.partition(":")
    try:
        return {"Name": name, "Soft": int(soft), "Hard": int(hard or soft)}
    except ValueError:
        raise UsageError(f"invalid ulimit argument: {text}") from None


def parse_device(text: str) -> dict:
    parts = text.split(":")
    host = parts[0]
    container = parts[1] if len(parts) > 1 and parts[1].startswith("/") else host
    perms = parts[-1] if len(parts) > 1 and not parts[-1].startswith("/") else "rwm"
    return {"PathOnHost": host, "PathInContainer": container, "CgroupPermissions": perms}


def ram_in_bytes(text: str) -> int:
    """humanize.ram_in_bytes, imported on use: humanize needs `re`, ~5 ms of `skiff run`'s start."""
    from skiff.cli.humanize import ram_in_bytes as parse

    return parse(text)


def _size(opts, name: str, label: str) -> int:
    try:
        return ram_in_bytes(getattr(opts, name))
    except ValueError as e:
        raise UsageError(f'invalid argument "{getattr(opts, name)}" for "{label}" flag: {e}', flag_error=True) from None


def build_create_body(opts, args: list[str], detach: bool = False, read_file=None, cwd: str | None = None) -> dict:
    """The container-create JSON for `run`/`create` options and IMAGE [COMMAND] [ARG...]."""
    read_file = read_file or (lambda p: open(p, encoding="utf-8").read())
    given = opts.given
    image, cmd = args[0], args[1:]

    env: list[str] = []
    for path in opts.env_file:
        try:
            env += parse_env_file(read_file(path))
        except OSError as e:
            raise UsageError(f"open {path}: {e.strerror.lower() if e.strerror else e}") from None
    env += expand_env(opts.env)
    labels: dict[str, str] = {}
    for path in opts.label_file:
        labels.update(parse_key_values(parse_env_file(read_file(path), what="label")))
    labels.update(parse_key_values(opts.label))

    attach = [a.lower() for a in opts.attach]
    for a in attach:
        if a not in ("stdin", "stdout", "stderr"):
            raise UsageError(f"invalid argument \"{a}\" for \"-a, --attach\" flag: valid streams are STDIN, STDOUT and STDERR")
    if detach:
        attach_stdin = attach_stdout = attach_stderr = False
    elif attach:
        attach_stdin, attach_stdout, attach_stderr = ("stdin" in attach, "stdout" in attach, "stderr" in attach)
    else:
        attach_stdin, attach_stdout, attach_stderr = opts.interactive, True, True

    exposed: dict[str, dict] = {}
    port_bindings: dict[str, list[dict]] = {}
    for spec in opts.publish:
        for port, port_binds in parse_publish(spec).items():
            exposed[port] = {}
            port_bindings.setdefault(port, []).extend(port_binds)
    for spec in opts.expose:
        for port in parse_expose(spec):
            exposed[port] = {}

    binds: list[str] = []
    volumes: dict[str, dict] = {}
    for spec in opts.volume:
        bind, anon = parse_volume(spec, cwd)
        if bind:
            binds.append(bind)
        if anon:
            volumes[anon] = {}
    mounts = [parse_mount(m) for m in opts.mount]
    tmpfs = dict(parse_tmpfs(t) for t in opts.tmpfs)

    config: dict = {
        "Hostname": opts.hostname, "Domainname": opts.domainname, "User": opts.user,
        "AttachStdin": attach_stdin, "AttachStdout": attach_stdout, "AttachStderr": attach_stderr,
        "Tty": opts.tty, "OpenStdin": opts.interactive, "StdinOnce": attach_stdin and opts.interactive,
        "Env": env, "Cmd": cmd or None, "Image": image, "Volumes": volumes or None,
        "WorkingDir": opts.workdir, "Entrypoint": None, "Labels": labels,
    }
    if exposed:
        config["ExposedPorts"] = exposed
    if "entrypoint" in given:
        config["Entrypoint"] = [opts.entrypoint] if opts.entrypoint else [""]
    if opts.stop_signal:
        config["StopSignal"] = opts.stop_signal
    if "stop_timeout" in given:
        config["StopTimeout"] = opts.stop_timeout
    if opts.mac_address:
        config["MacAddress"] = opts.mac_address

    host: dict = {
        "Binds": binds or None, "NetworkMode": opts.network or "default",
        "PortBindings": port_bindings, "RestartPolicy": parse_restart(opts.restart),
        "AutoRemove": opts.rm, "VolumeDriver": opts.volume_driver, "VolumesFrom": opts.volumes_from or None,
        "CapAdd": normalize_caps(opts.cap_add), "CapDrop": normalize_caps(opts.cap_drop),
        "Dns": [validate_dns(d) for d in opts.dns], "DnsOptions": opts.dns_option, "DnsSearch": opts.dns_search,
        "ExtraHosts": [validate_extra_host(h) for h in opts.add_host] or None, "GroupAdd": opts.group_add or None,
        "IpcMode": opts.ipc, "Cgroup": "", "Links": opts.link or None, "OomScoreAdj": opts.oom_score_adj,
        "PidMode": opts.pid, "Privileged": opts.privileged, "PublishAllPorts": opts.publish_all,
        "ReadonlyRootfs": opts.read_only, "SecurityOpt": opts.security_opt or None,
        "UTSMode": opts.uts, "UsernsMode": opts.userns, "ShmSize": _size(opts, "shm_size", "--shm-size") if opts.shm_size else 0,
        "Isolation": opts.isolation, "CgroupParent": opts.cgroup_parent, "ContainerIDFile": opts.cidfile,
        "CgroupnsMode": opts.cgroupns,
        "LogConfig": {"Type": opts.log_driver, "Config": parse_key_values(opts.log_opt)},
        "Memory": _size(opts, "memory", "-m, --memory") if opts.memory else 0,
        "MemoryReservation": _size(opts, "memory_reservation", "--memory-reservation") if opts.memory_reservation else 0,
        "NanoCpus": parse_cpus(opts.cpus) if opts.cpus else 0,
        "CpuShares": opts.cpu_shares, "CpuPeriod": opts.cpu_period, "CpuQuota": opts.cpu_quota,
        "CpusetCpus": opts.cpuset_cpus, "CpusetMems": opts.cpuset_mems, "BlkioWeight": opts.blkio_weight,
        "Devices": [parse_device(d) for d in opts.device],
        "Ulimits": [parse_ulimit(u) for u in opts.ulimit], "MemorySwappiness": opts.memory_swappiness,
        "BlkioWeightDevice": [], "BlkioDeviceReadBps": [], "BlkioDeviceWriteBps": [],
        "BlkioDeviceReadIOps": [], "BlkioDeviceWriteIOps": [], "CpuCount": 0, "CpuPercent": 0,
        "CpuRealtimePeriod": 0, "CpuRealtimeRuntime": 0, "IOMaximumIOps": 0, "IOMaximumBandwidth": 0,
        "Sysctls": parse_key_values(opts.sysctl) or None, "Tmpfs": tmpfs or None, "Mounts": mounts or None,
        "OomKillDisable": opts.oom_kill_disable,
    }
    if opts.memory_swap:
        host["MemorySwap"] = -1 if opts.memory_swap == "-1" else _size(opts, "memory_swap", "--memory-swap")
    if opts.runtime:
        host["Runtime"] = opts.runtime
    host["PidsLimit"] = opts.pids_limit  # docker's CLI always sends it; 0 and -1 mean no limit
    if "init" in given:
        host["Init"] = opts.init
    if opts.annotation:
        host["Annotations"] = parse_key_values(opts.annotation)
    if opts.rm and host["RestartPolicy"]["Name"] not in ("", "no"):
        raise UsageError("conflicting options: cannot specify both --restart and --rm")
    if detach and attach:
        raise UsageError("conflicting options: cannot specify both --attach and --detach")
    if opts.storage_opt:
        host["StorageOpt"] = parse_key_values(opts.storage_opt)

    body = dict(config, HostConfig=host)
    network = opts.network or "default"
    # sent for the default bridge too, so the engine refuses --ip there as dockerd does
    if (opts.network_alias or opts.ip or opts.ip6) and network not in ("host", "none"):
        endpoint: dict = {"Aliases": opts.network_alias or None}
        if opts.ip or opts.ip6:
            endpoint["IPAMConfig"] = {"IPv4Address": opts.ip, "IPv6Address": opts.ip6}
        body["NetworkingConfig"] = {"EndpointsConfig": {network: endpoint}}
    return body


