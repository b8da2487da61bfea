"""`kubectl replace -f FILE [--force]`: PUT each object whole; --force deletes and re-creates it."""

from __future__ import annotations

import sys
import time

from skiff.cli.kubectl import options, results
from skiff.cli.kubectl.session import CommandError, Session, server_error_text
from skiff.cluster.client.errors import StatusError

HELP = """Replace a resource by file name or stdin.

Examples:
  kubectl replace -f ./pod.json
  cat pod.json | kubectl replace -f -
  kubectl replace --force -f ./pod.json"""


def run(word: str, argv: list[str]) -> int:
    p = options.parser("replace", HELP, usage="kubectl replace -f FILENAME [options]")
    options.add_filename(p, "to use to replace the resource")
    options.add_output(p)
    options.add_dry_run(p)
    p.add_argument("--force", action="store_true", help="Delete and re-create the resource.")
    p.add_argument("--grace-period", type=int, default=-1, help="Seconds given to the resource to terminate (with --force).")
    p.add_argument("--save-config", action="store_true", help="Save the configuration in the last-applied annotation.")
    p.add_argument("--validate", default="strict", help="strict (or true), warn, ignore (or false)")
    p.add_argument("--field-manager", default="kubectl-replace", help="Name of the manager used to track field ownership.")
    opts = p.parse_intermixed_args(argv)
    if not opts.filename:
        raise CommandError("must specify --filename to replace")
    from skiff.cli.kubectl import manifests
    from skiff.cli.kubectl.create import annotate_last_applied

    session = Session(opts)
    params = {**results.dry_run_params(opts.dry_run), **results.validation_params(opts.validate),
              "fieldManager": opts.field_manager}
    failed = False
    items = manifests.load(opts.filename, opts.recursive)
    for m, res, ns in manifests.placed(session, items):
        obj = m.obj
        name = (obj.get("metadata") or {}).get("name", "")
        if opts.save_config:
            annotate_last_applied(obj)
        if opts.dry_run == "client":
            results.report(obj, "replaced", opts.output, opts.dry_run)
            continue
        try:
            if opts.force:
                _delete_and_wait(session, res, ns, name, opts.grace_period)
                sys.stdout.write(f"{res.kind_qualified}/{name} deleted\n")
                (obj.get("metadata") or {}).pop("resourceVersion", None)
                done = session.client.create(res, obj, ns, params=params)
            else:
                done = session.client.update(res, name, obj, ns, params=params)
        except StatusError as e:
            sys.stdout.flush()
            sys.stderr.write(server_error_text(e, f'error when replacing "{m.source}"') + "\n")
            failed = True
            continue
        results.report(done, "replaced", opts.output, opts.dry_run)
    return 1 if failed or any(m.unmapped for m in items) else 0


def _delete_and_wait(session: Session, res, ns: str | None, name: str, grace: int) -> None:
    options_body = {"gracePeriodSeconds": grace} if grace >= 0 else None
    try:
        session.client.delete(res, name, ns, options=options_body)
    except StatusError as e:
        if e.code != 404:
            raise
        return
    for _ in range(600):  # kubectl waits for the old object to be gone before creating the new one
        try:
            session.client.get(res, name, ns)
        except StatusError as e:
            if e.code == 404:
                return
            raise
        time.sleep(0.2)
    raise CommandError(f"timed out waiting for {res.qualified} \"{name}\" to be deleted")
