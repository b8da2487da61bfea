"""Docker's JSON views of a container record: inspect, the `ps` summary, and `ps` filters (pure)."""

from __future__ import annotations

import time

from skiff.common.durations import human_duration
from skiff.common.errors import InvalidArgument
from skiff.common.timefmt import parse_rfc3339
from skiff.engine.containers import health
from skiff.engine.containers.record import Container

LIST_FILTERS = {"id", "name", "label", "label!", "status", "exited", "ancestor", "before", "since", "volume",
                "network", "health", "is-task", "publish", "expose", "isolation"}
STATUSES = {"created", "restarting", "running", "removing", "paused", "exited", "dead"}


def status_text(c: Container, now: float | None = None) -> str:
    now = now or time.time()
    st = c.state
    if st.status == "running":
        return "Up " + human_duration(now - parse_rfc3339(st.started_at)) + health.ps_suffix(st.health)
    if st.status == "paused":
        return "Up " + human_duration(now - parse_rfc3339(st.started_at)) + " (Paused)"
    if st.status == "restarting":
        return f"Restarting ({st.exit_code}) {human_duration(now - parse_rfc3339(st.finished_at))} ago"
    if st.status == "removing":
        return "Removal In Progress"
    if st.status == "dead":
        return "Dead"
    if st.status == "exited" or c.has_been_started:
        if parse_rfc3339(st.finished_at) == 0:
            return ""
        return f"Exited ({st.exit_code}) {human_duration(now - parse_rfc3339(st.finished_at))} ago"
    return "Created"


def _network_name(c: Container) -> str:
    mode = c.network_mode
    return "bridge" if mode in ("default", "") else mode


def _endpoint() -> dict:
    return {"IPAMConfig": None, "Links": None, "Aliases": None, "MacAddress": "", "DriverOpts": None,
            "NetworkID": "", "EndpointID": "", "Gateway": "", "IPAddress": "", "IPPrefixLen": 0,
            "IPv6Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "DNSNames": None}


def networks(c: Container) -> dict:
    name = _network_name(c)
    if name.startswith("container:"):
        return {}
    return {name: _endpoint()}


def command_line(c: Container) -> str:
    parts = [c.path, *c.args]
    return " ".join(p for p in parts if p is not None)


def summary(c: Container, image_ref: str, size_rw: int | None = None, size_root: int | None = None,
            net: dict | None = None) -> dict:
    """`net`: NetworkSettings fields from the network service (None: no networking)."""
    created = int(parse_rfc3339(c.created))
    out = {
        "Id": c.id,
        "Names": ["/" + c.name],
        "Image": image_ref,
        "ImageID": c.image_id,
        "Command": command_line(c),
        "Created": created,
        "Ports": [],
        "Labels": dict(c.config.get("Labels") or {}),
        "State": c.state.status,
        "Status": status_text(c),
        "HostConfig": {"NetworkMode": c.host_config.get("NetworkMode") or "bridge"},
        "NetworkSettings": {"Networks": net["Networks"] if net is not None else networks(c)},
        "Mounts": [m.to_docker() for m in c.mounts if m.type != "tmpfs" or not _is_hc_tmpfs(c, m.destination)],
    }
    if size_rw is not None:
        out["SizeRw"] = size_rw
    if size_root is not None:
        out["SizeRootFs"] = size_root
    return out


def _is_hc_tmpfs(c: Container, dest: str) -> bool:
    return dest in (c.host_config.get("Tmpfs") or {})


def inspect(c: Container, paths: dict[str, str], graph: dict, size_rw: int | None = None,
            size_root: int | None = None, exec_ids: list[str] | None = None, net: dict | None = None) -> dict:
    """ContainerInspectResponse. `paths` has ResolvConfPath, HostnamePath, HostsPath, LogPath;
    `graph` is GraphDriver ({"Name": ..., "Data": {...}})."""
    out = {
        "Id": c.id,
        "Created": c.created,
        "Path": c.path,
        "Args": c.args,
        "State": c.state.to_docker(),
        "Image": c.image_id,
        "ResolvConfPath": paths.get("ResolvConfPath", ""),
        "HostnamePath": paths.get("HostnamePath", ""),
        "HostsPath": paths.get("HostsPath", ""),
        "LogPath": paths.get("LogPath", ""),
        "Name": "/" + c.name,
        "RestartCount": c.restart_count,
        "Driver": graph.get("Name", "overlay2"),
        "Platform": "linux",
        "MountLabel": "",
        "ProcessLabel": "",
        "AppArmorProfile": "",
        "ExecIDs": exec_ids or None,
        "HostConfig": c.host_config,
        "GraphDriver": graph,
        "Mounts": [m.to_docker() for m in c.mounts if not _is_hc_tmpfs(c, m.destination)],
        "Config": c.config,
        "NetworkSettings": {
            "Bridge": "", "SandboxID": "", "SandboxKey": "", "Ports": {}, "HairpinMode": False,
            "LinkLocalIPv6Address": "", "LinkLocalIPv6PrefixLen": 0, "SecondaryIPAddresses": None,
            "SecondaryIPv6Addresses": None, "EndpointID": "", "Gateway": "", "GlobalIPv6Address": "",
            "GlobalIPv6PrefixLen": 0, "IPAddress": "", "IPPrefixLen": 0, "IPv6Gateway": "", "MacAddress": "",
            "Networks": networks(c),
        },
    }
    if net is not None:
        out["NetworkSettings"].update(net)
    if size_rw is not None:
        out["SizeRw"] = size_rw
    if size_root is not None:
        out["SizeRootFs"] = size_root
    return out


def check_filters(filters: dict[str, list[str]]) -> None:
    for key in filters:
        if key not in LIST_FILTERS:
            raise InvalidArgument(f"invalid filter '{key}'")
    for v in filters.get("status", []):
        if v not in STATUSES:
            raise InvalidArgument(f"invalid filter 'status={v}'")
    health.check_filter(filters.get("health", []))


def _labels_match(labels: dict, values: list[str], negate: bool = False) -> bool:
    for v in values:
        k, sep, want = v.partition("=")
        hit = k in labels and (not sep or labels[k] == want)
        if hit == negate:
            return False
    return True


def matches(c: Container, filters: dict[str, list[str]], image_matches, created_before: float | None,
            created_after: float | None) -> bool:
    """One container against `ps --filter` values (OR within a key, AND across keys)."""
    f = filters
    if f.get("id") and not any(c.id.startswith(v) for v in f["id"]):
        return False
    if f.get("name") and not any(v.lstrip("/") in c.name for v in f["name"]):
        return False
    if f.get("label") and not _labels_match(c.config.get("Labels") or {}, f["label"]):
        return False
    if f.get("label!") and not _labels_match(c.config.get("Labels") or {}, f["label!"], negate=True):
        return False
    if f.get("status") and c.state.status not in f["status"]:
        return False
    if f.get("exited"):
        if c.state.status != "exited" or str(c.state.exit_code) not in f["exited"]:
            return False
    if f.get("health") and health.status_of(c.state.health) not in f["health"]:
        return False
    if f.get("ancestor") and not any(image_matches(v, c) for v in f["ancestor"]):
        return False
    created = parse_rfc3339(c.created)
    if created_before is not None and created >= created_before:
        return False
    if created_after is not None and created <= created_after:
        return False
    if f.get("volume"):
        names = {m.name for m in c.mounts} | {m.destination for m in c.mounts} | {m.source for m in c.mounts}
        if not any(v in names for v in f["volume"]):
            return False
    if f.get("network"):
        nets = set(networks(c)) | {c.network_mode} | set((c.networking_config or {}).get("EndpointsConfig") or {})
        if not any(v in nets for v in f["network"]):
            return False
    return True
