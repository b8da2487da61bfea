"""System commands: version, info, events, system df/prune, and generic inspect (login/logout: registries.py)."""

from __future__ import annotations

import os
import sys

from skiff.cli.client import APIError, ConnectError
from skiff.cli.commands import Command, parse_filters, registry, since_until
from skiff.cli.commands.pruning import confirm, write_deleted, write_reclaimed
from skiff.cli.flags import UsageError

COMMANDS: dict[str, Command] = {}
command = registry(COMMANDS)


def client_version() -> str:
    from skiff import __version__

    return __version__


def _arch() -> str:
    machine = os.uname().machine
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


class _Obj(dict):
    """A dict whose keys are also attributes, so templates and JSON see the same shape."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


@command("version", "[OPTIONS]", """
 -f --format string  Format output using a custom template
""", max_args=0)
def version(ctx, opts, args) -> int:
    client = ctx.client
    error = None
    server = None
    try:
        client.negotiate()
        server = client.get("/version")
    except (APIError, ConnectError) as e:
        error = e
    api = client.version or "1.45"
    info = _Obj(Client=_Obj(Version=client_version(), ApiVersion=api, DefaultAPIVersion="1.45",
                            PythonVersion=sys.version.split()[0], Os=sys.platform, Arch=_arch(),
                            Context="default"),
                Server=_Obj(server) if server else None)
    if opts.format == "json":
        from skiff.cli.gotemplate import go_json

        ctx.out.write(go_json(info) + "\n")
    elif opts.format:
        from skiff.cli.gotemplate import Template

        ctx.out.write(Template(opts.format).execute(info) + "\n")
    else:
        c = info["Client"]
        lines = ["Client:", f" Version:           {c['Version']}", f" API version:       {api}",
                 f" Python version:    {c['PythonVersion']}", f" OS/Arch:           linux/{c['Arch']}",
                 f" Context:           {c['Context']}"]
        if server:
            lines += ["", f"Server: {server.get('Platform', {}).get('Name', '')}".rstrip(), " Engine:",
                      f"  Version:          {server.get('Version', '')}",
                      f"  API version:      {server.get('ApiVersion', '')} (minimum version {server.get('MinAPIVersion', '')})",
                      f"  Go version:       {server.get('GoVersion', '')}",
                      f"  Git commit:       {server.get('GitCommit', '')}",
                      f"  Built:            {server.get('BuildTime', '')}",
                      f"  OS/Arch:          {server.get('Os', '')}/{server.get('Arch', '')}",
                      f"  Experimental:     {str(server.get('Experimental', False)).lower()}"]
            for comp in server.get("Components") or []:
                if comp.get("Name") in ("Engine", None):
                    continue
                lines += [f" {comp['Name']}:", f"  Version:          {comp.get('Version', '')}"]
        ctx.out.write("\n".join(lines) + "\n")
    if error:
        ctx.err.write(f"{error}\n")
        return 1
    return 0


@command("info", "[OPTIONS]", """
 -f --format string  Format output using a custom template
""", max_args=0)
def info(ctx, opts, args) -> int:
    data = ctx.client.get("/info") or {}
    if opts.format:
        from skiff.cli.gotemplate import Template

        if opts.format == "json":
            from skiff.cli.gotemplate import go_json

            ctx.out.write(go_json(data) + "\n")
        else:
            ctx.out.write(Template(opts.format).execute(data) + "\n")
        return 0
    from skiff.cli.humanize import bytes_size

    lines = ["Client:", f" Version:    {client_version()}", " Context:    default", "",
             "Server:",
             f" Containers: {data.get('Containers', 0)}",
             f"  Running: {data.get('ContainersRunning', 0)}",
             f"  Paused: {data.get('ContainersPaused', 0)}",
             f"  Stopped: {data.get('ContainersStopped', 0)}",
             f" Images: {data.get('Images', 0)}",
             f" Server Version: {data.get('ServerVersion', '')}",
             f" Storage Driver: {data.get('Driver', '')}"]
    for k, v in data.get("DriverStatus") or []:
        lines.append(f"  {k}: {v}")
    lines += [f" Logging Driver: {data.get('LoggingDriver', '')}",
              f" Cgroup Driver: {data.get('CgroupDriver', '')}",
              f" Cgroup Version: {data.get('CgroupVersion', '')}",
              f" Kernel Version: {data.get('KernelVersion', '')}",
              f" Operating System: {data.get('OperatingSystem', '')}",
              f" OSType: {data.get('OSType', '')}",
              f" Architecture: {data.get('Architecture', '')}",
              f" CPUs: {data.get('NCPU', 0)}",
              f" Total Memory: {bytes_size(data.get('MemTotal', 0))}",
              f" Name: {data.get('Name', '')}",
              f" ID: {data.get('ID', '')}",
              f" Docker Root Dir: {data.get('DockerRootDir', '')}",
              f" Debug Mode: {str(data.get('Debug', False)).lower()}"]
    ctx.out.write("\n".join(lines) + "\n")
    for w in data.get("Warnings") or []:
        ctx.err.write(w + "\n")
    return 0


def format_event(event: dict) -> str:
    """Docker's default event line: local RFC 3339 time, type, action, actor id, (attributes)."""
    import time

    nano = event.get("timeNano") or int(event.get("time", 0)) * 1_000_000_000
    secs, frac = divmod(nano, 1_000_000_000)
    t = time.localtime(secs)
    offset = time.strftime("%z", t)
    zone = "Z" if offset in ("+0000", "-0000") else f"{offset[:3]}:{offset[3:]}"
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", t) + f".{frac:09d}{zone}"
    actor = event.get("Actor") or {}
    attrs = actor.get("Attributes") or {}
    text = f"{stamp} {event.get('Type', '')} {event.get('Action', '')} {actor.get('ID', '')}"
    if attrs:
        text += " (" + ", ".join(f"{k}={attrs[k]}" for k in sorted(attrs)) + ")"
    return text


@command("events", "[OPTIONS]", """
 -f --filter filter  Filter output based on conditions provided
    --format string  Format output using a custom template: 'json' or 'TEMPLATE'
    --since string  Show all events created since timestamp
    --until string  Stream events until this timestamp
""", max_args=0)
def events(ctx, opts, args) -> int:
    from skiff.cli.gotemplate import Template, go_json

    params: dict = {"filters": parse_filters(opts.filter) or None, **since_until(opts)}
    tmpl = Template(opts.format.replace("\\t", "\t")) if opts.format and opts.format != "json" else None
    resp = ctx.client.request("GET", "/events", params)
    try:
        for event in resp.body.json_stream():
            if opts.format == "json":
                line = go_json(event)
            elif tmpl:
                line = tmpl.execute(event)
            else:
                line = format_event(event)
            ctx.out.write(line + "\n")
            ctx.out.flush()
    finally:
        resp.close()
    return 0


@command("df", "[OPTIONS]", """
    --format string  Format output using a custom template
 -v --verbose bool  Show detailed information on space usage
""", max_args=0)
def df(ctx, opts, args) -> int:
    from skiff.cli.formatter import render_list
    from skiff.cli.humanize import human_size

    data = ctx.client.get("/system/df") or {}
    if opts.verbose and not opts.format:
        from skiff.cli.dfformat import verbose_report

        ctx.out.write(verbose_report(data))
        return 0
    images = data.get("Images") or []
    containers = data.get("Containers") or []
    volumes = data.get("Volumes") or []
    layers = data.get("LayersSize", 0)
    active_images = sum(1 for i in images if i.get("Containers", 0) > 0)
    used = sum(i.get("Size", 0) - max(i.get("SharedSize", 0), 0) for i in images if i.get("Containers", 0) > 0)
    rows = []

    def row(kind, total, active, size, reclaim, base):
        pct = f" ({int(reclaim * 100 / base)}%)" if base else ""
        rows.append(_Obj(Type=kind, TotalCount=str(total), Active=str(active), Size=human_size(size),
                         Reclaimable=human_size(reclaim) + pct))

    row("Images", len(images), active_images, layers, max(layers - used, 0), layers)
    csize = sum(c.get("SizeRw", 0) or 0 for c in containers)
    creclaim = sum(c.get("SizeRw", 0) or 0 for c in containers if c.get("State") != "running")
    row("Containers", len(containers), sum(1 for c in containers if c.get("State") == "running"),
        csize, creclaim, csize)
    vsize = sum(max((v.get("UsageData") or {}).get("Size", 0), 0) for v in volumes)
    vreclaim = sum(max((v.get("UsageData") or {}).get("Size", 0), 0) for v in volumes
                   if (v.get("UsageData") or {}).get("RefCount", 0) == 0)
    row("Local Volumes", len(volumes), sum(1 for v in volumes if (v.get("UsageData") or {}).get("RefCount", 0) > 0),
        vsize, vreclaim, vsize)
    cache = data.get("BuildCache") or []
    csz = sum(b.get("Size", 0) for b in cache)
    row("Build Cache", len(cache), sum(1 for b in cache if b.get("InUse")), csz,
        sum(b.get("Size", 0) for b in cache if not b.get("InUse")), 0)
    fmt = opts.format or "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"
    titles = {"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE", "Reclaimable": "RECLAIMABLE"}
    ctx.out.write(render_list(fmt, rows, titles))
    return 0


@command("prune", "[OPTIONS]", """
 -a --all bool  Remove all unused images not just dangling ones
    --filter filter  Provide filter values (e.g. "label=<key>=<value>")
 -f --force bool  Do not prompt for confirmation
    --volumes bool  Prune anonymous volumes
""", max_args=0)
def prune(ctx, opts, args) -> int:
    items = ["all stopped containers", "all networks not used by at least one container"]
    if opts.volumes:
        items.append("all anonymous volumes not used by at least one container")
    items.append("all images without at least one container associated to them" if opts.all
                 else "all dangling images")
    warning = "WARNING! This will remove:\n" + "".join(f"  - {i}\n" for i in items)
    if not opts.force and not confirm(ctx, warning.rstrip("\n")):
        return 0
    client = ctx.client
    filters = parse_filters(opts.filter)
    total = 0
    result = client.post("/containers/prune", {"filters": filters or None}) or {}
    total += result.get("SpaceReclaimed") or 0
    write_deleted(ctx, "Containers", result.get("ContainersDeleted"))
    try:
        nets = client.post("/networks/prune", {"filters": filters or None}) or {}
        write_deleted(ctx, "Networks", nets.get("NetworksDeleted"))
    except APIError:
        pass  # no networks on engines without them
    if opts.volumes:
        vols = client.post("/volumes/prune", {"filters": filters or None}) or {}
        total += vols.get("SpaceReclaimed") or 0
        write_deleted(ctx, "Volumes", vols.get("VolumesDeleted"))
    img_filters = dict(filters, dangling=["false" if opts.all else "true"])
    imgs = client.post("/images/prune", {"filters": img_filters}) or {}
    total += imgs.get("SpaceReclaimed") or 0
    if imgs.get("ImagesDeleted"):
        ctx.out.write("Deleted Images:\n")
        for item in imgs["ImagesDeleted"]:
            for key in ("Untagged", "Deleted"):
                if item.get(key):
                    ctx.out.write(f"{key.lower()}: {item[key]}\n")
        ctx.out.write("\n")
    write_reclaimed(ctx, total)
    return 0


@command("inspect", "[OPTIONS] NAME|ID [NAME|ID...]", """
 -f --format string  Format output using a custom template
 -s --size bool  Display total file sizes if the type is container
    --type string  Only inspect objects of the given type
""", min_args=1)
def inspect(ctx, opts, args) -> int:
    from skiff.cli.commands.container_info import inspect_many

    kinds = {"container": "/containers/{}/json", "image": "/images/{}/json", "volume": "/volumes/{}",
             "network": "/networks/{}"}
    if opts.type and opts.type not in kinds:
        raise UsageError(f'unknown type: "{opts.type}": must be one of "config", "container", "image", '
                         f'"network", "node", "plugin", "secret", "service", "task", "volume"', 1)
    order = [opts.type] if opts.type else ["container", "image", "network", "volume"]

    def fetch(name: str):
        for kind in order:
            try:
                params = {"size": 1} if kind == "container" and opts.size else None
                return ctx.client.get(kinds[kind].format(name), params)
            except APIError as e:
                if e.status != 404:
                    raise
        raise APIError(404, f"No such object: {name}")

    return inspect_many(ctx, args, fetch, opts.format,
                        not_found="No such " + (opts.type or "object"))
