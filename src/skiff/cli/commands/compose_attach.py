"""`skiff compose` commands that stream: up (attached: prefixed logs until Ctrl-C), logs, run
and exec (a terminal when there is one)."""

from __future__ import annotations

import signal

from skiff.cli.commands.compose import parse_services, registry
from skiff.cli.commands.compose_verbs import parse_scale
from skiff.cli.flags import UsageError

COMMANDS: dict[str, tuple] = {}
command = registry(COMMANDS)


def _interrupt(*_):
    raise KeyboardInterrupt


@command("up", "[options] [--scale SERVICE=NUM...] [--] [SERVICE...]", """
 -d --detach bool  Detached mode: Run containers in the background, print new container names.
    --no-color bool  Produce monochrome output.
    --quiet-pull bool  Pull without printing progress information
    --no-deps bool  Don't start linked services.
    --force-recreate bool  Recreate containers even if their configuration and image haven't changed.
    --always-recreate-deps bool  Recreate dependent containers.
    --no-recreate bool  If containers already exist, don't recreate them.
    --no-build bool  Don't build an image, even if it's missing.
    --no-start bool  Don't start the services after creating them.
    --build bool  Build images before starting containers.
    --abort-on-container-exit bool  Stops all containers if any container was stopped.
    --attach-dependencies bool  Attach to dependent containers.
 -t --timeout int=10  Use this timeout in seconds for container shutdown when attached or when containers are already running.
 -V --renew-anon-volumes bool  Recreate anonymous volumes instead of retrieving data from the previous containers.
    --remove-orphans bool  Remove containers for services not defined in the Compose file.
    --exit-code-from string  Return the exit code of the selected service container. Implies --abort-on-container-exit.
    --scale list  Scale SERVICE to NUM instances. Overrides the `scale` setting in the Compose file if present.
    --no-log-prefix bool  Don't print prefix in logs.
""")
def up(ctx, opts, args) -> int:
    from skiff.compose.logprinter import LogPrinter

    services = parse_services(ctx, args)
    if opts.force_recreate and opts.no_recreate:
        raise UsageError("--force-recreate and --no-recreate cannot be combined.")
    abort = opts.abort_on_container_exit or bool(opts.exit_code_from)
    if opts.detach and abort:
        raise UsageError("--abort-on-container-exit and -d cannot be combined.")
    scale = parse_scale(opts.scale, ctx.project.services)
    ops = ctx.ops()
    timeout = opts.timeout if "timeout" in opts.given else None
    old_term = signal.signal(signal.SIGTERM, _interrupt)
    try:
        containers = ops.up(services, deps=not opts.no_deps, build=opts.build, force_recreate=opts.force_recreate,
                            no_recreate=opts.no_recreate, scale=scale, start=not opts.no_start,
                            remove_orphans=opts.remove_orphans, timeout=timeout)
        if opts.detach or opts.no_start:
            return 0
        if services and not opts.attach_dependencies:
            containers = [c for c in containers if c.service in services]
        ctx.out.write(f"Attaching to {', '.join(c.name for c in containers)}\n")
        ctx.out.flush()
        printer = LogPrinter(ctx.client, ctx.project.name, containers, _writer(ctx), follow=True,
                             colour=ctx.colour and not opts.no_color, exit_codes=True)
        if opts.no_log_prefix:
            printer.prefix = {c.name: "" for c in containers}
        first = printer.run(stop_on_first_exit=abort)
    except KeyboardInterrupt:
        ctx.out.write("Gracefully stopping... (press Ctrl+C again to force)\n")
        ctx.out.flush()
        try:
            ops.stop(services, timeout)
        except KeyboardInterrupt:  # the second Ctrl-C: no more grace
            ops.kill(services)
            return 2
        return 0
    finally:
        signal.signal(signal.SIGTERM, old_term)
    if abort:
        ctx.out.write("Aborting on container exit...\n")
        ctx.out.flush()
        ops.stop(services, timeout)
        if opts.exit_code_from:
            for c in ops.containers([opts.exit_code_from]):
                info = ctx.client.get(f"/containers/{c.id}/json")
                return int(info["State"].get("ExitCode") or 0)
        if first and first[1]:
            return int(first[1])
    return 0


def _writer(ctx):
    def write(text: str) -> None:
        ctx.out.write(text)
        ctx.out.flush()
    return write


@command("logs", "[options] [--] [SERVICE...]", """
    --no-color bool  Produce monochrome output.
 -f --follow bool  Follow log output.
 -t --timestamps bool  Show timestamps.
    --tail string=all  Number of lines to show from the end of the logs for each container.
    --no-log-prefix bool  Don't print prefix in logs.
""")
def logs(ctx, opts, args) -> int:
    from skiff.compose.logprinter import LogPrinter

    containers = ctx.ops().containers(parse_services(ctx, args))
    printer = LogPrinter(ctx.client, ctx.project.name, containers, _writer(ctx), follow=opts.follow,
                         tail=opts.tail or "all", timestamps=opts.timestamps,
                         colour=ctx.colour and not opts.no_color)
    if opts.no_log_prefix:
        printer.prefix = {c.name: "" for c in containers}
    old_term = signal.signal(signal.SIGTERM, _interrupt)
    try:
        printer.run()
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, old_term)
    return 0


RUN_FLAGS = """
 -d --detach bool  Detached mode: Run container in the background, print new container name.
    --name string  Assign a name to the container
    --entrypoint string  Override the entrypoint of the image.
 -e --env list  Set an environment variable (can be used multiple times)
 -l --label list  Add or override a label (can be used multiple times)
 -u --user string  Run as specified username or uid
    --no-deps bool  Don't start linked services.
    --rm bool  Remove container after run. Ignored in detached mode.
 -p --publish list  Publish a container's port(s) to the host
    --service-ports bool  Run command with the service's ports enabled and mapped to the host.
    --use-aliases bool  Use the service's network aliases in the network(s) the container connects to.
 -v --volume list  Bind mount a volume (default [])
 -T --no-tty bool  Disable pseudo-tty allocation. By default `run` allocates a TTY.
 -w --workdir string  Working directory inside the container
"""


@command("run", "[options] [-v VOLUME...] [-p PORT...] [-e KEY=VAL...] [-l KEY=VALUE...] [--] SERVICE [COMMAND] [ARGS...]",
         RUN_FLAGS)
def run(ctx, opts, args) -> int:
    import os

    from skiff.cli import streams
    from skiff.cli.commands.container_run import _Waiter
    from skiff.compose.composehash import service_hash
    from skiff.compose.ports import port_config

    if not args:
        raise UsageError("run requires a SERVICE")
    service = args[0]
    parse_services(ctx, [service])
    project = ctx.project
    ops = ctx.ops()
    deps = [d for d in project.order([service]) if d != service]
    if deps and not opts.no_deps:
        running = {c.service for c in ops.containers(deps, stopped=False)}
        missing = [d for d in deps if d not in running]
        if missing:
            ops.up(missing, no_recreate=True)
    ops.prepare([service])
    image_id = ops.ensure_image(service, False)
    tty = not opts.no_tty and streams.stdin_is_tty() and not opts.detach
    env = dict(a.partition("=")[::2] for a in opts.env)
    svc = project.services[service]
    digest = service_hash(project, service, image_id)
    number = 1 + max((c.number for c in ops.containers([service], oneoff=True)), default=0)
    name = opts.name or f"{project.name}_{service}_run_{os.urandom(6).hex()}"
    overrides: dict = {"oneoff": True, "tty": tty, "stdin_open": not opts.detach, "extra_env": env,
                       "extra_labels": dict(a.partition("=")[::2] for a in opts.label)}
    if len(args) > 1:
        overrides["command"] = args[1:]
    if opts.entrypoint:
        overrides["entrypoint"] = opts.entrypoint
    body_hooks = []
    if not opts.detach:  # as docker-py makes an attached one-off: stdin attached, closed at its EOF
        body_hooks.append(lambda b: b.update(AttachStdin=True, StdinOnce=True))
    if opts.user:
        body_hooks.append(lambda b: b.__setitem__("User", opts.user))
    if opts.workdir:
        body_hooks.append(lambda b: b.__setitem__("WorkingDir", opts.workdir))
    ports = list(opts.publish) + (list(svc.get("ports") or []) if opts.service_ports else [])
    if ports or opts.volume:
        exposed, bindings = port_config(ports, [])

        def extra(b):
            b.setdefault("ExposedPorts", {}).update(exposed)
            b["HostConfig"]["PortBindings"].update(bindings)
            b["HostConfig"]["Binds"] += [os.path.abspath(v.split(":", 1)[0]) + ":" + v.split(":", 1)[1]
                                         if v.startswith(".") else v for v in opts.volume]
        body_hooks.append(extra)
    cid = ops.create(service, number, digest, image_id, start=False, name=name, hooks=body_hooks, **overrides)
    client = ctx.client
    if opts.detach:
        client.post(f"/containers/{cid}/start")
        ctx.out.write(name + "\n")
        return 0
    conn = client.hijack(f"/containers/{cid}/attach", {"stream": 1, "stdin": 1, "stdout": 1, "stderr": 1})
    waiter = _Waiter(client, cid, "next-exit")
    client.post(f"/containers/{cid}/start")
    if tty:
        with streams.RawTerminal(0):
            streams.pump(conn[0], conn[1], True, True)
    else:
        streams.pump(conn[0], conn[1], False, not opts.detach and not _stdin_closed())
    code = waiter.result()
    if opts.rm:
        client.delete(f"/containers/{cid}", {"force": True, "v": True})
    return code


def _stdin_closed() -> bool:
    import sys

    return sys.stdin is None or sys.stdin.closed


@command("exec", "[options] [-e KEY=VAL...] [--] SERVICE COMMAND [ARGS...]", """
 -d --detach bool  Detached mode: Run command in the background.
    --privileged bool  Give extended privileges to the process.
 -u --user string  Run the command as this user.
 -T --no-tty bool  Disable pseudo-tty allocation. By default `exec` allocates a TTY.
    --index int=1  index of the container if there are multiple instances of a service
 -e --env list  Set environment variables (can be used multiple times)
 -w --workdir string  Path to workdir directory for this command.
""")
def exec_(ctx, opts, args) -> int:
    from skiff.cli import streams
    from skiff.cli.docker import run_command
    from skiff.compose.errors import ConfigError

    if len(args) < 2:
        raise UsageError("exec requires SERVICE and COMMAND")
    parse_services(ctx, args[:1])
    found = [c for c in ctx.ops().containers(args[:1], stopped=False) if c.number == opts.index]
    if not found:
        raise ConfigError(f"No container found for {args[0]}_{opts.index}")
    argv = [] if opts.detach else ["-i"]
    if not opts.no_tty and not opts.detach and streams.stdin_is_tty():
        argv.append("-t")
    if opts.detach:
        argv.append("-d")
    if opts.privileged:
        argv.append("--privileged")
    if opts.user:
        argv += ["-u", opts.user]
    if opts.workdir:
        argv += ["-w", opts.workdir]
    for e in opts.env:
        argv += ["-e", e]
    return run_command(("container", "exec"), "exec", argv + [found[0].id] + args[1:], ctx.gopts.host or None)
