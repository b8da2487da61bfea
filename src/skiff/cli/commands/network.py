"""Network commands, parsed and forwarded (the engine's networks arrive with a later issue)."""

from __future__ import annotations

from skiff.cli.client import APIError
from skiff.cli.commands import Command, parse_filters, print_errors_exit, registry
from skiff.cli.commands.pruning import confirm, write_deleted
from skiff.cli.flags import UsageError

COMMANDS: dict[str, Command] = {}
command = registry(COMMANDS)

NETWORK_TITLES = {"ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE",
                  "IPv4": "IPV4", "IPv6": "IPV6", "Internal": "INTERNAL", "Labels": "LABELS", "CreatedAt": "CREATED AT"}


def go_time_string(rfc3339: str) -> str:
    """"2026-11-22T15:16:24.60Z" → Go's Time.String() form, "2026-11-22 15:16:24.6 +0000 UTC"."""
    import re

    m = re.match(r"^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?Z$", rfc3339 or "")
    if not m:
        return rfc3339
    frac = (m.group(3) or "").rstrip("0").rstrip(".")
    return f"{m.group(1)} {m.group(2)}{frac} +0000 UTC"


class NetworkRow:
    FIELDS = ("CreatedAt", "Driver", "ID", "IPv4", "IPv6", "Internal", "Labels", "Name", "Scope")

    def __init__(self, n: dict, trunc: bool):
        self.n = n
        self.ID = n.get("Id", "")[:12] if trunc else n.get("Id", "")
        self.Name, self.Driver, self.Scope = n.get("Name", ""), n.get("Driver", ""), n.get("Scope", "")
        self.IPv4 = str(bool(n.get("EnableIPv4"))).lower()
        self.IPv6 = str(bool(n.get("EnableIPv6"))).lower()
        self.Internal = str(bool(n.get("Internal"))).lower()
        self.Labels = ",".join(f"{k}={v}" for k, v in (n.get("Labels") or {}).items())
        self.CreatedAt = go_time_string(n.get("Created", ""))

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.FIELDS}


@command("ls", "[OPTIONS]", """
 -f --filter filter  Provide filter values (e.g. "driver=bridge")
    --format string  Format output using a custom template: 'table', 'table TEMPLATE', 'json', or 'TEMPLATE'
    --no-trunc bool  Do not truncate the output
 -q --quiet bool  Only display network IDs
""", max_args=0)
def ls(ctx, opts, args) -> int:
    from skiff.cli.formatter import render_list

    nets = ctx.client.get("/networks", {"filters": parse_filters(opts.filter) or None}) or []
    nets.sort(key=lambda n: n.get("Name", ""))
    fmt = "{{.ID}}" if opts.quiet else (opts.format if opts.format and opts.format != "table"
                                        else "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}")
    ctx.out.write(render_list(fmt, [NetworkRow(n, not opts.no_trunc) for n in nets], NETWORK_TITLES))
    return 0


@command("create", "[OPTIONS] NETWORK", """
    --attachable bool  Enable manual container attachment
    --aux-address list  Auxiliary IPv4 or IPv6 addresses used by Network driver (host=IP)
 -d --driver string=bridge  Driver to manage the Network
    --gateway list  IPv4 or IPv6 Gateway for the master subnet
    --internal bool  Restrict external access to the network
    --ip-range list  Allocate container ip from a sub-range
    --ipv6 bool  Enable or disable IPv6 networking
    --label list  Set metadata on a network
 -o --opt list  Set driver specific options
    --subnet list  Subnet in CIDR format that represents a network segment
""", min_args=1, max_args=1)
def create(ctx, opts, args) -> int:
    from skiff.cli.runopts import parse_key_values

    configs = []
    for i, subnet in enumerate(opts.subnet):
        cfg = {"Subnet": subnet}
        if i < len(opts.gateway):
            cfg["Gateway"] = opts.gateway[i]
        if i < len(opts.ip_range):
            cfg["IPRange"] = opts.ip_range[i]
        configs.append(cfg)
    if opts.aux_address:
        if not configs:
            raise UsageError("no matching subnet for aux-address")
        configs[0]["AuxiliaryAddresses"] = parse_key_values(opts.aux_address)
    body = {"Name": args[0], "Driver": opts.driver, "Internal": opts.internal, "Attachable": opts.attachable,
            "EnableIPv6": opts.ipv6, "Labels": parse_key_values(opts.label),
            "Options": parse_key_values(opts.opt), "IPAM": {"Driver": "default", "Config": configs}}
    result = ctx.client.post("/networks/create", body=body) or {}
    ctx.out.write(result.get("Id", "") + "\n")
    return 0


@command("inspect", "[OPTIONS] NETWORK [NETWORK...]", """
 -f --format string  Format output using a custom template
 -v --verbose bool  Verbose output for diagnostics
""", min_args=1)
def inspect(ctx, opts, args) -> int:
    from skiff.cli.commands.container_info import inspect_many

    return inspect_many(ctx, args, lambda n: ctx.client.get(f"/networks/{n}"), opts.format)


@command("rm", "[OPTIONS] NETWORK [NETWORK...]", """
 -f --force bool  Do not error if the network does not exist
""", min_args=1)
def rm(ctx, opts, args) -> int:
    errors = []
    for name in args:
        try:
            ctx.client.request("DELETE", f"/networks/{name}").json()
            ctx.out.write(name + "\n")
        except APIError as e:
            if not (opts.force and e.status == 404):
                errors.append(str(e))
    return print_errors_exit(ctx, errors)


@command("prune", "[OPTIONS]", """
    --filter filter  Provide filter values (e.g. "until=<timestamp>")
 -f --force bool  Do not prompt for confirmation
""", max_args=0)
def prune(ctx, opts, args) -> int:
    if not opts.force and not confirm(ctx, "WARNING! This will remove all custom networks not used by at least one container."):
        return 0
    result = ctx.client.post("/networks/prune", {"filters": parse_filters(opts.filter) or None}) or {}
    write_deleted(ctx, "Networks", result.get("NetworksDeleted"), blank_line=False)
    return 0


@command("connect", "[OPTIONS] NETWORK CONTAINER", """
    --alias list  Add network-scoped alias for the container
    --ip string  IPv4 address (e.g., "172.30.100.104")
    --ip6 string  IPv6 address (e.g., "2001:db8::33")
""", min_args=2, max_args=2)
def connect(ctx, opts, args) -> int:
    endpoint: dict = {"Aliases": opts.alias or None}
    if opts.ip or opts.ip6:
        endpoint["IPAMConfig"] = {"IPv4Address": opts.ip, "IPv6Address": opts.ip6}
    ctx.client.request("POST", f"/networks/{args[0]}/connect",
                       body={"Container": args[1], "EndpointConfig": endpoint}).json()
    return 0


@command("disconnect", "[OPTIONS] NETWORK CONTAINER", """
 -f --force bool  Force the container to disconnect from a network
""", min_args=2, max_args=2)
def disconnect(ctx, opts, args) -> int:
    ctx.client.request("POST", f"/networks/{args[0]}/disconnect",
                       body={"Container": args[1], "Force": opts.force}).json()
    return 0
