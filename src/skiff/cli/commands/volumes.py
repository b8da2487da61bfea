"""Volume commands: create, ls, inspect, rm, prune."""

from __future__ import annotations

from skiff.cli.client import APIError
from skiff.cli.commands import Command, parse_filters, print_errors_exit, registry
from skiff.cli.commands.pruning import confirm, write_deleted, write_reclaimed
from skiff.cli.flags import UsageError

COMMANDS: dict[str, Command] = {}
command = registry(COMMANDS)

VOLUME_TITLES = {"Driver": "DRIVER", "Name": "VOLUME NAME", "Mountpoint": "MOUNTPOINT", "Scope": "SCOPE",
                 "Labels": "LABELS", "Links": "LINKS", "Size": "SIZE"}


class VolumeRow:
    FIELDS = ("Availability", "Driver", "Group", "Labels", "Links", "Mountpoint", "Name", "Scope", "Size",
              "Status")

    def __init__(self, v: dict):
        self.v = v

    def __getattr__(self, name: str):
        if name == "Labels":
            return ",".join(f"{k}={val}" for k, val in (self.v.get("Labels") or {}).items())
        if name in ("Links", "Size"):
            usage = self.v.get("UsageData") or {}
            value = usage.get("RefCount" if name == "Links" else "Size", -1)
            if value is None or value < 0:
                return "N/A"
            if name == "Size":
                from skiff.cli.humanize import human_size

                return human_size(value, 3)
            return str(value)
        if name in ("Availability", "Group", "Status"):
            return "N/A" if name != "Status" else self.v.get("Status") or "N/A"
        if name in VOLUME_TITLES:
            return self.v.get(name, "")
        raise AttributeError(name)

    def Label(self, key: str) -> str:
        return (self.v.get("Labels") or {}).get(key, "")

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.FIELDS}


@command("create", "[OPTIONS] [VOLUME]", """
 -d --driver string=local  Specify volume driver name
    --label list  Set metadata for a volume
    --name string!  Specify volume name
 -o --opt list  Set driver specific options
""", max_args=1)
def create(ctx, opts, args) -> int:
    from skiff.cli.runopts import parse_key_values

    if args and opts.name and args[0] != opts.name:
        raise UsageError("conflicting options: cannot specify a volume-name through both --name and as a "
                         "positional arg", 1)
    name = args[0] if args else opts.name
    driver_opts = {}
    for o in opts.opt:
        k, eq, v = o.partition("=")
        if not eq:
            raise UsageError(f'invalid argument "{o}" for "-o, --opt" flag: invalid key value pair format in driver options', 125)
        driver_opts[k] = v
    body = {"Name": name, "Driver": opts.driver, "DriverOpts": driver_opts, "Labels": parse_key_values(opts.label)}
    result = ctx.client.post("/volumes/create", body=body) or {}
    ctx.out.write(result.get("Name", name) + "\n")
    return 0


@command("ls", "[OPTIONS]", """
    --cluster bool!  Display only cluster volumes, and use cluster volume list formatting
 -f --filter filter  Provide filter values (e.g. "dangling=true")
    --format string  Format output using a custom template: 'table', 'table TEMPLATE', 'json', or 'TEMPLATE'
 -q --quiet bool  Only display volume names
""", max_args=0)
def ls(ctx, opts, args) -> int:
    from skiff.cli.formatter import render_list

    filters = parse_filters(opts.filter)
    result = ctx.client.get("/volumes", {"filters": filters or None}) or {}
    volumes = sorted(result.get("Volumes") or [], key=lambda v: v.get("Name", ""))
    for w in result.get("Warnings") or []:
        ctx.err.write(w + "\n")
    fmt = "{{.Name}}" if opts.quiet else (opts.format if opts.format and opts.format != "table"
                                          else "table {{.Driver}}\t{{.Name}}")
    ctx.out.write(render_list(fmt, [VolumeRow(v) for v in volumes], VOLUME_TITLES))
    return 0


@command("inspect", "[OPTIONS] VOLUME [VOLUME...]", """
 -f --format string  Format output using a custom template
""", min_args=1)
def inspect(ctx, opts, args) -> int:
    from skiff.cli.commands.container_info import inspect_many

    return inspect_many(ctx, args, lambda n: ctx.client.get(f"/volumes/{n}"), opts.format)


@command("rm", "[OPTIONS] VOLUME [VOLUME...]", """
 -f --force bool  Force the removal of one or more volumes
""", min_args=1)
def rm(ctx, opts, args) -> int:
    errors = []
    for name in args:
        try:
            ctx.client.request("DELETE", f"/volumes/{name}", {"force": opts.force or None}).json()
            ctx.out.write(name + "\n")
        except APIError as e:
            errors.append(str(e))
    return print_errors_exit(ctx, errors)


@command("prune", "[OPTIONS]", """
 -a --all bool  Remove all unused volumes, not just anonymous ones
    --filter filter  Provide filter values (e.g. "label=<label>")
 -f --force bool  Do not prompt for confirmation
""", max_args=0)
def prune(ctx, opts, args) -> int:
    warning = ("WARNING! This will remove all local volumes not used by at least one container." if opts.all
               else "WARNING! This will remove anonymous local volumes not used by at least one container.")
    if not opts.force and not confirm(ctx, warning):
        return 0
    filters = parse_filters(opts.filter)
    if opts.all:
        filters["all"] = ["true"]
    result = ctx.client.post("/volumes/prune", {"filters": filters or None}) or {}
    write_deleted(ctx, "Volumes", result.get("VolumesDeleted"))
    write_reclaimed(ctx, result.get("SpaceReclaimed"))
    return 0
