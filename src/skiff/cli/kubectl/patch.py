"""`kubectl patch TYPE NAME -p PATCH [--type strategic|merge|json]`: the patch is sent as given;
the server applies it (strategic merge by the kinds' schema)."""

from __future__ import annotations

import json
import sys
from typing import Any

from skiff.cli.kubectl import options, results, targets
from skiff.cli.kubectl.session import CommandError, Session

HELP = """Update fields of a resource using strategic merge patch, a JSON merge patch, or a JSON patch.

Examples:
  kubectl patch node k8s-node-1 -p '{"spec":{"unschedulable":true}}'
  kubectl patch pod valid-pod -p '{"spec":{"containers":[{"name":"kubernetes-serve-hostname","image":"new image"}]}}'
  kubectl patch pod valid-pod --type='json' -p='[{"op": "replace", "path": "/spec/containers/0/image", "value":"new image"}]'
  kubectl patch deployment nginx-deployment --subresource='scale' --type='merge' -p '{"spec":{"replicas":2}}'"""

TYPES = ("json", "merge", "strategic")


def parse_patch(text: str) -> Any:
    """kubectl accepts the patch as JSON or YAML."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise CommandError(f"unable to parse \"{text}\": {e}") from None


def run(word: str, argv: list[str]) -> int:
    p = options.parser("patch", HELP, usage="kubectl patch (-f FILENAME | TYPE NAME) [-p PATCH|--patch-file FILE] "
                                            "[options]")
    p.add_argument("words", nargs="*", metavar="TYPE NAME")
    options.add_filename(p, "identifying the resource to update")
    p.add_argument("-p", "--patch", default="", help="The patch to be applied to the resource JSON file.")
    p.add_argument("--patch-file", default="", help="A file containing a patch to be applied to the resource.")
    p.add_argument("--type", default="strategic", help="The type of patch being provided; one of [json merge strategic]")
    p.add_argument("--subresource", default="", help="If specified, patch will operate on the subresource.")
    p.add_argument("--field-manager", default="kubectl-patch", help="Name of the manager used to track field ownership.")
    options.add_output(p)
    options.add_dry_run(p)
    opts = p.parse_intermixed_args(argv)
    if opts.type not in TYPES:
        raise CommandError(f"--type must be one of [json merge strategic], not \"{opts.type}\"")
    text = opts.patch
    if opts.patch_file:
        if text:
            raise CommandError("--patch and --patch-file are mutually exclusive")
        with open(opts.patch_file) as f:
            text = f.read()
    if not text:
        raise CommandError("must specify -p to patch")
    body = parse_patch(text)
    session = Session(opts)
    work = []
    if opts.filename:
        from skiff.cli.kubectl import manifests

        for m in manifests.load(opts.filename, opts.recursive, verb="patch"):
            meta = m.obj.get("metadata") or {}
            res = manifests.resource_of(session, m)
            work.append((res, session.ns_for(res, meta.get("namespace")), meta.get("name", "")))
    else:
        if not opts.words:
            raise CommandError("You must provide one or more resources by argument or filename.\n"
                               "Example resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n"
                               "   '<resource> <name>'\n   '<resource>'")
        for target in targets.resolve(session, opts.words, allow_all=False):
            if not target.names:
                raise CommandError("resource(s) were provided, but no name was specified")
            work += [(target.resource, session.ns_for(target.resource), n) for n in target.names]
    params = {**results.dry_run_params(opts.dry_run), "fieldManager": opts.field_manager}
    for res, ns, name in work:
        before = session.client.get(res, name, ns, subresource=opts.subresource or None)
        if opts.dry_run == "client":
            results.report(before, "patched", opts.output, opts.dry_run)
            continue
        after = session.client.patch(res, name, body, opts.type, ns, subresource=opts.subresource or None,
                                     params=params)
        changed = _strip(before) != _strip(after)
        if opts.output:
            results.report(after, "patched", opts.output, opts.dry_run)
        else:
            sys.stdout.write(f"{res.kind_qualified}/{name} {'patched' if changed else 'patched (no change)'}"
                             f"{results.suffix(opts.dry_run)}\n")
    return 0


def _strip(obj: dict[str, Any]) -> dict[str, Any]:
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in ("resourceVersion", "managedFields",
                                                                                "generation")}
    return {**obj, "metadata": meta}
