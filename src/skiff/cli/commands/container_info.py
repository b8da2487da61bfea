"""Read-only container commands: ps, inspect, logs, top, stats, diff, port."""

from __future__ import annotations

from skiff.cli.client import APIError
from skiff.cli.commands import Command, parse_filters, registry, since_until

COMMANDS: dict[str, Command] = {}
command = registry(COMMANDS)

FORMAT_HELP = "Format output using a custom template: 'table', 'table TEMPLATE', 'json', or 'TEMPLATE'"


@command("ls", "[OPTIONS]", f"""
 -a --all bool  Show all containers (default shows just running)
 -f --filter filter  Filter output based on conditions provided
    --format string  {FORMAT_HELP}
 -n --last int=-1  Show n last created containers (includes all states)
 -l --latest bool  Show the latest created container (includes all states)
    --no-trunc bool  Don't truncate output
 -q --quiet bool  Only display container IDs
 -s --size bool  Display total file sizes
""", max_args=0)
def ls(ctx, opts, args) -> int:
    from skiff.cli.formatter import render_list
    from skiff.cli.psformat import PS_TITLES, PsRow, default_ps_format

    params: dict = {"all": opts.all or opts.latest or opts.last > 0 or None}
    limit = 1 if opts.latest else opts.last
    if limit > 0:
        params["limit"] = limit
    if opts.size:
        params["size"] = 1
    filters = parse_filters(opts.filter)
    if filters:
        params["filters"] = filters
    containers = ctx.client.get("/containers/json", params) or []
    fmt = opts.format
    if opts.quiet:
        fmt = "{{.ID}}"
    elif not fmt or fmt == "table":
        fmt = default_ps_format(opts.size)
    rows = [PsRow(c, trunc=not opts.no_trunc) for c in containers]
    ctx.out.write(render_list(fmt, rows, PS_TITLES))
    return 0


def inspect_many(ctx, names: list[str], fetch, fmt: str, not_found: str | None = None) -> int:
    """Docker's inspect output: a JSON array (4-space indent) or one template line per object."""
    import json

    from skiff.cli.gotemplate import Template, TemplateError

    found, errors = [], []
    for name in names:
        try:
            found.append(fetch(name))
        except APIError as e:
            if e.status == 404 and not_found:
                errors.append(f"Error: {not_found}: {name}")
            else:
                errors.append(str(e))
    if fmt == "json":
        from skiff.cli.gotemplate import go_json

        ctx.out.write(go_json(found) + "\n")
    elif fmt:
        try:
            tmpl = Template(fmt.replace("\\t", "\t").replace("\\n", "\n"))
            for obj in found:
                ctx.out.write(tmpl.execute(obj) + "\n")
        except TemplateError as exc:
            ctx.err.write(f"template parsing error: {exc}\n")
            return 1
    else:
        ctx.out.write(json.dumps(found, indent=4, ensure_ascii=False) + "\n")
    for message in errors:
        ctx.err.write(message + "\n")
    return 1 if errors else 0


@command("inspect", "[OPTIONS] CONTAINER [CONTAINER...]", """
 -f --format string  Format output using a custom template
 -s --size bool  Display total file sizes
""", min_args=1)
def inspect(ctx, opts, args) -> int:
    params = {"size": 1} if opts.size else None
    return inspect_many(ctx, args, lambda n: ctx.client.get(f"/containers/{n}/json", params), opts.format)


@command("logs", "[OPTIONS] CONTAINER", """
    --details bool  Show extra details provided to logs
 -f --follow bool  Follow log output
    --since string  Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)
 -n --tail string=all  Number of lines to show from the end of the logs
 -t --timestamps bool  Show timestamps
    --until string  Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)
""", min_args=1, max_args=1)
def logs(ctx, opts, args) -> int:
    from skiff.cli.client import demux

    client = ctx.client
    info = client.get(f"/containers/{args[0]}/json")
    params: dict = {"stdout": 1, "stderr": 1, "follow": opts.follow or None, "tail": opts.tail,
                    "timestamps": opts.timestamps or None, "details": opts.details or None, **since_until(opts)}
    resp = client.request("GET", f"/containers/{info['Id']}/logs", params)
    out, err = ctx.out.buffer, ctx.err.buffer
    try:
        if info["Config"].get("Tty"):
            while data := resp.body.read_some():
                out.write(data)
                out.flush()
        else:
            for stream, data in demux(resp.body):
                target = err if stream == 2 else out
                target.write(data)
                target.flush()
    finally:
        resp.close()
    return 0


@command("top", "CONTAINER [ps OPTIONS]", min_args=1, interspersed=False)
def top(ctx, opts, args) -> int:
    from skiff.cli.formatter import tabwrite

    params = {"ps_args": " ".join(args[1:])} if len(args) > 1 else None
    result = ctx.client.get(f"/containers/{args[0]}/top", params) or {}
    lines = ["\t".join(result.get("Titles") or [])]
    lines += ["\t".join(p) for p in result.get("Processes") or []]
    ctx.out.write(tabwrite(lines, minwidth=20) + "\n")
    return 0


@command("diff", "CONTAINER", min_args=1, max_args=1)
def diff(ctx, opts, args) -> int:
    kinds = {0: "C", 1: "A", 2: "D"}
    for change in ctx.client.get(f"/containers/{args[0]}/changes") or []:
        ctx.out.write(f"{kinds.get(change.get('Kind'), '?')} {change.get('Path')}\n")
    return 0


def port_lines(ports: dict, wanted: str | None) -> list[str]:
    """`port` output from NetworkSettings.Ports; with a port asked for, just its host addresses."""
    if wanted:
        key = wanted if "/" in wanted else wanted + "/tcp"
        out = []
        for b in ports.get(key) or []:
            out.append(_host_addr(b))
        return out
    lines = []
    for key in sorted(ports, key=lambda k: (int(k.split("/")[0]), k)):
        for b in ports[key] or []:
            lines.append(f"{key} -> {_host_addr(b)}")
    return lines


def _host_addr(binding: dict) -> str:
    ip = binding.get("HostIp") or "0.0.0.0"
    return f"[{ip}]:{binding.get('HostPort')}" if ":" in ip else f"{ip}:{binding.get('HostPort')}"


@command("port", "CONTAINER [PRIVATE_PORT[/PROTO]]", min_args=1, max_args=2)
def port(ctx, opts, args) -> int:
    info = ctx.client.get(f"/containers/{args[0]}/json")
    ports = (info.get("NetworkSettings") or {}).get("Ports") or {}
    wanted = args[1] if len(args) > 1 else None
    lines = port_lines(ports, wanted)
    if wanted and not lines:
        ctx.err.write(f"Error: No public port '{wanted}' published for {args[0]}\n")
        return 1
    ctx.out.write("".join(line + "\n" for line in lines))
    return 0


@command("stats", "[OPTIONS] [CONTAINER...]", f"""
 -a --all bool  Show all containers (default shows just running)
    --format string  {FORMAT_HELP}
    --no-stream bool  Disable streaming stats and only pull the first result
    --no-trunc bool  Do not truncate output
""")
def stats(ctx, opts, args) -> int:
    import time

    from skiff.cli.formatter import render_list
    from skiff.cli.statsformat import STATS_FORMAT, STATS_TITLES, StatsRow

    client = ctx.client
    names = args or [c["Id"] for c in client.get("/containers/json", {"all": opts.all or None}) or []]
    fmt = opts.format if opts.format and opts.format != "table" else STATS_FORMAT
    while True:
        rows, errors = [], []
        for name in names:
            try:
                data = client.get(f"/containers/{name}/stats", {"stream": 0})
                rows.append(StatsRow(data, name if args else None, trunc=not opts.no_trunc))
            except APIError as e:
                errors.append(str(e))
        if errors:
            ctx.err.write("\n".join(errors) + "\n")
            return 1
        text = render_list(fmt, rows, STATS_TITLES)
        if opts.no_stream:
            ctx.out.write(text)
            return 0
        ctx.out.write("\x1b[2J\x1b[H" + text)
        ctx.out.flush()
        time.sleep(1)
