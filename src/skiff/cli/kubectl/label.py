"""`kubectl label` and `kubectl annotate`: add, overwrite (--overwrite) and remove (`key-`)."""

from __future__ import annotations

import sys
from typing import Any

from skiff.cli.kubectl import options, printers, targets
from skiff.cli.kubectl.session import CommandError, Session, server_error_text
from skiff.cluster.client.errors import StatusError

HELP = {
    "label": """Update the labels on a resource.

Examples:
  kubectl label pods foo unhealthy=true
  kubectl label --overwrite pods foo status=unhealthy
  kubectl label pods --all status=unhealthy
  kubectl label nodes node1 disktype=ssd
  kubectl label pods foo bar-""",
    "annotate": """Update the annotations on one or more resources.

Examples:
  kubectl annotate pods foo description='my frontend'
  kubectl annotate --overwrite pods foo description='my frontend running nginx'
  kubectl annotate pods foo description-""",
}


def split_changes(words: list[str]) -> tuple[list[str], dict[str, str], list[str]]:
    """(resource words, keys to set, keys to remove): a word with `=` or ending in `-` is a change. Pure."""
    resources: list[str] = []
    sets: dict[str, str] = {}
    removes: list[str] = []
    for word in words:
        if "=" in word:
            key, _, value = word.partition("=")
            if not key:
                raise CommandError(f"invalid label spec: {word}")
            sets[key] = value
        elif word.endswith("-") and len(word) > 1 and resources:
            removes.append(word[:-1])
        else:
            resources.append(word)
    for key in removes:
        if key in sets:
            raise CommandError(f"can not both modify and remove the following {'label(s)'} in the same command: {key}")
    return resources, sets, removes


def changes_for(current: dict[str, str], sets: dict[str, str], removes: list[str], overwrite: bool,
                field: str = "labels") -> dict[str, Any]:
    """The merge patch of the map (None removes a key); {} when nothing changes. Pure."""
    if not overwrite:
        for key, value in sets.items():
            if key in current and current[key] != value:
                if field == "annotations":  # annotate words it differently
                    raise CommandError("--overwrite is false but found the following declared annotation(s): "
                                       f"'{key}' already has a value ({current[key]})")
                raise CommandError(f"'{key}' already has a value ({current[key]}), and --overwrite is false")
    patch: dict[str, Any] = {k: v for k, v in sets.items() if current.get(k) != v}
    patch.update({k: None for k in removes if k in current})
    return patch


def run(word: str, argv: list[str]) -> int:
    field = "labels" if word == "label" else "annotations"
    p = options.parser(word, HELP[word])
    p.add_argument("words", nargs="*", metavar="TYPE NAME KEY_1=VAL_1 ... KEY_N=VAL_N")
    options.add_filename(p, f"identifying the resource to update the {field}")
    options.add_selector(p)
    options.add_output(p)
    options.add_dry_run(p)
    p.add_argument("--overwrite", action="store_true", help=f"If true, allow {field} to be overwritten.")
    p.add_argument("--all", action="store_true", help="Select all resources, in the namespace of the specified resource types")
    p.add_argument("-A", "--all-namespaces", action="store_true", help="If true, check the specified action in all namespaces.")
    p.add_argument("--resource-version", default="", help="If non-empty, the update will only succeed if this is the current resource-version.")
    p.add_argument("--list", action="store_true", help=f"If true, display the {field} for a given resource.")
    opts = p.parse_intermixed_args(argv)
    words, sets, removes = split_changes(opts.words)
    if not sets and not removes and not opts.list:
        raise CommandError(f"at least one {word} update is required")
    session = Session(opts)
    objects = _select(session, words, opts)
    failed = False
    verb = "labeled" if word == "label" else "annotated"
    for res, obj in objects:
        meta = obj.get("metadata") or {}
        current = meta.get(field) or {}
        if opts.list:
            sys.stdout.write("".join(f"{k}={v}\n" for k, v in sorted(current.items())))
            continue
        for key in removes:
            if key not in current:
                sys.stdout.write(f'{word} "{key}" not found.\n')
        try:
            patch = changes_for(current, sets, removes, opts.overwrite, field)
        except CommandError as e:
            sys.stderr.write(f"error: {e}\n")
            failed = True
            continue
        name = meta.get("name", "")
        if not patch:
            _report(res, obj, f"not {verb}" if word == "label" else verb, opts)
            continue
        body: dict[str, Any] = {"metadata": {field: patch}}
        if opts.resource_version:
            body["metadata"]["resourceVersion"] = opts.resource_version
        if opts.dry_run == "client":
            _report(res, obj, verb, opts)
            continue
        params = {"dryRun": "All"} if opts.dry_run == "server" else None
        try:
            out = session.client.patch(res, name, body, "merge", meta.get("namespace") if res.namespaced else None,
                                       params=params)
        except StatusError as e:
            sys.stderr.write(server_error_text(e) + "\n")
            failed = True
            continue
        removed_only = word == "label" and all(v is None for v in patch.values())
        _report(res, out, "unlabeled" if removed_only else verb, opts)
    return 1 if failed else 0


def _select(session: Session, words: list[str], opts: Any) -> list[tuple[Any, dict[str, Any]]]:
    out = []
    if opts.filename:
        from skiff.cli.kubectl import manifests

        for m in manifests.load(opts.filename, opts.recursive, verb="update"):
            meta = m.obj.get("metadata") or {}
            res = manifests.resource_of(session, m)
            out.append((res, session.client.get(res, meta.get("name", ""), session.ns_for(res, meta.get("namespace")))))
        return out
    if not words:
        raise CommandError("one or more resources must be specified as <resource> <name> or <resource>/<name>")
    for target in targets.resolve(session, words, allow_all=False):
        res = target.resource
        if target.names:
            out += [(res, session.client.get(res, n, session.ns_for(res))) for n in target.names]
        elif opts.all or opts.selector or opts.field_selector:
            ns = None if opts.all_namespaces else session.ns_for(res)
            listed = session.client.list(res, ns, params={"labelSelector": opts.selector, "fieldSelector": opts.field_selector})
            out += [(res, {"apiVersion": listed.get("apiVersion"), "kind": res.kind, **item}) for item in listed.get("items") or []]
        else:
            raise CommandError("resource(s) were provided, but no name was specified")
    return out


def _report(res: Any, obj: dict[str, Any], verb: str, opts: Any) -> None:
    suffix = {"client": " (dry run)", "server": " (server dry run)"}.get(opts.dry_run, "")
    name = (obj.get("metadata") or {}).get("name", "")
    if opts.output in ("json", "yaml"):
        obj = printers.without_managed_fields(obj)
        sys.stdout.write(printers.to_json(obj) if opts.output == "json" else printers.to_yaml(obj))
    elif opts.output == "name":
        sys.stdout.write(f"{res.kind_qualified}/{name}\n")
    else:
        sys.stdout.write(f"{res.kind_qualified}/{name} {verb}{suffix}\n")
