"""`skiff build`: the classic builder's client side — the context tarred (with .dockerignore
applied) and sent to POST /build, the progress stream printed, the RUN's exit code kept."""

from __future__ import annotations

import os
import sys

from skiff.cli.commands import Command, registry
from skiff.cli.flags import UsageError

COMMANDS: dict[str, Command] = {}
command = registry(COMMANDS)


def _spool():
    """An anonymous temporary file (O_TMPFILE: no name, and no `tempfile`/`random` imports)."""
    try:
        return os.fdopen(os.open("/tmp", os.O_TMPFILE | os.O_RDWR, 0o600), "w+b")
    except OSError:
        import tempfile
        return tempfile.TemporaryFile()


def context_tar(context: str, dockerfile: str | None, out) -> str:
    """Tar `context` into `out` (patterns of its .dockerignore left out); returns the Dockerfile's
    name inside the tar. A Dockerfile outside the context travels under a private name."""
    import tarfile

    from skiff.engine.build.dockerignore import Matcher, read_patterns

    lines: list[str] = []
    try:
        with open(os.path.join(context, ".dockerignore"), errors="replace") as f:
            lines = read_patterns(f.read())
    except OSError:
        pass
    matcher = Matcher(lines)
    name = "Dockerfile"
    outside = None
    if dockerfile:
        path = os.path.abspath(dockerfile if os.path.isabs(dockerfile) or os.path.exists(dockerfile)
                               else os.path.join(context, dockerfile))
        rel = os.path.relpath(path, os.path.abspath(context))
        if rel.startswith(".."):
            outside, name = path, f".dockerfile.{os.urandom(10).hex()}"
        else:
            name = rel.replace(os.sep, "/")
    keep = {name, ".dockerignore"}
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for dirpath, dirnames, filenames in os.walk(context):
            rel_dir = os.path.relpath(dirpath, context)
            dirnames.sort()
            for entry in sorted(dirnames + filenames):
                rel = entry if rel_dir == "." else f"{rel_dir}/{entry}"
                if rel not in keep and matcher.excluded(rel):
                    if entry in dirnames and not matcher.may_hold_exceptions(rel):
                        dirnames.remove(entry)
                    continue
                tar.add(os.path.join(dirpath, entry), arcname=rel, recursive=False)
        if outside:
            tar.add(outside, arcname=name)
    return name


def _stdin_context(data: bytes) -> bytes:
    """`build -`: a tarball (maybe compressed) as is, or a lone Dockerfile wrapped in one."""
    import io
    import tarfile

    if data[:2] == b"\x1f\x8b" or data[:3] == b"BZh" or data[:6] == b"\xfd7zXZ\x00" or \
            (len(data) > 262 and data[257:262] == b"ustar"):
        return data
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.4g}{unit}" if unit != "B" else f"{n}B"
        n /= 1000  # type: ignore[assignment]
    return f"{n}B"


def _run_options(opts, fastjson) -> dict:
    """What the RUN containers get: resources, extra hosts, cgroup parent, ulimits, cache sources."""
    from skiff.cli.runopts import _size, parse_ulimit

    params: dict = {"cgroupparent": opts.cgroup_parent or None, "cpusetcpus": opts.cpuset_cpus or None,
                    "cpushares": opts.cpu_shares or None, "cpuperiod": opts.cpu_period or None,
                    "cpuquota": opts.cpu_quota or None}
    if opts.memory:
        params["memory"] = _size(opts, "memory", "-m, --memory")
    if opts.memory_swap:
        params["memswap"] = -1 if opts.memory_swap == "-1" else _size(opts, "memory_swap", "--memory-swap")
    if opts.shm_size:
        params["shmsize"] = _size(opts, "shm_size", "--shm-size")
    if opts.add_host:
        params["extrahosts"] = ",".join(opts.add_host)
    if opts.ulimit:
        params["ulimits"] = fastjson.dumps([parse_ulimit(u) for u in opts.ulimit], compact=True)
    if opts.cache_from:
        params["cachefrom"] = fastjson.dumps(opts.cache_from, compact=True)
    return params


@command("build", "[OPTIONS] PATH | URL | -", """
    --add-host list  Add a custom host-to-IP mapping ("host:ip")
    --build-arg list  Set build-time variables
    --cache-from list  Images to consider as cache sources
    --cgroup-parent string  Set the parent cgroup for the "RUN" instructions during build
    --compress bool  Compress the build context using gzip
    --cpu-period int  Limit the CPU CFS (Completely Fair Scheduler) period
    --cpu-quota int  Limit the CPU CFS (Completely Fair Scheduler) quota
 -c --cpu-shares int  CPU shares (relative weight)
    --cpuset-cpus string  CPUs in which to allow execution (0-3, 0,1)
 -f --file string  Name of the Dockerfile (Default is "PATH/Dockerfile")
    --force-rm bool  Always remove intermediate containers
    --iidfile string  Write the image ID to the file
    --label list  Set metadata for an image
 -m --memory bytes  Memory limit
    --memory-swap bytes  Swap limit equal to memory plus swap: -1 to enable unlimited swap
    --network string=default  Set the networking mode for the RUN instructions during build
    --no-cache bool  Do not use cache when building the image
    --platform string  Set platform if server is multi-platform capable
    --pull bool  Always attempt to pull a newer version of the image
 -q --quiet bool  Suppress the build output and print image ID on success
    --rm bool=true  Remove intermediate containers after a successful build
    --shm-size bytes  Size of "/dev/shm"
 -t --tag list  Name and optionally a tag in the "name:tag" format
    --target string  Set the target build stage to build.
    --ulimit ulimit  Ulimit options
""", min_args=1, max_args=1)
def build(ctx, opts, args) -> int:
    from skiff.cli import fastjson
    from skiff.cli.client import APIError

    context = args[0]
    if context.startswith(("http://", "https://", "git@", "git://", "github.com/")):
        raise UsageError(f"unable to prepare context: remote contexts ({context}) are not supported by skiff; "
                         "clone or download it and build the directory", 1)
    params: dict = {"t": opts.tag or None, "q": opts.quiet or None, "nocache": opts.no_cache or None,
                    "pull": opts.pull or None, "rm": "1" if opts.rm else "0", "forcerm": opts.force_rm or None,
                    "target": opts.target or None, "networkmode": opts.network or None,
                    "platform": opts.platform or None}
    if opts.build_arg:
        build_args = {}
        for a in opts.build_arg:
            k, eq, v = a.partition("=")
            if eq:
                build_args[k] = v
            elif k in os.environ:
                build_args[k] = os.environ[k]
        params["buildargs"] = fastjson.dumps(build_args, compact=True)
    params.update(_run_options(opts, fastjson))
    if opts.label:
        labels = {k: v for k, _, v in (a.partition("=") for a in opts.label)}
        params["labels"] = fastjson.dumps(labels, compact=True)
    spool = _spool()
    if context == "-":
        if opts.file == "-":
            raise UsageError("invalid argument: can't use stdin for both build context and dockerfile", 1)
        spool.write(_stdin_context(sys.stdin.buffer.read()))
        if opts.file:
            params["dockerfile"] = opts.file
    else:
        if not os.path.isdir(context):
            raise UsageError(f'unable to prepare context: path "{context}" not found', 1)
        dockerfile = opts.file
        if opts.file == "-":
            import tempfile
            tmp = tempfile.NamedTemporaryFile(delete=False, prefix="Dockerfile.")
            tmp.write(sys.stdin.buffer.read())
            tmp.close()
            dockerfile = tmp.name
        elif dockerfile is None or dockerfile == "":
            if not os.path.exists(os.path.join(context, "Dockerfile")) and \
                    not os.path.exists(os.path.join(context, "dockerfile")):
                raise UsageError("unable to prepare context: unable to evaluate symlinks in Dockerfile path: "
                                 f"lstat {os.path.abspath(os.path.join(context, 'Dockerfile'))}: "
                                 "no such file or directory", 1)
        params["dockerfile"] = context_tar(context, dockerfile or None, spool)
        if opts.file == "-":
            os.unlink(dockerfile)
    if opts.compress:
        import gzip
        spool.seek(0)
        packed = _spool()
        with gzip.GzipFile(fileobj=packed, mode="wb", compresslevel=6) as gz:
            while chunk := spool.read(1 << 20):
                gz.write(chunk)
        spool.close()
        spool = packed
    size = spool.tell()
    spool.seek(0)
    if not opts.quiet:
        ctx.out.write(f"Sending build context to Docker daemon  {_size(size)}\n")
        ctx.out.flush()
    resp = ctx.client.request("POST", "/build", params, spool, content_type="application/x-tar")
    image_id = ""
    try:
        for msg in resp.body.json_stream():
            if msg.get("error") or msg.get("errorDetail"):
                detail = msg.get("errorDetail") or {}
                ctx.err.write((msg.get("error") or detail.get("message", "unknown error")) + "\n")
                return int(detail.get("code") or 1)
            if (msg.get("aux") or {}).get("ID"):
                image_id = msg["aux"]["ID"]
            text = msg.get("stream")
            if text:
                if opts.quiet and text.startswith("sha256:"):
                    image_id = text.strip()
                ctx.out.write(text)
                ctx.out.flush()
    except APIError:
        raise
    finally:
        resp.close()
    if opts.iidfile and image_id:
        with open(opts.iidfile, "w") as f:
            f.write(image_id)
    return 0
