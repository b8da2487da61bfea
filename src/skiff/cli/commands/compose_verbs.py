"""`skiff compose` verbs that act on services and print docker-compose's status lines:
build, create, down, kill, pause, pull, push, restart, rm, scale, start, stop, unpause."""

from __future__ import annotations

from skiff.cli.commands.compose import parse_services, registry
from skiff.cli.flags import UsageError

COMMANDS: dict[str, tuple] = {}
command = registry(COMMANDS)


def _timeout(opts) -> int | None:
    return opts.timeout if "timeout" in opts.given else None


@command("build", "[options] [--build-arg key=val...] [--] [SERVICE...]", """
    --build-arg list  Set build-time variables for services
    --no-cache bool  Do not use cache when building the image
    --pull bool  Always attempt to pull a newer version of the image
 -q --quiet bool  Don't print anything to STDOUT
    --force-rm bool  Always remove intermediate containers
    --no-rm bool  Do not remove intermediate containers after a successful build
""")
def build(ctx, opts, args) -> int:
    services = parse_services(ctx, args)
    project = ctx.project
    extra = dict(a.partition("=")[::2] for a in opts.build_arg)
    for name in services or list(project.services):
        svc = project.services[name]
        if "build" not in svc:
            ctx.say(f"{name} uses an image, skipping")
            continue
        entry = dict(svc["build"], args={**(svc["build"].get("args") or {}), **extra})
        ctx.say(f"Building {name}")
        ctx.build_image(name, entry, project.image_name(name), no_cache=opts.no_cache, pull=opts.pull)
    return 0


@command("create", "[options] [SERVICE...]", """
    --force-recreate bool  Recreate containers even if their configuration and image haven't changed.
    --no-recreate bool  If containers already exist, don't recreate them.
    --no-build bool  Don't build an image, even if it's missing.
    --build bool  Build images before creating containers.
""")
def create(ctx, opts, args) -> int:
    ctx.say("WARNING: The create command is deprecated. Use the up command with the --no-start flag instead.")
    ctx.ops().up(parse_services(ctx, args), build=opts.build, force_recreate=opts.force_recreate,
                 no_recreate=opts.no_recreate, start=False)
    return 0


@command("down", "[options]", """
    --rmi string  Remove images. Type must be one of: 'all': Remove all images used by any service. 'local': Remove only images that don't have a custom tag set by the `image` field.
 -v --volumes bool  Remove named volumes declared in the `volumes` section of the Compose file and anonymous volumes attached to containers.
    --remove-orphans bool  Remove containers for services not defined in the Compose file
 -t --timeout int=10  Specify a shutdown timeout in seconds.
""")
def down(ctx, opts, args) -> int:
    if opts.rmi and opts.rmi not in ("all", "local"):
        raise UsageError("--rmi flag must be local, all")
    ctx.ops().down(volumes=opts.volumes, rmi=opts.rmi or None, remove_orphans=opts.remove_orphans,
                   timeout=_timeout(opts))
    return 0


@command("kill", "[options] [SERVICE...]", """
 -s --signal string=SIGKILL  SIGNAL to send to the container.
""")
def kill(ctx, opts, args) -> int:
    ctx.ops().kill(parse_services(ctx, args), opts.signal or "SIGKILL")
    return 0


@command("pause", "[SERVICE...]")
def pause(ctx, opts, args) -> int:
    ctx.ops().pause(parse_services(ctx, args))
    return 0


@command("unpause", "[SERVICE...]")
def unpause(ctx, opts, args) -> int:
    ctx.ops().unpause(parse_services(ctx, args))
    return 0


@command("pull", "[options] [--] [SERVICE...]", """
    --ignore-pull-failures bool  Pull what it can and ignores images with pull failures.
 -q --quiet bool  Pull without printing progress information
    --include-deps bool  Also pull services declared as dependencies
""")
def pull(ctx, opts, args) -> int:
    services = parse_services(ctx, args)
    if services and opts.include_deps:
        services = ctx.project.order(services)
    ctx.ops().pull(services, ignore_failures=opts.ignore_pull_failures)
    return 0


@command("push", "[options] [--] [SERVICE...]", """
    --ignore-push-failures bool  Push what it can and ignores images with push failures.
""")
def push(ctx, opts, args) -> int:
    ctx.ops().push(parse_services(ctx, args))
    return 0


@command("restart", "[options] [SERVICE...]", """
 -t --timeout int=10  Specify a shutdown timeout in seconds.
""")
def restart(ctx, opts, args) -> int:
    ctx.ops().restart(parse_services(ctx, args), _timeout(opts))
    return 0


@command("rm", "[options] [SERVICE...]", """
 -f --force bool  Don't ask to confirm removal
 -s --stop bool  Stop the containers, if required, before removing
 -v --volumes bool  Remove any anonymous volumes attached to containers
 -a --all bool  Deprecated - no effect.
""")
def rm(ctx, opts, args) -> int:
    ops = ctx.ops()
    services = parse_services(ctx, args)
    if opts.stop:
        ops.stop(services)
    gone = [c for c in ops.containers(services) + ops.containers(services, oneoff=True) if not c.running]
    if not gone:
        ctx.say("No stopped containers")
        return 0
    if not opts.force:
        ctx.out.write(f"Going to remove {', '.join(c.name for c in gone)}\nAre you sure? [yN] ")
        ctx.out.flush()
        import sys

        answer = sys.stdin.readline().strip().lower()
        if answer not in ("y", "yes"):
            return 0
    ops.remove(gone, volumes=opts.volumes)
    return 0


def parse_scale(values: list[str], services: dict) -> dict[str, int]:
    out = {}
    for v in values:
        name, eq, num = v.partition("=")
        if not eq:
            raise UsageError(f'Arguments to scale should be in the form service=num, not "{v}"')
        try:
            out[name] = int(num)
        except ValueError:
            raise UsageError(f"Number of containers for service \"{name}\" is not a number") from None
        if name not in services:
            raise UsageError(f"No such service: {name}")
    return out


@command("scale", "[options] [SERVICE=NUM...]", """
 -t --timeout int=10  Specify a shutdown timeout in seconds.
""")
def scale(ctx, opts, args) -> int:
    ctx.say("WARNING: The scale command is deprecated. Use the up command with the --scale flag instead.")
    wanted = parse_scale(args, ctx.project.services)
    ctx.ops().up(list(wanted), deps=False, no_recreate=True, scale=wanted, timeout=_timeout(opts))
    return 0


@command("start", "[SERVICE...]")
def start(ctx, opts, args) -> int:
    ctx.ops().start(parse_services(ctx, args))
    return 0


@command("stop", "[options] [--] [SERVICE...]", """
 -t --timeout int=10  Specify a shutdown timeout in seconds.
""")
def stop(ctx, opts, args) -> int:
    ctx.ops().stop(parse_services(ctx, args), _timeout(opts))
    return 0
