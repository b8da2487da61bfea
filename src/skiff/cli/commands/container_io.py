"""Commands that move bytes in or out of a container: attach, exec, cp, export, commit."""

from __future__ import annotations

from skiff.cli.client import APIError
from skiff.cli.commands import Command, registry
from skiff.cli.flags import UsageError

COMMANDS: dict[str, Command] = {}
command = registry(COMMANDS)


@command("attach", "[OPTIONS] CONTAINER", """
    --detach-keys string  Override the key sequence for detaching a container
    --no-stdin bool  Do not attach STDIN
    --sig-proxy bool=true  Proxy all received signals to the process
""", min_args=1, max_args=1)
def attach(ctx, opts, args) -> int:
    from skiff.cli import streams
    from skiff.cli.commands.container_run import _install_resize, _install_sig_proxy

    client = ctx.client
    info = client.get(f"/containers/{args[0]}/json")
    state = info.get("State") or {}
    if not state.get("Running"):
        raise UsageError("You cannot attach to a stopped container, start it first", 1)
    if state.get("Paused"):
        raise UsageError("You cannot attach to a paused container, unpause it first", 1)
    cid, cfg = info["Id"], info.get("Config") or {}
    tty = bool(cfg.get("Tty"))
    stdin = not opts.no_stdin and bool(cfg.get("OpenStdin"))
    if tty and stdin and not streams.stdin_is_tty():
        raise UsageError("the input device is not a TTY", 1)
    params = {"stream": 1, "stdin": stdin, "stdout": 1, "stderr": 1, "detachKeys": opts.detach_keys or None}
    sock, body = client.hijack(f"/containers/{cid}/attach", params)
    if tty and streams.stdin_is_tty():
        _install_resize(client, f"/containers/{cid}/resize")
        with streams.RawTerminal(0):
            detached = streams.pump(sock, body, True, stdin, opts.detach_keys)
    else:
        if opts.sig_proxy and not tty:
            _install_sig_proxy(client, cid)
        detached = streams.pump(sock, body, tty, stdin, opts.detach_keys)
    if detached:
        return 0
    result = client.post(f"/containers/{cid}/wait") or {}
    return int(result.get("StatusCode", 0))


EXEC_FLAGS = """
 -d --detach bool  Detached mode: run command in the background
    --detach-keys string  Override the key sequence for detaching a container
 -e --env list  Set environment variables
    --env-file list  Read in a file of environment variables
 -i --interactive bool  Keep STDIN open even if not attached
    --privileged bool  Give extended privileges to the command
 -t --tty bool  Allocate a pseudo-TTY
 -u --user string  Username or UID (format: "<name|uid>[:<group|gid>]")
 -w --workdir string  Working directory inside the container
"""


@command("exec", "[OPTIONS] CONTAINER COMMAND [ARG...]", EXEC_FLAGS, interspersed=False, min_args=2)
def exec_(ctx, opts, args) -> int:
    from skiff.cli import streams
    from skiff.cli.commands.container_run import _install_resize
    from skiff.cli.runopts import expand_env, parse_env_file

    env: list[str] = []
    for path in opts.env_file:
        with open(path, encoding="utf-8") as f:
            env += parse_env_file(f.read())
    env += expand_env(opts.env)
    interactive_tty = opts.tty and opts.interactive and not opts.detach
    if interactive_tty and not streams.stdin_is_tty():
        raise UsageError("the input device is not a TTY", 1)
    body = {"User": opts.user, "Privileged": opts.privileged, "Tty": opts.tty,
            "AttachStdin": opts.interactive and not opts.detach, "AttachStdout": not opts.detach,
            "AttachStderr": not opts.detach, "Env": env or None, "WorkingDir": opts.workdir,
            "Cmd": args[1:], "DetachKeys": opts.detach_keys}
    if opts.tty and streams.stdin_is_tty():
        size = streams.terminal_size(0) or streams.terminal_size(1)
        if size:
            body["ConsoleSize"] = list(size)
    client = ctx.client
    exec_id = client.post(f"/containers/{args[0]}/exec", body=body)["Id"]
    if opts.detach:
        client.request("POST", f"/exec/{exec_id}/start", body={"Detach": True, "Tty": opts.tty}).json()
        return 0
    try:
        sock, stream = client.hijack(f"/exec/{exec_id}/start", body={"Detach": False, "Tty": opts.tty,
                                                                      "ConsoleSize": body.get("ConsoleSize")})
    except APIError as e:
        ctx.err.write(f"{e}\n")
        return 126 if "not found" not in e.message else 127
    if opts.tty and streams.stdin_is_tty():
        _install_resize(client, f"/exec/{exec_id}/resize")
    if interactive_tty:
        with streams.RawTerminal(0):
            detached = streams.pump(sock, stream, True, True, opts.detach_keys)
    else:
        detached = streams.pump(sock, stream, opts.tty, opts.interactive, opts.detach_keys)
    if detached:
        return 0
    info = client.get(f"/exec/{exec_id}/json") or {}
    code = info.get("ExitCode")
    return int(code) if code is not None else 0


def split_cp_arg(arg: str) -> tuple[str | None, str]:
    """"ctr:/path" → ("ctr", "/path"); local paths (absolute, ./relative, no colon) → (None, path)."""
    if arg.startswith(("/", ".")) or ":" not in arg:
        return None, arg
    name, _, path = arg.partition(":")
    return name, path


@command("cp", "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tskiff cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH", """
 -a --archive bool  Archive mode (copy all uid/gid information)
 -L --follow-link bool  Always follow symbol link in SRC_PATH
 -q --quiet bool  Suppress progress output during copy
""", min_args=2, max_args=2)
def cp(ctx, opts, args) -> int:
    src_ctr, src = split_cp_arg(args[0])
    dst_ctr, dst = split_cp_arg(args[1])
    if src_ctr and dst_ctr:
        raise UsageError("copying between containers is not supported", 1)
    if not src_ctr and not dst_ctr:
        raise UsageError("must specify at least one container source", 1)
    from skiff.cli import cpcopy

    if src_ctr:
        return cpcopy.copy_from(ctx, src_ctr, src, dst, opts)
    assert dst_ctr is not None
    return cpcopy.copy_to(ctx, src, dst_ctr, dst, opts)


@command("export", "[OPTIONS] CONTAINER", """
 -o --output string  Write to a file, instead of STDOUT
""", min_args=1, max_args=1)
def export(ctx, opts, args) -> int:
    from skiff.cli.commands.images import _refuse_terminal, _write_stream

    _refuse_terminal(ctx, opts.output)
    resp = ctx.client.request("GET", f"/containers/{args[0]}/export")
    _write_stream(ctx, resp, opts.output)
    return 0


@command("commit", "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]", """
 -a --author string  Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")
 -c --change list  Apply Dockerfile instruction to the created image
 -m --message string  Commit message
 -p --pause bool=true  Pause container during commit
""", min_args=1, max_args=2)
def commit(ctx, opts, args) -> int:
    from skiff.cli.commands.images import split_repo_tag

    params: dict = {"container": args[0], "comment": opts.message or None, "author": opts.author or None,
                    "pause": opts.pause, "changes": opts.change or None}
    if len(args) > 1:
        repo, tag = split_repo_tag(args[1])
        params.update(repo=repo, tag=tag or None)
    result = ctx.client.post("/commit", params, body={}) or {}
    ctx.out.write(result.get("Id", "") + "\n")
    return 0
