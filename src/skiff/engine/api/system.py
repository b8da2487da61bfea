"""System routes: /_ping, /version, /info, /system/df, /events."""

from __future__ import annotations

import asyncio
import functools
import os
import platform
import time

from aiohttp import web

import skiff
from skiff.common.timefmt import now_rfc3339
from skiff.engine.api.context import ctx
from skiff.engine.api.versions import API_VERSION, MIN_API_VERSION
from skiff.engine.api.wire import json_line, json_response, open_stream, parse_filters, parse_timestamp
from skiff.engine.events import matches

SERVER = f"skiff/{getattr(skiff, '__version__', '0.1.0')} (linux)"
PING_HEADERS = {
    "API-Version": API_VERSION,
    "Docker-Experimental": "false",
    "OSType": "linux",
    "Builder-Version": "1",
    "Server": SERVER,
    "Cache-Control": "no-cache, no-store, must-revalidate",
    "Pragma": "no-cache",
}
ENGINE_VERSION = SERVER.split("/")[1].split(" ")[0]


async def ping(request: web.Request) -> web.Response:
    if request.method == "HEAD":
        return web.Response(headers={**PING_HEADERS, "Content-Type": "text/plain; charset=utf-8",
                                     "Content-Length": "0"})
    return web.Response(text="OK", headers=PING_HEADERS)


def _kernel() -> str:
    return platform.release()


def _go_arch() -> str:
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())


@functools.cache
def _version_body() -> dict:
    details = {"ApiVersion": API_VERSION, "MinAPIVersion": MIN_API_VERSION, "Os": "linux",
               "Arch": _go_arch(), "KernelVersion": _kernel(), "GitCommit": "", "GoVersion": "",
               "Experimental": "false", "BuildTime": "", "PythonVersion": platform.python_version()}
    return {
        "Platform": {"Name": "skiff Engine"},
        "Components": [{"Name": "Engine", "Version": ENGINE_VERSION, "Details": details}],
        "Version": ENGINE_VERSION,
        "ApiVersion": API_VERSION,
        "MinAPIVersion": MIN_API_VERSION,
        "GitCommit": "",
        "GoVersion": "",
        "Os": "linux",
        "Arch": _go_arch(),
        "KernelVersion": _kernel(),
        "BuildTime": "",
    }


async def version(request: web.Request) -> web.Response:
    return json_response(_version_body())


@functools.cache
def _os_name() -> str:
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "Linux"


@functools.cache
def _mem_total() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _cgroup_version() -> str:
    return "2" if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else "1"


async def info(request: web.Request) -> web.Response:
    c = ctx(request)
    containers = await c.containers.list(all=True)
    states = [x.get("State", "") for x in containers]
    images = c.images.list()
    return json_response({
        "ID": c.engine_id,
        "Containers": len(containers),
        "ContainersRunning": states.count("running"),
        "ContainersPaused": states.count("paused"),
        "ContainersStopped": len(states) - states.count("running") - states.count("paused"),
        "Images": len(images),
        "Driver": "overlay2",
        "DriverStatus": [["Backing Filesystem", "extfs"], ["Supports d_type", "true"]],
        "Plugins": {"Volume": ["local"], "Network": ["host", "null"], "Authorization": None,
                    "Log": ["json-file"]},
        "MemoryLimit": True, "SwapLimit": True, "CpuCfsPeriod": True, "CpuCfsQuota": True,
        "CPUShares": True, "CPUSet": True, "PidsLimit": True, "IPv4Forwarding": True,
        "Debug": c.debug, "NFd": len(os.listdir("/proc/self/fd")), "OomKillDisable": False,
        "NGoroutines": len(asyncio.all_tasks()), "SystemTime": now_rfc3339(),
        "LoggingDriver": "json-file", "CgroupDriver": "cgroupfs", "CgroupVersion": _cgroup_version(),
        "NEventsListener": 0, "KernelVersion": _kernel(), "OperatingSystem": _os_name(),
        "OSVersion": "", "OSType": "linux", "Architecture": platform.machine(),
        "IndexServerAddress": "https://index.docker.io/v1/",
        "RegistryConfig": {"IndexConfigs": {}, "InsecureRegistryCIDRs": ["127.0.0.0/8"], "Mirrors": []},
        "NCPU": os.cpu_count() or 1, "MemTotal": _mem_total(), "DockerRootDir": c.data_root,
        "HttpProxy": "", "HttpsProxy": "", "NoProxy": "", "Name": platform.node(), "Labels": [],
        "ExperimentalBuild": False, "ServerVersion": ENGINE_VERSION,
        "Runtimes": {"skiff": {"path": "skiff runtime"}}, "DefaultRuntime": "skiff",
        "Swarm": {"NodeID": "", "NodeAddr": "", "LocalNodeState": "inactive", "ControlAvailable": False,
                  "Error": "", "RemoteManagers": None},
        "LiveRestoreEnabled": True, "Isolation": "", "InitBinary": "", "SecurityOptions": [],
        "Warnings": [],
        "ContainerdCommit": {"ID": ""}, "RuncCommit": {"ID": ""}, "InitCommit": {"ID": ""},
    })


async def system_df(request: web.Request) -> web.Response:
    c = ctx(request)
    containers = await c.containers.list(all=True, size=True)
    images = c.images.list()
    volumes = (await c.volumes.list()).get("Volumes") or []
    return json_response({
        "LayersSize": sum(int(i.get("Size", 0)) for i in images),
        "Images": images,
        "Containers": containers,
        "Volumes": volumes,
        "BuildCache": [],
    })


async def events(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    filters = parse_filters(request.query.get("filters"))
    since = parse_timestamp(request.query.get("since"))
    until = parse_timestamp(request.query.get("until"))
    since_ns = int(since * 1e9) if since is not None else None
    until_ns = int(until * 1e9) if until is not None else None
    if until_ns is not None and until_ns < time.time_ns() and since_ns is None:
        since_ns = 0  # a window entirely in the past: the history answers it
    resp = await open_stream(request)
    async for ev in c.events.subscribe(since_ns, until_ns):
        if matches(ev, filters):
            await resp.write(json_line(ev.to_docker()))
    await resp.write_eof()
    return resp


ROUTES = [
    ("GET", "/_ping", ping),
    ("HEAD", "/_ping", ping),
    ("GET", "/version", version),
    ("GET", "/info", info),
    ("GET", "/system/df", system_df),
    ("GET", "/events", events),
]
