"""`kubectl delete`: by name, -f, -l, --all; --grace-period, --now, --force, --cascade, --wait."""

from __future__ import annotations

import sys
import time
from typing import Any

from skiff.cli.kubectl import options, targets
from skiff.cli.kubectl.session import CommandError, Session, server_error_text
from skiff.cluster.client.errors import StatusError
from skiff.cluster.client.paths import Resource

HELP = """Delete resources by file names, stdin, resources and names, or by resources and label selector.

Examples:
  kubectl delete -f ./pod.json
  kubectl delete pod,service baz foo
  kubectl delete pods,services -l name=myLabel
  kubectl delete pod foo --now
  kubectl delete pods --all"""

CASCADE = {"background": "Background", "true": "Background", "foreground": "Foreground", "orphan": "Orphan",
           "false": "Orphan"}


def build_parser() -> options.Parser:
    p = options.parser("delete", HELP)
    p.add_argument("words", nargs="*", metavar="TYPE [NAME | -l label | --all] | TYPE/NAME")
    options.add_filename(p, "containing the resource to delete.")
    options.add_selector(p)
    options.add_output(p)
    options.add_dry_run(p)
    p.add_argument("--all", action="store_true", help="Delete all resources, in the namespace of the specified resource types.")
    p.add_argument("-A", "--all-namespaces", action="store_true", help="If present, list the requested object(s) across all namespaces.")
    p.add_argument("--grace-period", type=int, default=-1, help="Period of time in seconds given to the resource to terminate gracefully.")
    p.add_argument("--now", action="store_true", help="If true, resources are signaled for immediate shutdown (same as --grace-period=1).")
    p.add_argument("--force", action="store_true", help="If true, immediately remove resources from API and bypass graceful deletion.")
    p.add_argument("--cascade", nargs="?", const="background", default="background",
                   help='Must be "background", "orphan", or "foreground".')
    p.add_argument("--wait", nargs="?", const="true", default="true", help="If true, wait for resources to be gone before returning.")
    p.add_argument("--timeout", default="0", help="The length of time to wait before giving up on a delete.")
    p.add_argument("--ignore-not-found", action="store_true", help='Treat "resource not found" as a successful delete.')
    return p


def delete_options(opts: Any) -> dict[str, Any]:
    """The DeleteOptions body kubectl sends for these flags. Pure."""
    cascade = CASCADE.get(str(opts.cascade).lower())
    if cascade is None:
        raise CommandError(f'invalid cascade value ({opts.cascade}). Must be "background", "foreground", or "orphan".')
    body: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": cascade}
    grace = opts.grace_period
    if opts.now:
        if grace >= 0:
            raise CommandError("--now and --grace-period cannot be specified together")
        grace = 1
    if opts.force and grace < 0:
        grace = 0
    if grace == 0 and not opts.force:
        grace = 1  # kubectl: a zero grace period without --force means "as soon as possible"
    if grace >= 0:
        body["gracePeriodSeconds"] = grace
    if opts.dry_run == "server":
        body["dryRun"] = ["All"]
    return body


def run(word: str, argv: list[str]) -> int:
    opts = build_parser().parse_intermixed_args(argv)
    session = Session(opts)
    body = delete_options(opts)
    if opts.force and body.get("gracePeriodSeconds") == 0:
        sys.stderr.write("Warning: Immediate deletion does not wait for confirmation that the running resource has been "
                         "terminated. The resource may continue to run on the cluster indefinitely.\n")
    work: list[tuple[Resource, str | None, str, str]] = []  # (resource, namespace, name, source)
    if opts.filename:
        from skiff.cli.kubectl import manifests

        if opts.words:
            raise CommandError("resource(s) were provided, but no name was specified")
        for m in manifests.load(opts.filename, opts.recursive, verb="delete"):
            meta = m.obj.get("metadata") or {}
            res = manifests.resource_of(session, m)
            work.append((res, session.ns_for(res, meta.get("namespace")), meta.get("name", ""), m.source))
    else:
        if not opts.words:
            sys.stderr.write(targets.require_type_message("delete") +
                             "error: Required resource not specified.\n")
            return 1
        for target in targets.resolve(session, opts.words):
            res = target.resource
            if target.names:
                if opts.all or opts.selector:
                    raise CommandError("name cannot be provided when a selector is specified" if opts.selector else
                                       "name cannot be provided when --all is specified")
                work += [(res, session.ns_for(res), n, "") for n in target.names]
                continue
            if not (opts.all or opts.selector or opts.field_selector):
                raise CommandError("resource(s) were provided, but no name was specified")
            ns = None if opts.all_namespaces else session.ns_for(res)
            listed = session.client.list(res, ns, params={"labelSelector": opts.selector,
                                                           "fieldSelector": opts.field_selector})
            for item in listed.get("items") or []:
                meta = item.get("metadata") or {}
                work.append((res, meta.get("namespace") if res.namespaced else None, meta.get("name", ""), ""))
    if not work and not opts.filename:
        sys.stderr.write("No resources found\n")
        return 0
    failed = False
    pending: list[tuple[Resource, str | None, str, str]] = []
    for res, ns, name, source in work:
        try:
            reply = _delete_one(session, res, ns, name, body, opts)
        except StatusError as e:
            if e.code == 404 and opts.ignore_not_found:
                continue
            sys.stderr.write(server_error_text(e, f'error when deleting "{source}"' if source else "") + "\n")
            failed = True
            continue
        _report(res, name, opts)
        if reply.get("kind") != "Status" and opts.dry_run == "none":
            pending.append((res, ns, name, (reply.get("metadata") or {}).get("uid", "")))
    if options.parse_bool(str(opts.wait)) and pending:
        failed |= not _wait_gone(session, pending, opts.timeout)
    return 1 if failed else 0


def _delete_one(session: Session, res: Resource, ns: str | None, name: str, body: dict[str, Any], opts: Any) -> dict:
    if opts.dry_run == "client":
        session.client.get(res, name, ns)
        return {"kind": "Status"}
    params = {"dryRun": "All"} if opts.dry_run == "server" else None
    return session.client.delete(res, name, ns, options=body, params=params)


def _report(res: Resource, name: str, opts: Any) -> None:
    suffix = {"client": " (dry run)", "server": " (server dry run)"}.get(opts.dry_run, "")
    if opts.output == "name":
        sys.stdout.write(f"{res.kind_qualified}/{name}\n")
    else:
        sys.stdout.write(f'{res.kind_qualified} "{name}" deleted{suffix}\n')
    sys.stdout.flush()


def _wait_gone(session: Session, pending: list[tuple[Resource, str | None, str, str]], timeout: str) -> bool:
    """Poll until every object is gone (or replaced by one with another uid)."""
    from skiff.cli.kubectl.session import _seconds

    limit = _seconds(timeout) or 7 * 24 * 3600.0
    deadline = time.monotonic() + limit
    delay = 0.05
    left = list(pending)
    while left:
        still = []
        for res, ns, name, uid in left:
            try:
                obj = session.client.get(res, name, ns)
            except StatusError as e:
                if e.code == 404:
                    continue
                raise
            if (obj.get("metadata") or {}).get("uid") == uid:
                still.append((res, ns, name, uid))
        left = still
        if not left:
            return True
        if time.monotonic() > deadline:
            for res, _, name, _ in left:
                sys.stderr.write(f'error: timed out waiting for the condition on {res.plural}/{name}\n')
            return False
        time.sleep(delay)
        delay = min(delay * 2, 1.0)
    return True
