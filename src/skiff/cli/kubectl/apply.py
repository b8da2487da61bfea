"""`kubectl apply -f`: client-side (last-applied annotation, three-way merge patch) or `--server-side`."""

from __future__ import annotations

import json
import sys
from typing import Any

from skiff.cli.kubectl import options, results
from skiff.cli.kubectl.applypatch import three_way
from skiff.cli.kubectl.create import LAST_APPLIED, annotate_last_applied
from skiff.cli.kubectl.session import CommandError, Session, server_error_text
from skiff.cluster.client.errors import StatusError

HELP = """Apply a configuration to a resource by file name or stdin.

Examples:
  kubectl apply -f ./pod.yaml
  cat pod.json | kubectl apply -f -
  kubectl apply --server-side -f deployment.yaml --force-conflicts"""


def run(word: str, argv: list[str]) -> int:
    p = options.parser("apply", HELP)
    options.add_filename(p, "that contains the configuration to apply")
    options.add_output(p)
    options.add_dry_run(p)
    p.add_argument("--server-side", action="store_true", help="If true, apply runs in the server instead of the client.")
    p.add_argument("--force-conflicts", action="store_true", help="If true, server-side apply will force the changes against conflicts.")
    p.add_argument("--field-manager", default="", help="Name of the manager used to track field ownership.")
    p.add_argument("--validate", default="strict", help="strict (or true), warn, ignore (or false)")
    p.add_argument("--prune", action="store_true", help="Not supported by skiff kubectl.")
    opts = p.parse_intermixed_args(argv)
    if not opts.filename:
        raise CommandError("must specify one of -f and -k")
    if opts.prune:
        raise CommandError("--prune is not supported by skiff kubectl")
    from skiff.cli.kubectl import manifests

    session = Session(opts)
    failed = False
    items = manifests.load(opts.filename, opts.recursive, verb="apply")
    for m, res, ns in manifests.placed(session, items):
        obj = m.obj
        try:
            if opts.server_side:
                _server_side(session, res, ns, obj, opts)
            else:
                _client_side(session, res, ns, obj, opts, m.source)
        except StatusError as e:
            sys.stderr.write(_apply_error(e, m.source, opts.server_side) + "\n")
            failed = True
    return 1 if failed or any(m.unmapped for m in items) else 0


def _apply_error(e: StatusError, source: str, server_side: bool) -> str:
    if server_side and e.code == 409:
        return (f"error: Apply failed with conflicts: {e.message}\nPlease review the fields above--they currently have "
                "other managers. Rerun with --force-conflicts to take ownership of them.")
    return server_error_text(e, f'error when applying "{source}"')


def _server_side(session: Session, res: Any, ns: str | None, obj: dict[str, Any], opts: Any) -> None:
    params = {"fieldManager": opts.field_manager or "kubectl", "force": True if opts.force_conflicts else None,
              **results.dry_run_params(opts.dry_run), **results.validation_params(opts.validate)}
    name = (obj.get("metadata") or {}).get("name", "")
    if opts.dry_run == "client":
        results.report(obj, "serverside-applied", opts.output, opts.dry_run)
        return
    out = session.client.patch(res, name, json.dumps(obj).encode(), "apply", ns, params=params)
    results.report(out, "serverside-applied", opts.output, opts.dry_run)


def _client_side(session: Session, res: Any, ns: str | None, obj: dict[str, Any], opts: Any, source: str) -> None:
    name = (obj.get("metadata") or {}).get("name", "")
    if not name:
        raise CommandError(f'error when retrieving current configuration of:\nResource: "{res.group_version}, '
                           f'Resource={res.plural}", GroupVersionKind: "{res.group_version}, Kind={res.kind}"\n'
                           f'Name: "", Namespace: "{ns or ""}"\nfrom server for: "{source}": resource name may not be empty')
    modified = json.loads(json.dumps(obj))
    annotate_last_applied(modified)
    params = {**results.dry_run_params(opts.dry_run), **results.validation_params(opts.validate),
              "fieldManager": opts.field_manager or "kubectl-client-side-apply"}
    try:
        live = session.client.get(res, name, ns)
    except StatusError as e:
        if e.code != 404:
            raise
        if opts.dry_run == "client":
            results.report(modified, "created", opts.output, opts.dry_run)
            return
        created = session.client.create(res, modified, ns, params=params)
        results.report(created, "created", opts.output, opts.dry_run)
        return
    annotation = ((live.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED)
    if annotation is None:
        sys.stderr.write(f"Warning: resource {res.plural}/{name} is missing the {LAST_APPLIED} annotation which is "
                         "required by kubectl apply. kubectl apply should only be used on resources created declaratively "
                         "by either kubectl create --save-config or kubectl apply. The missing annotation will be patched "
                         "automatically.\n")
    try:
        original = json.loads(annotation) if annotation else {}
    except ValueError:
        original = {}
    node = _schema_node(modified)
    if node is not None:  # a built-in kind: a strategic merge patch, as kubectl sends
        from skiff.cli.kubectl import strategicdiff

        patch, patch_type = strategicdiff.three_way(original, modified, live, node), "strategic"
    else:  # custom resources get a JSON merge patch, as in kubectl
        patch, patch_type = three_way(original, modified, live), "merge"
    if not patch:
        results.report(live, "unchanged", opts.output, opts.dry_run)
        return
    if opts.dry_run == "client":
        results.report(live, "configured", opts.output, opts.dry_run)
        return
    out = session.client.patch(res, name, patch, patch_type, ns, params=params)
    results.report(out, "configured", opts.output, opts.dry_run)


def _schema_node(obj: dict[str, Any]) -> Any:
    """The built-in kind's schema (the one the server patches by), None for custom resources."""
    from skiff.cluster.api import schema

    return schema.node_for_kind(obj.get("apiVersion") or "", obj.get("kind") or "")
