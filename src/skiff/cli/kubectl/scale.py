"""`kubectl scale`: set spec.replicas through the scale subresource."""

from __future__ import annotations

import sys
from typing import Any

from skiff.cli.kubectl import options, targets
from skiff.cli.kubectl.session import CommandError, Session, server_error_text
from skiff.cluster.client.errors import StatusError

HELP = """Set a new size for a deployment, replica set, replication controller, or stateful set.

Examples:
  kubectl scale --replicas=3 rs/foo
  kubectl scale rc redis-slave --replicas=3
  kubectl scale --current-replicas=2 --replicas=3 deployment/mysql"""


def run(word: str, argv: list[str]) -> int:
    p = options.parser("scale", HELP)
    p.add_argument("words", nargs="*", metavar="(-f FILENAME | TYPE NAME)")
    options.add_filename(p, "identifying the resource to set a new size")
    options.add_selector(p)
    options.add_output(p)
    options.add_dry_run(p)
    p.add_argument("--replicas", type=int, default=-1, help="The new desired number of replicas. Required.")
    p.add_argument("--current-replicas", type=int, default=-1, help="Precondition for current size.")
    p.add_argument("--resource-version", default="", help="Precondition for resource version.")
    p.add_argument("--all", action="store_true", help="Select all resources in the namespace of the specified resource types")
    p.add_argument("--timeout", default="0", help="The length of time to wait before giving up on a scale operation")
    opts = p.parse_intermixed_args(argv)
    if opts.replicas < 0:
        raise CommandError("The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0")
    session = Session(opts)
    work: list[tuple[Any, str | None, str]] = []
    if opts.filename:
        from skiff.cli.kubectl import manifests

        for m in manifests.load(opts.filename, opts.recursive, verb="scale"):
            meta = m.obj.get("metadata") or {}
            res = manifests.resource_of(session, m)
            work.append((res, session.ns_for(res, meta.get("namespace")), meta.get("name", "")))
    else:
        if not opts.words:
            raise CommandError("required resource not specified")
        for target in targets.resolve(session, opts.words, allow_all=False):
            res = target.resource
            names = target.names
            if not names and (opts.all or opts.selector):
                listed = session.client.list(res, session.ns_for(res), params={"labelSelector": opts.selector})
                names = [(i.get("metadata") or {}).get("name", "") for i in listed.get("items") or []]
            elif not names:
                raise CommandError("resource(s) were provided, but no name was specified")
            work += [(res, session.ns_for(res), n) for n in names]
    failed = False
    for res, ns, name in work:
        if "scale" not in res.subresources:
            sys.stderr.write(f'error: no scaler has been implemented for {{"{res.group}" "{res.kind}"}}\n')
            failed = True
            continue
        try:
            _scale(session, res, ns, name, opts)
        except StatusError as e:
            # kubectl resolves the objects first and words a missing one this way
            sys.stderr.write(f"error: no objects passed to scale {e.message}\n" if e.code == 404
                             else server_error_text(e) + "\n")
            failed = True
        except CommandError as e:
            sys.stderr.write(f"error: {e}\n")
            failed = True
    return 1 if failed else 0


def _scale(session: Session, res: Any, ns: str | None, name: str, opts: Any) -> None:
    suffix = {"client": " (dry run)", "server": " (server dry run)"}.get(opts.dry_run, "")
    if opts.current_replicas >= 0 or opts.dry_run == "client":
        scale = session.client.get(res, name, ns, subresource="scale")
        current = (scale.get("spec") or {}).get("replicas", 0)
        if opts.current_replicas >= 0 and current != opts.current_replicas:
            raise CommandError(f"Expected replicas to be {opts.current_replicas}, was {current}")
    if opts.dry_run != "client":
        body: dict[str, Any] = {"spec": {"replicas": opts.replicas}}
        if opts.resource_version:
            body["metadata"] = {"resourceVersion": opts.resource_version}
        params = {"dryRun": "All"} if opts.dry_run == "server" else None
        session.client.patch(res, name, body, "merge", ns, subresource="scale", params=params)
    if opts.output == "name":
        sys.stdout.write(f"{res.kind_qualified}/{name}\n")
    else:
        sys.stdout.write(f"{res.kind_qualified}/{name} scaled{suffix}\n")
