"""Lifecycle commands over one or more containers: stop, kill, restart, pause, rm, wait, ..."""

from __future__ import annotations

from skiff.cli.client import APIError
from skiff.cli.commands import Command, parse_filters, print_errors_exit, registry
from skiff.cli.commands.pruning import confirm, write_deleted, write_reclaimed

COMMANDS: dict[str, Command] = {}
command = registry(COMMANDS)


def _each(ctx, names: list[str], action, echo: bool = True) -> int:
    """Run action(name) for every container, printing names done and every error, as docker does."""
    errors = []
    for name in names:
        try:
            result = action(name)
            if echo:
                ctx.out.write(f"{name if result is None else result}\n")
        except APIError as e:
            errors.append(str(e))
    return print_errors_exit(ctx, errors)


STOP_FLAGS = """
 -s --signal string  Signal to send to the container
 -t --timeout int  Seconds to wait before killing the container
"""


def _stop_params(opts) -> dict:
    params: dict = {}
    if "timeout" in opts.given:
        params["t"] = opts.timeout
    if opts.signal:
        params["signal"] = opts.signal
    return params


@command("stop", "[OPTIONS] CONTAINER [CONTAINER...]", STOP_FLAGS, min_args=1)
def stop(ctx, opts, args) -> int:
    params = _stop_params(opts)
    return _each(ctx, args, lambda n: ctx.client.request("POST", f"/containers/{n}/stop", params).json())


@command("restart", "[OPTIONS] CONTAINER [CONTAINER...]", STOP_FLAGS, min_args=1)
def restart(ctx, opts, args) -> int:
    params = _stop_params(opts)
    return _each(ctx, args, lambda n: ctx.client.request("POST", f"/containers/{n}/restart", params).json())


@command("kill", "[OPTIONS] CONTAINER [CONTAINER...]", """
 -s --signal string  Signal to send to the container
""", min_args=1)
def kill(ctx, opts, args) -> int:
    params = {"signal": opts.signal} if opts.signal else None
    return _each(ctx, args, lambda n: ctx.client.request("POST", f"/containers/{n}/kill", params).json())


@command("pause", "CONTAINER [CONTAINER...]", min_args=1)
def pause(ctx, opts, args) -> int:
    return _each(ctx, args, lambda n: ctx.client.request("POST", f"/containers/{n}/pause").json())


@command("unpause", "CONTAINER [CONTAINER...]", min_args=1)
def unpause(ctx, opts, args) -> int:
    return _each(ctx, args, lambda n: ctx.client.request("POST", f"/containers/{n}/unpause").json())


@command("wait", "CONTAINER [CONTAINER...]", min_args=1)
def wait(ctx, opts, args) -> int:
    def one(name: str):
        result = ctx.client.post(f"/containers/{name}/wait") or {}
        err = (result.get("Error") or {}).get("Message")
        if err:
            raise APIError(500, err)
        return result.get("StatusCode", 0)

    return _each(ctx, args, one)


@command("rm", "[OPTIONS] CONTAINER [CONTAINER...]", """
 -f --force bool  Force the removal of a running container (uses SIGKILL)
 -l --link bool  Remove the specified link
 -v --volumes bool  Remove anonymous volumes associated with the container
""", min_args=1)
def rm(ctx, opts, args) -> int:
    params = {"force": opts.force, "v": opts.volumes, "link": opts.link}

    def one(name: str):
        ctx.client.request("DELETE", f"/containers/{name}", params).json()

    return _each(ctx, args, one)


@command("rename", "CONTAINER NEW_NAME", min_args=2, max_args=2)
def rename(ctx, opts, args) -> int:
    try:
        ctx.client.request("POST", f"/containers/{args[0]}/rename", {"name": args[1]}).json()
    except APIError as e:
        ctx.err.write(f"{e}\nError: failed to rename container named {args[0]}\n")
        return 1
    return 0


@command("prune", "[OPTIONS]", """
    --filter filter  Provide filter values (e.g. "until=<timestamp>")
 -f --force bool  Do not prompt for confirmation
""", max_args=0)
def prune(ctx, opts, args) -> int:
    if not opts.force and not confirm(ctx, "WARNING! This will remove all stopped containers."):
        return 0
    result = ctx.client.post("/containers/prune", {"filters": parse_filters(opts.filter) or None}) or {}
    write_deleted(ctx, "Containers", result.get("ContainersDeleted"))
    write_reclaimed(ctx, result.get("SpaceReclaimed"))
    return 0


@command("update", "[OPTIONS] CONTAINER [CONTAINER...]", """
    --blkio-weight uint16  Block IO (relative weight), between 10 and 1000, or 0 to disable
    --cpu-period int  Limit CPU CFS (Completely Fair Scheduler) period
    --cpu-quota int  Limit CPU CFS (Completely Fair Scheduler) quota
 -c --cpu-shares int  CPU shares (relative weight)
    --cpus decimal  Number of CPUs
    --cpuset-cpus string  CPUs in which to allow execution (0-3, 0,1)
    --cpuset-mems string  MEMs in which to allow execution (0-3, 0,1)
 -m --memory bytes  Memory limit
    --memory-reservation bytes  Memory soft limit
    --memory-swap bytes  Swap limit equal to memory plus swap: -1 to enable unlimited swap
    --pids-limit int  Tune container pids limit (set -1 for unlimited)
    --restart string  Restart policy to apply when a container exits
""", min_args=1)
def update(ctx, opts, args) -> int:
    from skiff.cli.humanize import ram_in_bytes
    from skiff.cli.runopts import parse_cpus, parse_restart

    body: dict = {}
    for dest, key in (("blkio_weight", "BlkioWeight"), ("cpu_period", "CpuPeriod"), ("cpu_quota", "CpuQuota"),
                      ("cpu_shares", "CpuShares"), ("cpuset_cpus", "CpusetCpus"), ("cpuset_mems", "CpusetMems"),
                      ("pids_limit", "PidsLimit")):
        if dest in opts.given:
            body[key] = getattr(opts, dest)
    for dest, key in (("memory", "Memory"), ("memory_reservation", "MemoryReservation"),
                      ("memory_swap", "MemorySwap")):
        if dest in opts.given:
            value = getattr(opts, dest)
            body[key] = -1 if value == "-1" else ram_in_bytes(value)
    if "cpus" in opts.given:
        body["NanoCpus"] = parse_cpus(opts.cpus)
    if "restart" in opts.given:
        body["RestartPolicy"] = parse_restart(opts.restart)

    def one(name: str):
        result = ctx.client.post(f"/containers/{name}/update", body=body) or {}
        for w in result.get("Warnings") or []:
            ctx.err.write(f"WARNING: {w}\n")

    return _each(ctx, args, one)
