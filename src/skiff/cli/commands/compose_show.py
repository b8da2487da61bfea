"""`skiff compose` commands that only read and print: ps, config, images, port, top, version."""

from __future__ import annotations

import re

from skiff.cli.commands.compose import parse_services, registry

COMMANDS: dict[str, tuple] = {}
command = registry(COMMANDS)


def version_line() -> str:
    from skiff.cli.commands.system import client_version
    from skiff.compose.model import COMPOSE_VERSION

    return f"skiff compose version {client_version()} (docker-compose {COMPOSE_VERSION} compatible)"


def table(headers: list[str], rows: list[list[str]]) -> str:
    """texttable's HEADER style, which docker-compose 1.x prints: centred headings, a rule, rows."""
    widths = [max(len(r[i]) for r in [headers] + rows) for i in range(len(headers))]
    lines = ["   ".join(h.center(w) for h, w in zip(headers, widths, strict=True)),
             "-" * (sum(widths) + 3 * (len(widths) - 1))]
    lines += ["   ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines) + "\n"


def human_state(c) -> str:
    if c.state == "paused":
        return "Paused"
    if c.state == "restarting":
        return "Restarting"
    if c.state == "running":
        return "Up"
    m = re.search(r"\((-?\d+)\)", c.status or "")
    return f"Exit {m.group(1) if m else 0}"


def human_ports(ports: list[dict]) -> str:
    out = []
    for p in sorted(ports, key=lambda p: (p.get("PrivatePort", 0), p.get("Type", ""))):
        inner = f"{p.get('PrivatePort')}/{p.get('Type', 'tcp')}"
        if p.get("PublicPort"):
            out.append(f"{p.get('IP') or '0.0.0.0'}:{p['PublicPort']}->{inner}")
        else:
            out.append(inner)
    return ", ".join(dict.fromkeys(out))


def truncate(text: str, n: int = 30) -> str:
    return text if len(text) <= n else text[:n - 4] + " ..."


@command("ps", "[options] [--] [SERVICE...]", """
 -q --quiet bool  Only display IDs
    --services bool  Display services
    --filter list  Filter services by a property (status=running|stopped|paused, source=image|build)
 -a --all bool  Show all stopped containers (including those created by the run command)
""")
def ps(ctx, opts, args) -> int:
    services = parse_services(ctx, args)
    project = ctx.project
    if opts.services:
        names = list(services or project.services)
        for f in opts.filter:
            key, _, value = f.partition("=")
            if key == "source":
                names = [n for n in names if ("build" in project.services[n]) == (value == "build")]
        ctx.out.write("".join(n + "\n" for n in names))
        return 0
    ops = ctx.ops()
    found = ops.containers(services) + (ops.containers(services, oneoff=True) if opts.all else [])
    for f in opts.filter:
        key, _, value = f.partition("=")
        if key == "status":
            want = {"running": ("running",), "stopped": ("exited", "created", "dead"), "paused": ("paused",),
                    "restarting": ("restarting",)}.get(value, (value,))
            found = [c for c in found if c.state in want]
        elif key == "source":
            found = [c for c in found if ("build" in project.services.get(c.service, {})) == (value == "build")]
    found.sort(key=lambda c: c.name)
    if opts.quiet:
        ctx.out.write("".join(c.id + "\n" for c in found))
        return 0
    rows = [[c.name, truncate(c.command), human_state(c), human_ports(c.ports or [])] for c in found]
    ctx.out.write(table(["Name", "Command", "State", "Ports"], rows))
    return 0


@command("config", "[options]", """
    --resolve-image-digests bool  Pin image tags to digests.
    --no-interpolate bool  Don't interpolate environment variables.
 -q --quiet bool  Only validate the configuration, don't print anything.
    --services bool  Print the service names, one per line.
    --volumes bool  Print the volume names, one per line.
    --hash string  Print the service config hash, one per line. Set "service1,service2" for a list of specified services or use the wildcard symbol to display all services.
    --profiles bool  Print the profile names, one per line.
""")
def config(ctx, opts, args) -> int:
    import yaml

    project = ctx.project
    if opts.quiet:
        return 0
    if opts.services:
        ctx.out.write("".join(n + "\n" for n in project.services))
        return 0
    if opts.volumes:
        ctx.out.write("".join(n + "\n" for n in project.volumes))
        return 0
    if opts.profiles:
        names = sorted({p for s in project.services.values() for p in s.get("profiles") or []})
        ctx.out.write("".join(n + "\n" for n in names))
        return 0
    if opts.hash:
        from skiff.cli.client import ConnectError
        from skiff.compose.composehash import service_hash

        names = list(project.services) if opts.hash == "*" else opts.hash.split(",")
        ops = ctx.ops()
        for n in names:
            parse_services(ctx, [n])
            try:
                image_id = ops.image_id(project.image_name(n))
            except ConnectError:
                image_id = None  # no engine: the hash of a service whose image is not there
            ctx.out.write(f"{n} {service_hash(project, n, image_id)}\n")
        return 0
    doc: dict = {"services": project.services}
    if project.networks:
        doc["networks"] = project.networks
    if project.volumes:
        doc["volumes"] = project.volumes
    for kind, defined in project.file_definitions().items():
        if defined:
            doc[kind] = defined
    doc["version"] = "1" if project.v1 else (project.version or "3")
    ctx.out.write(yaml.safe_dump(doc, default_flow_style=False, sort_keys=True))
    return 0


@command("images", "[options] [SERVICE...]", """
 -q --quiet bool  Only display IDs
""")
def images(ctx, opts, args) -> int:
    ops = ctx.ops()
    found = ops.containers(parse_services(ctx, args))
    rows = []
    for c in sorted(found, key=lambda c: c.name):
        info = ctx.client.get(f"/containers/{c.id}/json")
        image_id = info.get("Image", "")
        if opts.quiet:
            ctx.out.write(image_id.split(":", 1)[-1] + "\n")
            continue
        ref = info["Config"].get("Image", "")
        repo, _, tag = ref.rpartition(":") if ":" in ref.rsplit("/", 1)[-1] else (ref, "", "latest")
        try:
            size = ctx.client.get(f"/images/{image_id}/json").get("Size", 0)
        except Exception:
            size = 0
        from skiff.cli.humanize import human_size

        rows.append([c.name, repo, tag or "latest", image_id.split(":", 1)[-1][:12], human_size(size)])
    if not opts.quiet:
        ctx.out.write(table(["Container", "Repository", "Tag", "Image Id", "Size"], rows))
    return 0


@command("port", "[options] SERVICE PRIVATE_PORT", """
    --protocol string=tcp  tcp or udp
    --index int=1  index of the container if there are multiple instances of a service
""")
def port(ctx, opts, args) -> int:
    from skiff.cli.flags import UsageError

    if len(args) != 2:
        raise UsageError("port requires SERVICE and PRIVATE_PORT")
    parse_services(ctx, args[:1])
    found = [c for c in ctx.ops().containers(args[:1]) if c.number == opts.index]
    if not found:
        from skiff.compose.errors import ConfigError

        raise ConfigError(f"No container found for {args[0]}_{opts.index}")
    info = ctx.client.get(f"/containers/{found[0].id}/json")
    bindings = ((info.get("NetworkSettings") or {}).get("Ports") or {}).get(f"{args[1]}/{opts.protocol or 'tcp'}")
    if bindings:
        b = bindings[0]
        ctx.out.write(f"{b.get('HostIp') or '0.0.0.0'}:{b.get('HostPort')}\n")
    return 0


@command("top", "[SERVICE...]")
def top(ctx, opts, args) -> int:
    first = True
    for c in ctx.ops().containers(parse_services(ctx, args), stopped=False):
        result = ctx.client.get(f"/containers/{c.id}/top") or {}
        if not first:
            ctx.out.write("\n")
        first = False
        ctx.out.write(c.name + "\n")
        titles = result.get("Titles") or []
        rows = [[str(x) for x in p] for p in result.get("Processes") or []]
        ctx.out.write(table(titles, rows))
    return 0


@command("version", "[--short]", """
    --short bool  Shows only Compose's version number.
""")
def version(ctx, opts, args) -> int:
    from skiff.cli.commands.system import client_version

    ctx.out.write((client_version() if opts.short else version_line()) + "\n")
    return 0
