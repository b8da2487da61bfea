"""`kubectl rollout status|history|undo|pause|resume|restart`, computed client-side as kubectl does:
history from the ReplicaSets' revision annotations, undo by putting a chosen revision's template back,
restart through the restartedAt template annotation."""

from __future__ import annotations

import sys
import time
from typing import Any

from skiff.cli.kubectl import options, targets
from skiff.cli.kubectl.session import CommandError, Session

HELP = """Manage the rollout of one or many resources.

Valid resource types include: deployments, daemonsets, statefulsets

Available Commands:
  history       View rollout history
  pause         Mark the provided resource as paused
  restart       Restart a resource
  resume        Resume a paused resource
  status        Show the status of the rollout
  undo          Undo a previous rollout

Examples:
  kubectl rollout undo deployment/abc
  kubectl rollout status daemonset/foo
  kubectl rollout restart deployment/abc
  kubectl rollout history deployment/abc --revision=3"""

SUBCOMMANDS = ("status", "history", "undo", "pause", "resume", "restart")
REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
HASH_LABEL = "pod-template-hash"


def deployment_status(dep: dict[str, Any]) -> tuple[str, bool]:
    """kubectl's deployment status viewer: (message, done); pure."""
    name = (dep.get("metadata") or {}).get("name", "")
    spec, status = dep.get("spec") or {}, dep.get("status") or {}
    if (dep.get("metadata") or {}).get("generation", 0) > status.get("observedGeneration", 0):
        return "Waiting for deployment spec update to be observed...\n", False
    for cond in status.get("conditions") or []:
        if cond.get("type") == "Progressing" and cond.get("reason") == "ProgressDeadlineExceeded":
            raise CommandError(f'deployment "{name}" exceeded its progress deadline')
    want, updated = spec.get("replicas", 1), status.get("updatedReplicas", 0)
    replicas, available = status.get("replicas", 0), status.get("availableReplicas", 0)
    if updated < want:
        return (f'Waiting for deployment "{name}" rollout to finish: {updated} out of {want} new replicas have '
                "been updated...\n"), False
    if replicas > updated:
        return (f'Waiting for deployment "{name}" rollout to finish: {replicas - updated} old replicas are '
                "pending termination...\n"), False
    if available < updated:
        return (f'Waiting for deployment "{name}" rollout to finish: {available} of {updated} updated replicas '
                "are available...\n"), False
    return f'deployment "{name}" successfully rolled out\n', True


def daemonset_status(ds: dict[str, Any]) -> tuple[str, bool]:
    """kubectl's daemon set status viewer; pure."""
    name = (ds.get("metadata") or {}).get("name", "")
    spec, status = ds.get("spec") or {}, ds.get("status") or {}
    if ((spec.get("updateStrategy") or {}).get("type") or "RollingUpdate") != "RollingUpdate":
        raise CommandError("rollout status is only available for RollingUpdate strategy type")
    if (ds.get("metadata") or {}).get("generation", 0) > status.get("observedGeneration", 0):
        return "Waiting for daemon set spec update to be observed...\n", False
    desired, updated = status.get("desiredNumberScheduled", 0), status.get("updatedNumberScheduled", 0)
    available = status.get("numberAvailable", 0)
    if updated < desired:
        return (f'Waiting for daemon set "{name}" rollout to finish: {updated} out of {desired} new pods have been '
                "updated...\n"), False
    if available < desired:
        return (f'Waiting for daemon set "{name}" rollout to finish: {available} of {desired} updated pods are '
                "available...\n"), False
    return f'daemon set "{name}" successfully rolled out\n', True


def statefulset_status(sts: dict[str, Any]) -> tuple[str, bool]:
    """kubectl's stateful set status viewer; pure."""
    spec, status = sts.get("spec") or {}, sts.get("status") or {}
    strategy = spec.get("updateStrategy") or {}
    if (strategy.get("type") or "RollingUpdate") != "RollingUpdate":
        raise CommandError("rollout status is only available for RollingUpdate strategy type")
    observed = status.get("observedGeneration", 0)
    if not observed or (sts.get("metadata") or {}).get("generation", 0) > observed:
        return "Waiting for statefulset spec update to be observed...\n", False
    replicas, ready = spec.get("replicas", 1), status.get("readyReplicas", 0)
    if ready < replicas:
        return f"Waiting for {replicas - ready} pods to be ready...\n", False
    rolling = strategy.get("rollingUpdate") or {}
    if rolling.get("partition") is not None:  # kubectl tests the pointer: a defaulted 0 counts
        partition, updated = rolling["partition"], status.get("updatedReplicas", 0)
        if updated < replicas - partition:
            return (f"Waiting for partitioned roll out to finish: {updated} out of {replicas - partition} new pods "
                    "have been updated...\n"), False
        return (f"partitioned roll out complete: {updated} new pods have been updated...\n"), True
    if status.get("updateRevision") != status.get("currentRevision"):
        return (f"waiting for statefulset rolling update to complete {status.get('updatedReplicas', 0)} pods at "
                f"revision {status.get('updateRevision', '')}...\n"), False
    return (f"statefulset rolling update complete {status.get('currentReplicas', 0)} pods at revision "
            f"{status.get('currentRevision', '')}...\n"), True


VIEWERS = {"Deployment": deployment_status, "DaemonSet": daemonset_status, "StatefulSet": statefulset_status}


def revisions(replica_sets: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Revision number → ReplicaSet, from the revision annotations; pure."""
    out: dict[int, dict[str, Any]] = {}
    for rs in replica_sets:
        text = ((rs.get("metadata") or {}).get("annotations") or {}).get(REVISION, "")
        if text.isdigit():
            out[int(text)] = rs
    return out


def history_text(kind_name: str, by_revision: dict[int, dict[str, Any]]) -> str:
    rows = [["REVISION", "CHANGE-CAUSE"]]
    for number in sorted(by_revision):
        cause = ((by_revision[number].get("metadata") or {}).get("annotations") or {}).get(CHANGE_CAUSE) or "<none>"
        rows.append([str(number), cause])
    from skiff.cli.kubectl.printers import align

    return f"{kind_name} \n{align(rows, padding=2, minwidth=0)}\n"


def undo_template(by_revision: dict[int, dict[str, Any]], current: int, to_revision: int, name: str) -> dict[str, Any]:
    """The pod template to roll back to (the previous revision when to_revision is 0); pure."""
    if to_revision == 0:
        older = [r for r in by_revision if r < current]
        if not older:
            raise CommandError(f'no rollout history found for deployment "{name}"')
        to_revision = max(older)
    rs = by_revision.get(to_revision)
    if rs is None:
        raise CommandError(f"unable to find specified revision {to_revision} in history")
    template = dict((rs.get("spec") or {}).get("template") or {})
    meta = dict(template.get("metadata") or {})
    labels = {k: v for k, v in (meta.get("labels") or {}).items() if k != HASH_LABEL}
    meta["labels"] = labels
    template["metadata"] = meta
    return template


def run(word: str, argv: list[str]) -> int:
    index = options.command_word(argv)
    if index is None or argv[index] not in SUBCOMMANDS:
        if index is None:
            return options.group_help("rollout", HELP, argv)
        return options.unknown_subcommand("rollout", argv[index:])
    sub = argv[index]
    p = options.parser(f"rollout {sub}", HELP)
    p.add_argument("words", nargs="*", metavar="(TYPE NAME | TYPE/NAME)")
    options.add_filename(p, "identifying the resource")
    options.add_selector(p)
    p.add_argument("--revision", type=int, default=0, help="See the details of the given revision.")
    p.add_argument("--to-revision", type=int, default=0, help="The revision to rollback to. 0 means the last one.")
    p.add_argument("-w", "--watch", default="true", nargs="?", const="true", help="Watch the rollout status until done.")
    p.add_argument("--timeout", default="0", help="The length of time to wait before ending watch, zero means never.")
    p.add_argument("--field-manager", default="kubectl-rollout", help="Name of the manager used to track field ownership.")
    options.add_dry_run(p)
    opts = p.parse_intermixed_args(argv[:index] + argv[index + 1:])
    session = Session(opts)
    if not opts.words:
        raise CommandError("required resource not specified")
    work = []
    for target in targets.resolve(session, opts.words, allow_all=False):
        ns = session.ns_for(target.resource)
        names = target.names
        if not names and opts.selector:
            listed = session.client.list(target.resource, ns, params={"labelSelector": opts.selector})
            names = [(i.get("metadata") or {}).get("name", "") for i in listed.get("items") or []]
        elif not names:
            raise CommandError("resource(s) were provided, but no name was specified")
        work += [(target.resource, ns, n) for n in names]
    for res, ns, name in work:
        if res.kind not in ("Deployment", "DaemonSet", "StatefulSet"):
            raise CommandError(f'no {"status viewer" if sub == "status" else "rollbacker" if sub == "undo" else "implementation"} has been implemented for {{"{res.group}" "{res.kind}"}}')
        globals()[f"_{sub}"](session, res, ns, name, opts)
    return 0


def _kind_name(res: Any, name: str) -> str:
    return f"{res.kind_qualified}/{name}"


def _owned_replica_sets(session: Session, dep: dict[str, Any], ns: str | None) -> list[dict[str, Any]]:
    uid = (dep.get("metadata") or {}).get("uid")
    listed = session.client.list(session.resource("replicasets.apps"), ns)
    return [rs for rs in listed.get("items") or []
            if any(o.get("uid") == uid for o in (rs.get("metadata") or {}).get("ownerReferences") or [])]


def _only_deployments(res: Any, what: str) -> None:
    if res.kind != "Deployment":
        raise CommandError(f"skiff kubectl rollout {what} supports deployments only (not {res.kind})")


def _status(session: Session, res: Any, ns: str | None, name: str, opts: Any) -> None:
    viewer = VIEWERS[res.kind]
    from skiff.cli.kubectl.session import _seconds

    deadline = _seconds(opts.timeout)
    start, last = time.monotonic(), ""
    while True:
        message, done = viewer(session.client.get(res, name, ns))
        if message != last:
            sys.stdout.write(message)
            sys.stdout.flush()
            last = message
        if done or not options.parse_bool(opts.watch):
            return
        if deadline and time.monotonic() - start > deadline:
            raise CommandError("timed out waiting for the condition")
        time.sleep(1)


def _history(session: Session, res: Any, ns: str | None, name: str, opts: Any) -> None:
    _only_deployments(res, "history")
    dep = session.client.get(res, name, ns)
    by_revision = revisions(_owned_replica_sets(session, dep, ns))
    if opts.revision:
        rs = by_revision.get(opts.revision)
        if rs is None:
            raise CommandError("unable to find the specified revision")
        from skiff.cli.kubectl import printers

        sys.stdout.write(f"{_kind_name(res, name)} with revision #{opts.revision}\n")
        sys.stdout.write(printers.to_yaml({"template": (rs.get("spec") or {}).get("template") or {}}))
        return
    sys.stdout.write(history_text(_kind_name(res, name), by_revision))


def _undo(session: Session, res: Any, ns: str | None, name: str, opts: Any) -> None:
    _only_deployments(res, "undo")
    dep = session.client.get(res, name, ns)
    if (dep.get("spec") or {}).get("paused"):
        raise CommandError(f'you cannot rollback a paused deployment; resume it first with \'kubectl rollout resume '
                           f"{_kind_name(res, name)}' and try again")
    current = int(((dep.get("metadata") or {}).get("annotations") or {}).get(REVISION, "0") or 0)
    by_revision = revisions(_owned_replica_sets(session, dep, ns))
    template = undo_template(by_revision, current, opts.to_revision, name)
    if template == (dep.get("spec") or {}).get("template"):
        sys.stdout.write(f"{_kind_name(res, name)} skipped rollback (current template already matches revision "
                         f"{opts.to_revision or max(r for r in by_revision if r < current)})\n")
        return
    patch = [{"op": "replace", "path": "/spec/template", "value": template}]
    if opts.dry_run != "client":
        params = {"fieldManager": opts.field_manager, **({"dryRun": "All"} if opts.dry_run == "server" else {})}
        session.client.patch(res, name, patch, "json", ns, params=params)
    sys.stdout.write(f"{_kind_name(res, name)} rolled back{_suffix(opts)}\n")


def _suffix(opts: Any) -> str:
    from skiff.cli.kubectl.results import suffix

    return suffix(opts.dry_run)


def _pause(session: Session, res: Any, ns: str | None, name: str, opts: Any) -> None:
    _set_paused(session, res, ns, name, opts, True)


def _resume(session: Session, res: Any, ns: str | None, name: str, opts: Any) -> None:
    _set_paused(session, res, ns, name, opts, False)


def _set_paused(session: Session, res: Any, ns: str | None, name: str, opts: Any, paused: bool) -> None:
    verb = "paused" if paused else "resumed"
    if res.kind != "Deployment":
        raise CommandError(f"{res.qualified} \"{name}\" {verb} is not supported")
    dep = session.client.get(res, name, ns)
    if bool((dep.get("spec") or {}).get("paused")) == paused:
        raise CommandError(f'{res.qualified} "{name}" is {"already paused" if paused else "not paused"}')
    if opts.dry_run != "client":
        session.client.patch(res, name, {"spec": {"paused": paused or None}}, "strategic", ns,
                             params={"fieldManager": opts.field_manager})
    sys.stdout.write(f"{_kind_name(res, name)} {verb}{_suffix(opts)}\n")


def _restart(session: Session, res: Any, ns: str | None, name: str, opts: Any) -> None:
    obj = session.client.get(res, name, ns)
    if (obj.get("spec") or {}).get("paused"):
        raise CommandError(f"{res.qualified} \"{name}\" can't restart paused deployment (run rollout resume first)")
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    patch = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
    if opts.dry_run != "client":
        session.client.patch(res, name, patch, "strategic", ns, params={"fieldManager": opts.field_manager})
    sys.stdout.write(f"{_kind_name(res, name)} restarted{_suffix(opts)}\n")
