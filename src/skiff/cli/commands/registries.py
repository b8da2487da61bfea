"""Registry commands: pull, push, login, logout, search. Credentials live in the docker CLI's
config.json (`$DOCKER_CONFIG` or `~/.docker`) and go to the engine as `X-Registry-Auth`.
(Not named registry.py: `registry` is this package's command-table helper.)"""

from __future__ import annotations

import sys

from skiff.cli.commands import Command, parse_filters, registry
from skiff.cli.commands.images import split_repo_tag
from skiff.cli.flags import UsageError
from skiff.engine.registry import dockerconfig
from skiff.engine.registry.hosts import auth_key, normalize_server

COMMANDS: dict[str, Command] = {}
command = registry(COMMANDS)

HUB = "https://index.docker.io/v1/"


def _domain(ref: str) -> str:
    first, sep, _ = ref.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def auth_header(ref: str) -> dict[str, str]:
    """The X-Registry-Auth the docker CLI sends for a reference: stored credentials, or `{}`."""
    try:
        cfg = dockerconfig.get_auth(auth_key(normalize_server(_domain(ref))))
    except ValueError as e:
        raise UsageError(str(e), 1) from None
    if cfg.empty:
        return {"X-Registry-Auth": dockerconfig.AuthConfig().header()}
    return {"X-Registry-Auth": cfg.header()}


def canonical(ref: str) -> str:
    first = ref.split("/", 1)[0]
    if "/" not in ref:
        return "docker.io/library/" + ref
    if "." in first or ":" in first or first == "localhost":
        return ref
    return "docker.io/" + ref


@command("pull", "[OPTIONS] NAME[:TAG|@DIGEST]", """
 -a --all-tags bool  Download all tagged images in the repository
    --platform string  Set platform if server is multi-platform capable
 -q --quiet bool  Suppress verbose output
""", min_args=1, max_args=1)
def pull(ctx, opts, args) -> int:
    from skiff.cli.progress import show_progress

    ref = args[0]
    params: dict = {"fromImage": ref, "platform": opts.platform or None}
    if "@" not in ref:
        repo, tag = split_repo_tag(ref)
        if tag and opts.all_tags:
            raise UsageError("tag can't be used with --all-tags/-a", 1)
        params.update(fromImage=repo, tag=None if opts.all_tags else (tag or "latest"))
        if not tag and not opts.all_tags:
            ctx.out.write("Using default tag: latest\n")
            ref += ":latest"
    resp = ctx.client.request("POST", "/images/create", params, headers=auth_header(ref))
    show_progress(resp.body, ctx.out, quiet=opts.quiet)
    resp.close()
    ctx.out.write(canonical(ref) + "\n")
    return 0


@command("push", "[OPTIONS] NAME[:TAG]", """
 -a --all-tags bool  Push all tags of an image to the repository
    --platform string  Push a platform-specific manifest as a single-platform image to the registry
 -q --quiet bool  Suppress verbose output
""", min_args=1, max_args=1)
def push(ctx, opts, args) -> int:
    from skiff.cli.progress import show_progress

    repo, tag = split_repo_tag(args[0])
    if tag and opts.all_tags:
        raise UsageError("tag can't be used with --all-tags/-a", 1)
    if not tag and not opts.all_tags:
        ctx.out.write("Using default tag: latest\n")
        tag = "latest"
    resp = ctx.client.request("POST", f"/images/{repo}/push", {"tag": tag or None}, headers=auth_header(repo))
    show_progress(resp.body, ctx.out, quiet=opts.quiet)
    resp.close()
    if opts.quiet:
        ctx.out.write(canonical(f"{repo}:{tag}" if tag else repo) + "\n")
    return 0


def _read_credentials(ctx, opts, server: str) -> tuple[str, str]:
    username, password = opts.username or "", opts.password or ""
    if opts.password_stdin:
        if opts.password:
            raise UsageError("--password and --password-stdin are mutually exclusive", 1)
        if not username:
            raise UsageError("Must provide --username with --password-stdin", 1)
        password = sys.stdin.read().rstrip("\r\n")
    elif password:
        ctx.err.write("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n")
    if username and password:
        return username, password
    if not sys.stdin.isatty():
        raise UsageError("Error: Cannot perform an interactive login from a non TTY device", 1)
    import getpass

    stored = dockerconfig.get_auth(auth_key(normalize_server(server)))
    if not username:
        hint = f" ({stored.username})" if stored.username else ""
        username = input(f"Username{hint}: ").strip() or stored.username
    if not username:
        raise UsageError("Error: Non-null Username Required", 1)
    password = password or getpass.getpass("Password: ")
    if not password:
        raise UsageError("Error: Password Required", 1)
    return username, password


@command("login", "[OPTIONS] [SERVER]", """
 -p --password string  Password or Personal Access Token (PAT)
    --password-stdin bool  Take the Password or Personal Access Token (PAT) from stdin
 -u --username string  Username
""", max_args=1)
def login(ctx, opts, args) -> int:
    server = args[0] if args else HUB
    username, password = _read_credentials(ctx, opts, server)
    key = auth_key(normalize_server(server))
    result = ctx.client.post("/auth", body={"username": username, "password": password,
                                            "serveraddress": key}) or {}
    path = dockerconfig.store_auth(key, username, password)
    ctx.err.write(f"WARNING! Your credentials are stored unencrypted in '{path}'.\n")
    ctx.out.write((result.get("Status") or "Login Succeeded") + "\n")
    return 0


@command("logout", "[SERVER]", max_args=1)
def logout(ctx, opts, args) -> int:
    server = args[0] if args else HUB
    key = auth_key(normalize_server(server))
    try:
        removed = dockerconfig.erase_auth(key)
    except ValueError as e:
        raise UsageError(str(e), 1) from None
    if removed:
        ctx.out.write(f"Removing login credentials for {key}\n")
    else:
        ctx.out.write(f"Not logged in to {key}\n")
    return 0


class SearchRow:
    def __init__(self, r: dict, trunc: bool):
        desc = (r.get("description") or "").replace("\n", " ")
        self.Name = r.get("name", "")
        self.Description = desc[:44] + "…" if trunc and len(desc) > 45 else desc
        self.StarCount = str(r.get("star_count", 0))
        self.IsOfficial = "[OK]" if r.get("is_official") else ""
        self.IsAutomated = "[OK]" if r.get("is_automated") else ""


SEARCH_TITLES = {"Name": "NAME", "Description": "DESCRIPTION", "StarCount": "STARS", "IsOfficial": "OFFICIAL",
                 "IsAutomated": "AUTOMATED"}


@command("search", "[OPTIONS] TERM", """
 -f --filter filter  Filter output based on conditions provided
    --format string  Pretty-print search using a Go template
    --limit int=25  Max number of search results
    --no-trunc bool  Don't truncate output
""", min_args=1, max_args=1)
def search(ctx, opts, args) -> int:
    from skiff.cli.formatter import render_list

    filters = parse_filters(opts.filter)
    params = {"term": args[0], "limit": opts.limit, "filters": filters or None}
    results = ctx.client.request("GET", "/images/search", params, headers=auth_header(args[0])).json() or []
    rows = [SearchRow(r, not opts.no_trunc) for r in results]
    fmt = opts.format or "table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}"
    ctx.out.write(render_list(fmt, rows, SEARCH_TITLES))
    return 0
