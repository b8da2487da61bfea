"""Image commands: images/ls, inspect, rmi, prune, history, tag, save, load, import, build (pull and push: registries.py)."""

from __future__ import annotations

import os
import sys

from skiff.cli.client import APIError
from skiff.cli.commands import Command, parse_filters, print_errors_exit, registry
from skiff.cli.commands.pruning import confirm, write_reclaimed
from skiff.cli.flags import UsageError

COMMANDS: dict[str, Command] = {}
command = registry(COMMANDS)

FORMAT_HELP = "Format output using a custom template: 'table', 'table TEMPLATE', 'json', or 'TEMPLATE'"


def split_repo_tag(ref: str) -> tuple[str, str]:
    """"host:5000/a/b:v1" → ("host:5000/a/b", "v1"); no tag → ("...", "")."""
    if "@" in ref:
        return ref, ""
    slash, colon = ref.rfind("/"), ref.rfind(":")
    if colon > slash:
        return ref[:colon], ref[colon + 1:]
    return ref, ""


@command("ls", "[OPTIONS] [REPOSITORY[:TAG]]", f"""
 -a --all bool  Show all images (default hides intermediate images)
    --digests bool  Show digests
 -f --filter filter  Filter output based on conditions provided
    --format string  {FORMAT_HELP}
    --no-trunc bool  Don't truncate output
 -q --quiet bool  Only show image IDs
    --tree bool!  List multi-platform images as a tree (EXPERIMENTAL)
""", max_args=1)
def ls(ctx, opts, args) -> int:
    from skiff.cli.formatter import render_list
    from skiff.cli.psformat import IMAGE_TITLES, default_images_format, image_rows

    filters = parse_filters(opts.filter)
    if args:
        filters.setdefault("reference", []).append(args[0])
    params = {"all": opts.all or None, "filters": filters or None}
    images = ctx.client.get("/images/json", params) or []
    rows = image_rows(images, opts.digests, trunc=not opts.no_trunc)
    if opts.quiet:
        seen, text = set(), []
        for r in rows:
            if r.ID not in seen:
                seen.add(r.ID)
                text.append(r.ID + "\n")
        ctx.out.write("".join(text))
        return 0
    fmt = opts.format if opts.format and opts.format != "table" else default_images_format(opts.digests)
    ctx.out.write(render_list(fmt, rows, IMAGE_TITLES))
    return 0


@command("inspect", "[OPTIONS] IMAGE [IMAGE...]", """
 -f --format string  Format output using a custom template
    --platform string  Inspect a specific platform of the multi-platform image
""", min_args=1)
def inspect(ctx, opts, args) -> int:
    from skiff.cli.commands.container_info import inspect_many

    return inspect_many(ctx, args, lambda n: ctx.client.get(f"/images/{n}/json"), opts.format)


def _print_deleted(ctx, items: list[dict], lower: bool = False) -> None:
    for item in items or []:
        for key in ("Untagged", "Deleted"):
            if item.get(key):
                label = key.lower() if lower else key
                ctx.out.write(f"{label}: {item[key]}\n")


@command("rm", "[OPTIONS] IMAGE [IMAGE...]", """
 -f --force bool  Force removal of the image
    --no-prune bool  Do not delete untagged parents
""", min_args=1)
def rm(ctx, opts, args) -> int:
    errors = []
    for name in args:
        try:
            result = ctx.client.delete(f"/images/{name}", {"force": opts.force or None, "noprune": opts.no_prune or None})
            _print_deleted(ctx, result)
        except APIError as e:
            errors.append(str(e))
    return print_errors_exit(ctx, errors)


@command("prune", "[OPTIONS]", """
 -a --all bool  Remove all unused images, not just dangling ones
    --filter filter  Provide filter values (e.g. "until=<timestamp>")
 -f --force bool  Do not prompt for confirmation
""", max_args=0)
def prune(ctx, opts, args) -> int:
    warning = ("WARNING! This will remove all images without at least one container associated to them."
               if opts.all else "WARNING! This will remove all dangling images.")
    if not opts.force and not confirm(ctx, warning):
        return 0
    filters = parse_filters(opts.filter)
    filters["dangling"] = ["false" if opts.all else "true"]
    result = ctx.client.post("/images/prune", {"filters": filters}) or {}
    deleted = result.get("ImagesDeleted") or []
    if deleted:
        ctx.out.write("Deleted Images:\n")
        _print_deleted(ctx, deleted, lower=True)
        ctx.out.write("\n")
    write_reclaimed(ctx, result.get("SpaceReclaimed"))
    return 0


HISTORY_TITLES = {"ID": "IMAGE", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT",
                  "CreatedBy": "CREATED BY", "Size": "SIZE", "Comment": "COMMENT"}


class HistoryRow:
    FIELDS = ("Comment", "CreatedAt", "CreatedBy", "CreatedSince", "ID", "Size")

    def __init__(self, h: dict, trunc: bool, human: bool):
        from skiff.cli.humanize import ago, human_size
        from skiff.cli.psformat import ellipsis, short_id

        hid = h.get("Id", "")
        self.ID = hid if hid == "<missing>" or not trunc else short_id(hid)
        created = h.get("Created", 0)
        self.CreatedAt = _rfc3339_local(created)
        self.CreatedSince = ago(created)
        by = (h.get("CreatedBy") or "").replace("\t", " ")
        self.CreatedBy = ellipsis(by, 45) if trunc else by
        self.Size = human_size(h.get("Size", 0), 3) if human else str(h.get("Size", 0))
        self.Comment = h.get("Comment", "")

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.FIELDS}


def _rfc3339_local(unix: float) -> str:
    """Go's time.RFC3339 in local time, as `history` prints CreatedAt."""
    import time

    t = time.localtime(unix)
    offset = time.strftime("%z", t)
    zone = "Z" if offset in ("+0000", "-0000") else f"{offset[:3]}:{offset[3:]}"
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + zone


@command("history", "[OPTIONS] IMAGE", f"""
    --format string  {FORMAT_HELP}
 -H --human bool=true  Print sizes and dates in human readable format
    --no-trunc bool  Don't truncate output
 -q --quiet bool  Only show image IDs
""", min_args=1, max_args=1)
def history(ctx, opts, args) -> int:
    from skiff.cli.formatter import render_list

    items = ctx.client.get(f"/images/{args[0]}/history") or []
    rows = [HistoryRow(h, not opts.no_trunc, opts.human) for h in items]
    created = "{{.CreatedSince}}" if opts.human else "{{.CreatedAt}}"
    fmt = opts.format if opts.format and opts.format != "table" else \
        f"table {{{{.ID}}}}\t{created}\t{{{{.CreatedBy}}}}\t{{{{.Size}}}}\t{{{{.Comment}}}}"
    if opts.quiet:
        fmt = "{{.ID}}"
    ctx.out.write(render_list(fmt, rows, HISTORY_TITLES))
    return 0


@command("tag", "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]", min_args=2, max_args=2)
def tag(ctx, opts, args) -> int:
    repo, tag_ = split_repo_tag(args[1])
    ctx.client.request("POST", f"/images/{args[0]}/tag", {"repo": repo, "tag": tag_ or "latest"}).json()
    return 0


def _refuse_terminal(ctx, output: str) -> None:
    if not output and os.isatty(ctx.out.fileno()):
        raise UsageError("cowardly refusing to save to a terminal. Use the -o flag or redirect", 1)


def _write_stream(ctx, resp, output: str) -> None:
    target = open(output, "wb") if output else ctx.out.buffer
    try:
        while data := resp.body.read_some():
            target.write(data)
    finally:
        resp.close()
        if output:
            target.close()
        else:
            target.flush()


@command("save", "[OPTIONS] IMAGE [IMAGE...]", """
 -o --output string  Write to a file, instead of STDOUT
    --platform list  Save only the given platform(s)
""", min_args=1)
def save(ctx, opts, args) -> int:
    _refuse_terminal(ctx, opts.output)
    resp = ctx.client.request("GET", "/images/get", {"names": list(args)})
    _write_stream(ctx, resp, opts.output)
    return 0


@command("load", "[OPTIONS]", """
 -i --input string  Read from tar archive file, instead of STDIN
    --platform list  Load only the given platform(s)
 -q --quiet bool  Suppress the load output
""", max_args=0)
def load(ctx, opts, args) -> int:
    from skiff.cli.progress import show_progress

    if opts.input:
        try:
            source = open(opts.input, "rb")
        except OSError as e:
            raise UsageError(f"open {opts.input}: {(e.strerror or str(e)).lower()}", 1) from None
        body: object = source.read()  # sized body: the engine sees Content-Length, as from docker's CLI
        source.close()
    else:
        if os.isatty(sys.stdin.fileno()):
            raise UsageError("requested load from stdin, but stdin is empty", 1)
        body = sys.stdin.buffer
    resp = ctx.client.request("POST", "/images/load", {"quiet": 1 if opts.quiet else 0}, body,
                              content_type="application/x-tar")
    show_progress(resp.body, ctx.out, quiet=False)
    resp.close()
    return 0


@command("import", "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]", """
 -c --change list  Apply Dockerfile instruction to the created image
 -m --message string  Set commit message for imported image
    --platform string  Set platform if server is multi-platform capable
""", min_args=1, max_args=2)
def import_(ctx, opts, args) -> int:
    from skiff.cli.progress import show_progress

    source = args[0]
    params: dict = {"message": opts.message or None, "changes": opts.change or None,
                    "platform": opts.platform or None}
    if len(args) > 1:
        repo, tag_ = split_repo_tag(args[1])
        params.update(repo=repo, tag=tag_ or None)
    body = None
    if source == "-":
        params["fromSrc"] = "-"
        body = sys.stdin.buffer
    elif "://" in source:
        params["fromSrc"] = source
    else:
        params["fromSrc"] = "-"
        try:
            with open(source, "rb") as f:
                body = f.read()
        except OSError as e:
            raise UsageError(f"open {source}: {(e.strerror or str(e)).lower()}", 1) from None
    resp = ctx.client.request("POST", "/images/create", params, body, content_type="application/x-tar")
    show_progress(resp.body, ctx.out)
    resp.close()
    return 0
