"""`run`, `create` and `start`: making containers and connecting the terminal to them."""

from __future__ import annotations

import _signal as signal  # not `signal`, which builds its enums at import: ~3 ms of every `run`

from skiff.cli.client import APIError, ConnectError
from skiff.cli.commands import Command, registry
from skiff.cli.flags import UsageError

COMMANDS: dict[str, Command] = {}
command = registry(COMMANDS)

CREATE_FLAGS = """
    --add-host list  Add a custom host-to-IP mapping (host:ip)
    --annotation list  Add an annotation to the container (passed through to the OCI runtime)
 -a --attach list  Attach to STDIN, STDOUT or STDERR
    --blkio-weight uint16  Block IO (relative weight), between 10 and 1000, or 0 to disable
    --cap-add list  Add Linux capabilities
    --cap-drop list  Drop Linux capabilities
    --cgroup-parent string  Optional parent cgroup for the container
    --cgroupns string  Cgroup namespace to use (host|private)
    --cidfile string  Write the container ID to the file
    --cpu-period int  Limit CPU CFS (Completely Fair Scheduler) period
    --cpu-quota int  Limit CPU CFS (Completely Fair Scheduler) quota
 -c --cpu-shares int  CPU shares (relative weight)
    --cpus decimal  Number of CPUs
    --cpuset-cpus string  CPUs in which to allow execution (0-3, 0,1)
    --cpuset-mems string  MEMs in which to allow execution (0-3, 0,1)
    --device list  Add a host device to the container
    --dns list  Set custom DNS servers
    --dns-option list  Set DNS options
    --dns-search list  Set custom DNS search domains
    --domainname string  Container NIS domain name
    --entrypoint string  Overwrite the default ENTRYPOINT of the image
 -e --env list  Set environment variables
    --env-file list  Read in a file of environment variables
    --expose list  Expose a port or a range of ports
    --group-add list  Add additional groups to join
 -h --hostname string  Container host name
    --init bool  Run an init inside the container that forwards signals and reaps processes
 -i --interactive bool  Keep STDIN open even if not attached
    --ip string  IPv4 address (e.g., 172.30.100.104)
    --ip6 string  IPv6 address (e.g., 2001:db8::33)
    --ipc string  IPC mode to use
    --isolation string  Container isolation technology
 -l --label list  Set meta data on a container
    --label-file list  Read in a line delimited file of labels
    --link list  Add link to another container
    --log-driver string  Logging driver for the container
    --log-opt list  Log driver options
    --mac-address string  Container MAC address (e.g., 92:d0:c6:0a:29:33)
 -m --memory bytes  Memory limit
    --memory-reservation bytes  Memory soft limit
    --memory-swap bytes  Swap limit equal to memory plus swap: '-1' to enable unlimited swap
    --memory-swappiness int=-1  Tune container memory swappiness (0 to 100)
    --mount mount  Attach a filesystem mount to the container
    --name string  Assign a name to the container
    --network network  Connect a container to a network
    --network-alias list  Add network-scoped alias for the container
    --oom-kill-disable bool  Disable OOM Killer
    --oom-score-adj int  Tune host's OOM preferences (-1000 to 1000)
    --pid string  PID namespace to use
    --pids-limit int  Tune container pids limit (set -1 for unlimited)
    --platform string  Set platform if server is multi-platform capable
    --privileged bool  Give extended privileges to this container
 -p --publish list  Publish a container's port(s) to the host
 -P --publish-all bool  Publish all exposed ports to random ports
    --pull string=missing  Pull image before running ("always", "missing", "never")
 -q --quiet bool  Suppress the pull output
    --read-only bool  Mount the container's root filesystem as read only
    --restart string=no  Restart policy to apply when a container exits
    --rm bool  Automatically remove the container and its associated anonymous volumes when it exits
    --runtime string  Runtime to use for this container
    --security-opt list  Security Options
    --shm-size bytes  Size of /dev/shm
    --stop-signal string  Signal to stop the container
    --stop-timeout int  Timeout (in seconds) to stop a container
    --storage-opt list  Storage driver options for the container
    --sysctl list  Sysctl options
    --tmpfs list  Mount a tmpfs directory
 -t --tty bool  Allocate a pseudo-TTY
    --ulimit ulimit  Ulimit options
 -u --user string  Username or UID (format: "<name|uid>[:<group|gid>]")
    --userns string  User namespace to use
    --uts string  UTS namespace to use
 -v --volume list  Bind mount a volume
    --volume-driver string  Optional volume driver for the container
    --volumes-from list  Mount volumes from the specified container(s)
 -w --workdir string  Working directory inside the container
"""

RUN_FLAGS = CREATE_FLAGS + """
 -d --detach bool  Run container in background and print container ID
    --detach-keys string  Override the key sequence for detaching a container
    --sig-proxy bool=true  Proxy received signals to the process
"""


class RunFailed(Exception):
    """A `run` failure that exits with `status` after Docker's ``docker: ...`` message."""

    def __init__(self, message: str, status: int = 125, plain: bool = False):
        super().__init__(message)
        self.message = message
        self.status = status
        self.plain = plain  # printed as is, without "skiff: " and the help hint


def start_error_status(message: str) -> int:
    """Docker's rule: 127 when the command is not found, 126 when it cannot be run, else 125."""
    if ("executable file not found" in message or "no such file or directory" in message
            or "system cannot find the file specified" in message):
        return 127
    if "permission denied" in message or "is a directory" in message:
        return 126
    return 125


def familiar_with_tag(image: str) -> str:
    last = image.rsplit("/", 1)[-1]
    if "@" in image or ":" in last:
        return image
    return image + ":latest"


def pull_image(ctx, image: str, quiet: bool) -> None:
    from skiff.cli.commands.registries import auth_header
    from skiff.cli.progress import show_progress

    ref, tag = image, ""
    if "@" not in image:
        last = image.rsplit("/", 1)[-1]
        if ":" in last:
            ref, tag = image.rsplit(":", 1)
    resp = ctx.client.request("POST", "/images/create", {"fromImage": ref, "tag": tag or "latest"} if "@" not in image
                              else {"fromImage": image}, headers=auth_header(image))
    show_progress(resp.body, ctx.err, quiet=quiet)


def create_container(ctx, opts, body: dict) -> str:
    params = {"name": opts.name or None, "platform": opts.platform or None}
    image = body["Image"]
    if opts.pull == "always":
        pull_image(ctx, image, opts.quiet)
    try:
        result = ctx.client.post("/containers/create", params, body)
    except APIError as e:
        if e.status != 404 or opts.pull == "never" or "image" not in e.message.lower():
            raise
        ctx.err.write(f"Unable to find image '{familiar_with_tag(image)}' locally\n")
        pull_image(ctx, image, opts.quiet)
        result = ctx.client.post("/containers/create", params, body)
    for warning in result.get("Warnings") or []:
        ctx.err.write(f"WARNING: {warning}\n")
    if opts.cidfile:
        with open(opts.cidfile, "x") as f:
            f.write(result["Id"])
    return result["Id"]


def _build_body(opts, args, detach: bool) -> dict:
    from skiff.cli.runopts import build_create_body

    return build_create_body(opts, args, detach=detach)


@command("create", "[OPTIONS] IMAGE [COMMAND] [ARG...]", CREATE_FLAGS, interspersed=False, min_args=1)
def create(ctx, opts, args) -> int:
    try:
        body = _build_body(opts, args, detach=False)
        cid = create_container(ctx, opts, body)
    except UsageError as e:
        if e.flag_error:
            raise
        return _fail(ctx, e.message, 125)
    except (APIError, ConnectError) as e:
        ctx.err.write(f"{e}\n")  # docker create reports engine errors plainly, exit 1
        return 1
    ctx.out.write(cid + "\n")
    return 0


def _fail(ctx, message: str, status: int) -> int:
    ctx.err.write(f"skiff: {message}\n\nRun 'skiff {ctx.path} --help' for more information\n")
    return status


@command("run", "[OPTIONS] IMAGE [COMMAND] [ARG...]", RUN_FLAGS, interspersed=False, min_args=1)
def run(ctx, opts, args) -> int:
    try:
        return _run(ctx, opts, args)
    except RunFailed as e:
        if e.plain:
            ctx.err.write(e.message + "\n")
            return e.status
        return _fail(ctx, e.message, e.status)
    except UsageError as e:
        if e.flag_error:
            raise
        return _fail(ctx, e.message, e.status)
    except (APIError, ConnectError) as e:
        return _fail(ctx, str(e), 125)


def _run(ctx, opts, args) -> int:
    from skiff.cli import streams

    body = _build_body(opts, args, detach=opts.detach)
    if opts.detach_keys:
        streams.parse_detach_keys(opts.detach_keys)
    interactive_tty = body["Tty"] and body["AttachStdin"]
    if interactive_tty and not streams.stdin_is_tty():
        raise RunFailed("the input device is not a TTY", 1, plain=True)
    if body["Tty"] and streams.stdin_is_tty():
        size = streams.terminal_size(0) or streams.terminal_size(1)
        if size:
            body["HostConfig"]["ConsoleSize"] = list(size)
    cid = create_container(ctx, opts, body)
    client = ctx.client
    if opts.detach:
        try:
            client.request("POST", f"/containers/{cid}/start").json()
        except APIError as e:
            raise RunFailed(str(e), start_error_status(e.message)) from None
        ctx.out.write(cid + "\n")
        return 0

    attach = body["AttachStdin"] or body["AttachStdout"] or body["AttachStderr"]
    conn = None
    if attach:
        params = {"stream": 1, "stdin": body["AttachStdin"], "stdout": body["AttachStdout"],
                  "stderr": body["AttachStderr"], "detachKeys": opts.detach_keys or None}
        conn = client.hijack(f"/containers/{cid}/attach", params)
    waiter = _Waiter(client, cid, "removed" if opts.rm else "next-exit")
    try:
        client.request("POST", f"/containers/{cid}/start").json()
    except APIError as e:
        if conn:
            conn[0].close()
        raise RunFailed(str(e), start_error_status(e.message)) from None

    resize = None
    if body["Tty"] and streams.stdin_is_tty():
        resize = _install_resize(client, f"/containers/{cid}/resize")
    elif opts.sig_proxy and not body["Tty"]:
        _install_sig_proxy(client, cid)
    detached = False
    if conn:
        if interactive_tty:
            with streams.RawTerminal(0):
                detached = streams.pump(conn[0], conn[1], True, True, opts.detach_keys)
        else:
            detached = streams.pump(conn[0], conn[1], body["Tty"], body["AttachStdin"], opts.detach_keys)
    if resize:
        signal.signal(signal.SIGWINCH, signal.SIG_DFL)
    if detached:
        return 0
    return waiter.result()


class _Waiter:
    """POST /containers/{id}/wait sent before start, so a fast exit is never missed. The
    answer waits in the socket until `result()` reads it, after the output has been copied."""

    def __init__(self, client, cid: str, condition: str):
        import select

        self.client = client
        self.sock = client.send_request("POST", f"/containers/{cid}/wait", {"condition": condition})
        # Docker's daemon flushes the headers once the waiter is registered; give it a moment.
        select.select([self.sock], [], [], 2.0)

    def result(self) -> int:
        value = self.client.read_response(self.sock) or {}
        err = (value.get("Error") or {}).get("Message")
        if err:
            raise RunFailed(err, 125)
        return int(value.get("StatusCode", 0))


def _install_resize(client, path: str):
    from skiff.cli.streams import terminal_size

    def resize(*_):
        size = terminal_size(0) or terminal_size(1)
        if size:
            try:
                client.request("POST", path, {"h": size[0], "w": size[1]}).json()
            except (APIError, ConnectError):
                pass

    resize()
    signal.signal(signal.SIGWINCH, resize)
    return resize


def _install_sig_proxy(client, cid: str) -> None:
    def forward(signum, _frame):
        try:
            client.request("POST", f"/containers/{cid}/kill", {"signal": str(signum)}).json()
        except (APIError, ConnectError):
            pass

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(sig, forward)


START_FLAGS = """
 -a --attach bool  Attach STDOUT/STDERR and forward signals
    --detach-keys string  Override the key sequence for detaching a container
 -i --interactive bool  Attach container's STDIN
"""


@command("start", "[OPTIONS] CONTAINER [CONTAINER...]", START_FLAGS, min_args=1)
def start(ctx, opts, args) -> int:
    from skiff.cli import streams

    client = ctx.client
    if not (opts.attach or opts.interactive):
        errors: list[str] = []
        outcomes: list[bool] = []  # failed?
        for name in args:
            try:
                client.request("POST", f"/containers/{name}/start").json()
                ctx.out.write(name + "\n")
                outcomes.append(False)
            except APIError as e:
                errors.append(str(e))
                outcomes.append(True)
        if errors:
            failed = [n for n, e in zip(args, outcomes, strict=True) if e]
            ctx.err.write("\n".join(errors) + "\n")
            ctx.err.write(f"Error: failed to start containers: {', '.join(failed)}\n")
            return 1
        return 0
    if len(args) > 1:
        raise UsageError("you cannot start and attach multiple containers at once", 1)
    info = client.get(f"/containers/{args[0]}/json")
    cid, cfg = info["Id"], info["Config"]
    tty = bool(cfg.get("Tty"))
    stdin = opts.interactive and bool(cfg.get("OpenStdin"))
    params = {"stream": 1, "stdin": stdin, "stdout": 1, "stderr": 1, "detachKeys": opts.detach_keys or None}
    sock, body = client.hijack(f"/containers/{cid}/attach", params)
    waiter = _Waiter(client, cid, "next-exit")
    try:
        client.request("POST", f"/containers/{cid}/start").json()
    except APIError as e:
        sock.close()
        ctx.err.write(f"{e}\n")
        return start_error_status(e.message) if "executable" in e.message or "denied" in e.message else 1
    if tty and stdin and streams.stdin_is_tty():
        _install_resize(client, f"/containers/{cid}/resize")
        with streams.RawTerminal(0):
            detached = streams.pump(sock, body, True, True, opts.detach_keys)
    else:
        detached = streams.pump(sock, body, tty, stdin, opts.detach_keys)
    if detached:
        return 0
    try:
        return waiter.result()
    except RunFailed as e:
        ctx.err.write(e.message + "\n")
        return 1
