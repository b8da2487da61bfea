"""`kubectl config`: view, get-contexts, current-context, use-context, set-context, get-clusters, get-users."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from skiff.cli.kubectl import options, printers
from skiff.cli.kubectl.session import CommandError
from skiff.cluster.client import kubeconfig, loader

HELP = """Modify kubeconfig files using subcommands like "kubectl config set current-context my-context".

Available Commands:
  current-context   Display the current-context
  get-clusters      Display clusters defined in the kubeconfig
  get-contexts      Describe one or many contexts
  get-users         Display users defined in the kubeconfig
  set-context       Set a context entry in kubeconfig
  use-context       Set the current-context in a kubeconfig file
  view              Display merged kubeconfig settings or a specified kubeconfig file"""

SUBCOMMANDS = ("view", "get-contexts", "current-context", "use-context", "use", "set-context", "get-clusters", "get-users")


def run(word: str, argv: list[str]) -> int:
    index = options.command_word(argv)
    sub = argv[index] if index is not None else ""
    if index is None or sub not in SUBCOMMANDS:
        if sub:
            raise CommandError(f'unknown command "{sub}" for "kubectl config"')
        return options.group_help("config", HELP, argv)
    rest = argv[:index] + argv[index + 1:]
    p = options.parser(f"config {sub}", HELP)
    p.add_argument("args", nargs="*")
    options.add_output(p)
    p.add_argument("--minify", action="store_true", help="Remove all information not used by current-context from the output")
    p.add_argument("--raw", action="store_true", help="Display raw byte data and sensitive data")
    p.add_argument("--flatten", action="store_true", help="Flatten the resulting kubeconfig file into self-contained output")
    p.add_argument("--current", action="store_true", help="Modify the current context")
    p.add_argument("--no-headers", action="store_true", help="When using the default output format, don't print headers.")
    opts = p.parse_intermixed_args(rest)
    explicit = opts.kubeconfig
    paths = [explicit] if explicit else kubeconfig.default_paths()
    config = loader.read(paths, explicit=bool(explicit))
    return HANDLERS[sub](config, paths, opts)


def _view(config: dict[str, Any], paths: list[str], opts: Any) -> int:
    shown = kubeconfig.minified(config, opts.context) if opts.minify else config
    if opts.flatten:
        shown = _flatten(shown)
    shown = kubeconfig.redacted(shown, raw=opts.raw or opts.flatten)
    output = opts.output or "yaml"
    if output == "json":
        import json

        sys.stdout.write(json.dumps(go_order(shown), indent=4) + "\n")
    elif output == "yaml":
        sys.stdout.write(printers.to_yaml(shown))
    elif output.startswith("jsonpath="):
        from skiff.cli.kubectl.jsonpath import render

        sys.stdout.write(render(output.split("=", 1)[1].strip("'"), shown))
    else:
        raise CommandError(f'unable to match a printer suitable for the output format "{output}"')
    return 0


# Field order of client-go's Config structs, which `config view -o json` follows.
ORDER = {
    "config": ("kind", "apiVersion", "preferences", "clusters", "users", "contexts", "current-context", "extensions"),
    "cluster": ("server", "tls-server-name", "insecure-skip-tls-verify", "certificate-authority",
                "certificate-authority-data", "proxy-url", "disable-compression", "extensions"),
    "user": ("client-certificate", "client-certificate-data", "client-key", "client-key-data", "token", "tokenFile",
             "as", "as-uid", "as-groups", "as-user-extra", "username", "password", "auth-provider", "exec", "extensions"),
    "context": ("cluster", "user", "namespace", "extensions"),
}


def _ordered(d: dict[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    out = {k: d[k] for k in order if k in d}
    out.update({k: v for k, v in d.items() if k not in out})
    return out


def go_order(config: dict[str, Any]) -> dict[str, Any]:
    """The config with its keys in client-go's struct order (Go's JSON encoder keeps it). Pure."""
    out = _ordered({"kind": "Config", "apiVersion": "v1", "preferences": {}, **config}, ORDER["config"])
    for section, inner in (("clusters", "cluster"), ("users", "user"), ("contexts", "context")):
        out[section] = [{"name": item.get("name", ""), inner: _ordered(item.get(inner) or {}, ORDER[inner])}
                        for item in config.get(section) or []]
    return out


def _flatten(config: dict[str, Any]) -> dict[str, Any]:
    """Inline the referenced certificate files as *-data."""
    import base64

    def inline(entry: dict[str, Any], pairs: tuple[tuple[str, str], ...]) -> dict[str, Any]:
        out = dict(entry)
        for file_key, data_key in pairs:
            if out.get(file_key):
                out[data_key] = base64.b64encode(Path(out.pop(file_key)).read_bytes()).decode()
        return out

    flat = dict(config)
    flat["clusters"] = [{"name": c["name"], "cluster": inline(c.get("cluster") or {}, (("certificate-authority", "certificate-authority-data"),))}
                        for c in config.get("clusters") or []]
    flat["users"] = [{"name": u["name"], "user": inline(u.get("user") or {}, (("client-certificate", "client-certificate-data"),
                                                                                ("client-key", "client-key-data")))}
                     for u in config.get("users") or []]
    return flat


def _get_contexts(config: dict[str, Any], paths: list[str], opts: Any) -> int:
    current = config.get("current-context", "")
    wanted = opts.args
    contexts = [c for c in config.get("contexts") or [] if not wanted or c.get("name") in wanted]
    missing = [w for w in wanted if w not in {c.get("name") for c in contexts}]
    if opts.output == "name":
        sys.stdout.write("".join(c.get("name", "") + "\n" for c in contexts))
    else:
        rows = [] if opts.no_headers else [["CURRENT", "NAME", "CLUSTER", "AUTHINFO", "NAMESPACE"]]
        for c in contexts:
            ctx = c.get("context") or {}
            rows.append(["*" if c.get("name") == current else "", c.get("name", ""), ctx.get("cluster", ""),
                         ctx.get("user", ""), ctx.get("namespace", "")])
        sys.stdout.write(printers.align(rows))
    if missing:
        sys.stderr.write("".join(f'error: context {m} not found\n' for m in missing))
        return 1
    return 0


def _current_context(config: dict[str, Any], paths: list[str], opts: Any) -> int:
    current = config.get("current-context")
    if not current:
        raise CommandError("current-context is not set")
    sys.stdout.write(current + "\n")
    return 0


def _file_for(paths: list[str], predicate: Any) -> str:
    """The kubeconfig file a change goes to: the first that satisfies `predicate`, else the first file."""
    for path in paths:
        p = Path(path)
        if p.exists():
            doc = loader.parse_yaml(p.read_text()) or {}
            if predicate(doc):
                return path
    return paths[0]


def _edit_file(path: str, change: Any) -> None:
    p = Path(path)
    doc = (loader.parse_yaml(p.read_text()) if p.exists() else None) or {
        "apiVersion": "v1", "kind": "Config", "clusters": [], "users": [], "contexts": [], "preferences": {}}
    change(doc)
    loader.write(path, doc)


def _use_context(config: dict[str, Any], paths: list[str], opts: Any) -> int:
    if len(opts.args) != 1:
        raise CommandError("Unexpected args: " + str(opts.args) if opts.args else "empty context names are not allowed")
    name = opts.args[0]
    if kubeconfig.named(config, "contexts", name) is None:
        raise CommandError(f'no context exists with the name: "{name}"')
    path = _file_for(paths, lambda d: bool(d.get("current-context")))
    _edit_file(path, lambda d: d.__setitem__("current-context", name))
    sys.stdout.write(f'Switched to context "{name}".\n')
    return 0


def _set_context(config: dict[str, Any], paths: list[str], opts: Any) -> int:
    if opts.current:
        if opts.args:
            raise CommandError("you cannot specify both a context name and --current")
        name = config.get("current-context") or ""
        if not name:
            raise CommandError("no current context is set")
    elif len(opts.args) == 1:
        name = opts.args[0]
    else:
        raise CommandError("you must specify a non-empty context name or --current")
    existed = kubeconfig.named(config, "contexts", name) is not None
    path = _file_for(paths, lambda d: any(c.get("name") == name for c in d.get("contexts") or []))

    def change(doc: dict[str, Any]) -> None:
        contexts = doc.setdefault("contexts", []) or []
        doc["contexts"] = contexts
        entry = next((c for c in contexts if c.get("name") == name), None)
        if entry is None:
            entry = {"name": name, "context": {}}
            contexts.append(entry)
        ctx = entry.setdefault("context", {}) or {}
        entry["context"] = ctx
        for key, value in (("namespace", opts.namespace), ("cluster", opts.cluster), ("user", opts.user)):
            if value is not None:
                ctx[key] = value

    _edit_file(path, change)
    sys.stdout.write(f'Context "{name}" {"modified" if existed else "created"}.\n')
    return 0


def _get_names(section: str, title: str) -> Any:
    def handler(config: dict[str, Any], paths: list[str], opts: Any) -> int:
        sys.stdout.write(title + "\n" + "".join(f"{c.get('name', '')}\n" for c in config.get(section) or []))
        return 0
    return handler


HANDLERS = {"view": _view, "get-contexts": _get_contexts, "current-context": _current_context,
            "use-context": _use_context, "use": _use_context, "set-context": _set_context,
            "get-clusters": _get_names("clusters", "NAME"), "get-users": _get_names("users", "NAME")}
