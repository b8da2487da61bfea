"""Docker's container config + the image config → the container's stored Config and its OCI spec.

Pure functions. `merge_config` does what dockerd does at create (image defaults under the
user's settings); `build_spec` turns the merged config, the HostConfig and facts the service
gathered (resolved user, resolved mounts, paths) into config.json.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from skiff.common.errors import InvalidArgument
from skiff.engine.containers import caps as capabilities
from skiff.engine.containers import health, resources
from skiff.engine.containers.mounts import MountPoint
from skiff.engine.containers.user import ResolvedUser

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
INIT_PATH = "/sbin/docker-init"

MASKED_PATHS = [
    "/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
    "/sys/devices/virtual/powercap",
]
READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]


def _base_mounts(privileged: bool, shm_size: int) -> list[dict]:
    ro = [] if privileged else ["ro"]
    return [
        {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", *ro]},
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
         "options": [*ro, "nosuid", "noexec", "nodev"] if ro else ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
         "options": ["nosuid", "noexec", "nodev", "mode=1777", f"size={shm_size}"]},
    ]


def _env_key(e: str) -> str:
    return e.split("=", 1)[0]


def merge_env(base: list[str], override: list[str]) -> list[str]:
    """`override` entries replace `base` ones with the same key; a bare `KEY` removes it."""
    out = list(base)
    for e in override:
        key = _env_key(e)
        idx = next((i for i, b in enumerate(out) if _env_key(b) == key), None)
        if "=" not in e:
            if idx is not None:
                out.pop(idx)
            continue
        if idx is None:
            out.append(e)
        else:
            out[idx] = e
    return out


def merge_config(body: dict, image_config: dict, container_id: str) -> dict:
    """The Config dockerd stores and shows in inspect: the user's fields over the image's defaults.

    Entrypoint/Cmd follow dockerd's merge: when no Entrypoint is given, an empty Cmd takes the
    image's Cmd and a missing (null) Entrypoint the image's; an Entrypoint given on create
    drops the image's Cmd; `--entrypoint ""` (sent as [""]) means none at all.
    """
    cfg = {k: copy.deepcopy(v) for k, v in body.items() if k not in ("HostConfig", "NetworkingConfig")}
    img = image_config or {}
    user_env = cfg.get("Env") or []
    env = list(user_env)
    keys = {_env_key(e) for e in user_env}
    env += [e for e in img.get("Env") or [] if _env_key(e) not in keys]
    cfg["Env"] = env or None

    entrypoint = cfg.get("Entrypoint")
    if isinstance(entrypoint, str):
        entrypoint = [entrypoint]
    cmd = cfg.get("Cmd")
    if isinstance(cmd, str):
        cmd = [cmd]
    if not entrypoint:
        if not cmd:
            cmd = img.get("Cmd")
        if entrypoint is None:
            entrypoint = img.get("Entrypoint")
    elif entrypoint == [""]:
        entrypoint = None
    cfg["Entrypoint"] = entrypoint or None
    cfg["Cmd"] = cmd or None
    if not (entrypoint or cmd):
        raise InvalidArgument("No command specified")

    for key in ("WorkingDir", "User", "StopSignal", "Shell", "OnBuild", "Domainname"):
        if not cfg.get(key) and img.get(key):
            cfg[key] = copy.deepcopy(img[key])
    healthcheck = health.merge_with_image(cfg.get("Healthcheck"), img.get("Healthcheck"))
    if healthcheck is not None or "Healthcheck" in cfg:
        cfg["Healthcheck"] = copy.deepcopy(healthcheck)
    for key in ("ExposedPorts", "Volumes", "Labels"):
        merged = dict(img.get(key) or {})
        merged.update(cfg.get(key) or {})
        cfg[key] = merged or ({} if key == "Labels" else None)
    if not cfg.get("Hostname"):
        cfg["Hostname"] = container_id[:12]
    for key in ("AttachStdin", "AttachStdout", "AttachStderr", "Tty", "OpenStdin", "StdinOnce"):
        cfg[key] = bool(cfg.get(key))
    cfg.setdefault("Domainname", "")
    cfg.setdefault("User", "")
    cfg.setdefault("WorkingDir", "")
    cfg.setdefault("OnBuild", None)
    return cfg


def process_args(cfg: dict) -> list[str]:
    return list(cfg.get("Entrypoint") or []) + list(cfg.get("Cmd") or [])


def process_env(cfg: dict, home: str = "/") -> list[str]:
    """PATH, HOSTNAME, TERM (with a tty), then the container's Env over them, and HOME last if unset."""
    base = [f"PATH={DEFAULT_PATH}", f"HOSTNAME={cfg.get('Hostname', '')}"]
    if cfg.get("Tty"):
        base.append("TERM=xterm")
    env = merge_env(base, cfg.get("Env") or [])
    if not any(_env_key(e) == "HOME" for e in env):
        env.append(f"HOME={home}")
    return env


@dataclass
class SpecContext:
    """What the service found out before building the spec (the I/O-dependent parts)."""

    id: str
    rootfs: str
    cgroups_path: str
    user: ResolvedUser = field(default_factory=lambda: ResolvedUser(0, 0))
    mounts: list[MountPoint] = field(default_factory=list)  # sources resolved to host paths
    etc_files: dict[str, str] = field(default_factory=dict)  # /etc/hosts etc. → host file
    network_mode: str = "none"  # none | host | bridge | default | container:<id>
    netns_path: str = ""  # the netns to join: the engine's netns file, or container:<id>'s
    pid_ns_path: str = ""
    ipc_ns_path: str = ""
    host_devices: list[dict] = field(default_factory=list)  # OCI devices, for privileged
    init_binary: str = ""  # host path of the init binary, for --init
    available_caps: set[str] | None = None  # the engine's bounding set; None: no limit known
    devices: list[dict] = field(default_factory=list)  # --device nodes: OCI entries + "access"


def _namespaces(hc: dict, ctx: SpecContext) -> list[dict]:
    ns: list[dict] = [{"type": "mount"}]
    if ctx.pid_ns_path:
        ns.append({"type": "pid", "path": ctx.pid_ns_path})
    elif hc.get("PidMode") != "host":
        ns.append({"type": "pid"})
    if ctx.ipc_ns_path:
        ns.append({"type": "ipc", "path": ctx.ipc_ns_path})
    elif hc.get("IpcMode") != "host":
        ns.append({"type": "ipc"})
    if hc.get("UTSMode") != "host":
        ns.append({"type": "uts"})
    mode = ctx.network_mode
    if ctx.netns_path and mode != "host":  # made by the engine's network service, or another container's
        ns.append({"type": "network", "path": ctx.netns_path})
    elif mode != "host":
        ns.append({"type": "network"})
    if hc.get("CgroupnsMode") == "private":
        ns.append({"type": "cgroup"})
    return ns


def _oci_mount(m: MountPoint) -> dict:
    if m.type == "tmpfs":
        return {"destination": m.destination, "type": "tmpfs", "source": "tmpfs", "options": list(m.options)}
    opts = ["rbind", m.propagation or "rprivate", "rw" if m.rw else "ro"]
    return {"destination": m.destination, "type": "bind", "source": m.source, "options": opts}


def build_spec(cfg: dict, hc: dict, ctx: SpecContext) -> dict:
    """The OCI runtime spec (config.json) for a container."""
    privileged = bool(hc.get("Privileged"))
    args = process_args(cfg)
    if hc.get("Init"):
        args = [INIT_PATH, "--", *args]
    cap_list = capabilities.effective_caps(hc.get("CapAdd"), hc.get("CapDrop"), privileged)
    if ctx.available_caps is not None:
        cap_list = [c for c in cap_list if c in ctx.available_caps]
    process: dict = {
        "terminal": bool(cfg.get("Tty")),
        "user": {"uid": ctx.user.uid, "gid": ctx.user.gid},
        "args": args,
        "env": process_env(cfg, ctx.user.home),
        "cwd": cfg.get("WorkingDir") or "/",
        "capabilities": {"bounding": cap_list, "effective": cap_list, "permitted": cap_list},
        "noNewPrivileges": "no-new-privileges" in (hc.get("SecurityOpt") or [])
        or "no-new-privileges:true" in (hc.get("SecurityOpt") or []),
    }
    if ctx.user.additional_gids:
        process["user"]["additionalGids"] = list(ctx.user.additional_gids)
    if hc.get("ConsoleSize") and any(hc["ConsoleSize"]):
        h, w = hc["ConsoleSize"]
        process["consoleSize"] = {"height": int(h), "width": int(w)}
    rl = resources.rlimits(hc.get("Ulimits"))
    if rl:
        process["rlimits"] = rl
    if hc.get("OomScoreAdj"):
        process["oomScoreAdj"] = int(hc["OomScoreAdj"])

    mounts = _base_mounts(privileged, int(hc.get("ShmSize") or 64 * 1024 * 1024))
    user_dests = {m.destination for m in ctx.mounts}
    mounts = [m for m in mounts if m["destination"] not in user_dests]
    for dest, src in sorted(ctx.etc_files.items()):
        if dest not in user_dests:
            mounts.append({"destination": dest, "type": "bind", "source": src, "options": ["rbind", "rprivate"]})
    if hc.get("Init") and ctx.init_binary:
        mounts.append({"destination": INIT_PATH, "type": "bind", "source": ctx.init_binary,
                       "options": ["bind", "ro", "rprivate"]})
    mounts += [_oci_mount(m) for m in ctx.mounts]

    linux: dict = {
        "namespaces": _namespaces(hc, ctx),
        "resources": resources.linux_resources(hc),
        "cgroupsPath": ctx.cgroups_path,
    }
    if privileged:
        linux["devices"] = list(ctx.host_devices)
    elif ctx.devices:
        linux["devices"] = [{k: v for k, v in d.items() if k != "access"} for d in ctx.devices]
        for d in ctx.devices:
            linux["resources"]["devices"].append({"allow": True, "type": d["type"], "major": d["major"],
                                                  "minor": d["minor"], "access": d.get("access") or "rwm"})
    if not privileged:
        linux["maskedPaths"] = list(MASKED_PATHS)
        linux["readonlyPaths"] = list(READONLY_PATHS)
    if hc.get("Sysctls"):
        linux["sysctl"] = dict(hc["Sysctls"])

    spec = {
        "ociVersion": "1.2.0",
        "process": process,
        "root": {"path": ctx.rootfs, "readonly": bool(hc.get("ReadonlyRootfs"))},
        "hostname": cfg.get("Hostname") or ctx.id[:12],
        "mounts": mounts,
        "linux": linux,
        "annotations": {"org.skiff.container.id": ctx.id},
    }
    if hc.get("UTSMode") == "host":
        del spec["hostname"]
    elif cfg.get("Domainname"):
        spec["domainname"] = cfg["Domainname"]
    return spec


def exec_process(container_spec: dict, exec_cfg: dict, user: ResolvedUser | None) -> dict:
    """The OCI process for `docker exec`: the container's process settings with the exec's overrides."""
    base = container_spec.get("process", {})
    env = merge_env(base.get("env", []), exec_cfg.get("Env") or [])
    if exec_cfg.get("Tty") and not any(_env_key(e) == "TERM" for e in env):
        env.append("TERM=xterm")
    proc = {
        "terminal": bool(exec_cfg.get("Tty")),
        "user": dict(base.get("user", {"uid": 0, "gid": 0})),
        "args": list(exec_cfg.get("Cmd") or []),
        "env": env,
        "cwd": exec_cfg.get("WorkingDir") or base.get("cwd", "/"),
        "capabilities": copy.deepcopy(base.get("capabilities", {})),
        "noNewPrivileges": base.get("noNewPrivileges", False),
    }
    if user is not None:
        proc["user"] = {"uid": user.uid, "gid": user.gid}
        if user.additional_gids:
            proc["user"]["additionalGids"] = list(user.additional_gids)
    if exec_cfg.get("Privileged"):
        allcaps = list(capabilities.ALL_CAPS)
        proc["capabilities"] = {"bounding": allcaps, "effective": allcaps, "permitted": allcaps}
    if base.get("rlimits"):
        proc["rlimits"] = copy.deepcopy(base["rlimits"])
    return proc
