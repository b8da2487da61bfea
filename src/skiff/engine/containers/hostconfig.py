"""HostConfig defaults and the small parsers create and start need. Pure."""

from __future__ import annotations

from skiff.common.errors import InvalidArgument


def parse_size(s: str) -> int:
    """`10m`, `1k`, `2g`, `512` → bytes (json-file's max-size)."""
    s = s.strip().lower().rstrip("b")
    mult = {"k": 1024, "m": 1024**2, "g": 1024**3}.get(s[-1:] or "", 1)
    num = s[:-1] if s[-1:] in ("k", "m", "g") else s
    try:
        return int(float(num) * mult)
    except ValueError:
        raise InvalidArgument(f"invalid value for max-size: {s}") from None


def cgroups_path(hc: dict, prefix: str, cid: str) -> str:
    """`/<prefix>/<id>`, or `<CgroupParent>/<id>` when --cgroup-parent is given (cgroupfs style)."""
    parent = (hc.get("CgroupParent") or "").strip("/")
    return f"/{parent or prefix}/{cid}"


def normalize_host_config(hc: dict) -> dict:
    hc = dict(hc or {})
    mode = hc.get("NetworkMode") or "default"
    hc["NetworkMode"] = "bridge" if mode == "default" else mode
    rp = hc.get("RestartPolicy") or {}
    hc["RestartPolicy"] = {"Name": rp.get("Name") or "no", "MaximumRetryCount": int(rp.get("MaximumRetryCount") or 0)}
    lc = hc.get("LogConfig") or {}
    hc["LogConfig"] = {"Type": lc.get("Type") or "json-file", "Config": dict(lc.get("Config") or {})}
    if hc["LogConfig"]["Type"] not in ("json-file", "local", "none"):
        raise InvalidArgument(f'failed to create task for container: logger: no log driver named '
                              f'\'{hc["LogConfig"]["Type"]}\' is registered')
    for key in ("Privileged", "ReadonlyRootfs", "AutoRemove", "PublishAllPorts", "Init"):
        if key != "Init":
            hc[key] = bool(hc.get(key))
    for key in ("CpuShares", "Memory", "NanoCpus", "CpuPeriod", "CpuQuota", "MemoryReservation", "MemorySwap",
                "ShmSize"):
        hc.setdefault(key, 0)
    hc.setdefault("Binds", None)
    hc.setdefault("CgroupnsMode", "host")
    hc.setdefault("IpcMode", "private")
    hc.setdefault("PidMode", "")
    hc.setdefault("UTSMode", "")
    hc.setdefault("ConsoleSize", [0, 0])
    hc.setdefault("PortBindings", {})
    return hc
