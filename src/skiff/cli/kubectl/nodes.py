"""`kubectl cordon|uncordon|drain NODE`: mark a node (un)schedulable; drain evicts its pods."""

from __future__ import annotations

import sys
import time
from typing import Any

from skiff.cli.kubectl import options
from skiff.cli.kubectl.session import CommandError, Session
from skiff.cluster.client.errors import StatusError

HELP = {
    "cordon": "Mark node as unschedulable.\n\nExamples:\n  kubectl cordon foo",
    "uncordon": "Mark node as schedulable.\n\nExamples:\n  kubectl uncordon foo",
    "drain": ("Drain node in preparation for maintenance: cordon it, then evict its pods.\n\nExamples:\n"
              "  kubectl drain foo --force\n  kubectl drain foo --ignore-daemonsets --delete-emptydir-data"),
}


def classify(pods: list[dict[str, Any]], *, force: bool, ignore_daemonsets: bool,
             delete_emptydir_data: bool) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    """kubectl drain's filters: (pods to evict, warnings, errors); pure."""
    evict: list[dict[str, Any]] = []
    warnings: dict[str, list[str]] = {}
    errors: dict[str, list[str]] = {}
    for pod in pods:
        meta, status = pod.get("metadata") or {}, pod.get("status") or {}
        key = f"{meta.get('namespace')}/{meta.get('name')}"
        if "kubernetes.io/config.mirror" in (meta.get("annotations") or {}):
            continue
        if meta.get("deletionTimestamp"):
            continue
        finished = status.get("phase") in ("Succeeded", "Failed")
        owners = [o for o in meta.get("ownerReferences") or [] if o.get("controller")]
        # kubectl's filters in its order; a pod stops at the first that refuses it. The messages are
        # kubectl's, "cannot delete " prefixed to each (so the unmanaged one says it twice, as kubectl does).
        if owners and owners[0].get("kind") == "DaemonSet":
            if ignore_daemonsets:
                warnings.setdefault("ignoring DaemonSet-managed Pods", []).append(key)
            else:
                errors.setdefault("DaemonSet-managed Pods (use --ignore-daemonsets to ignore)", []).append(key)
            continue
        if any("emptyDir" in v for v in (pod.get("spec") or {}).get("volumes") or []) and not finished:
            if not delete_emptydir_data:
                errors.setdefault("Pods with local storage (use --delete-emptydir-data to override)", []).append(key)
                continue
            warnings.setdefault("deleting Pods with local storage", []).append(key)
        if not owners and not finished:
            if not force:
                errors.setdefault("cannot delete Pods that declare no controller (use --force to override)",
                                  []).append(key)
                continue
            warnings.setdefault("deleting Pods that declare no controller", []).append(key)
        evict.append(pod)
    return (evict, [f"{k}: {', '.join(v)}" for k, v in warnings.items()],
            [f"cannot delete {k}: {', '.join(v)}" for k, v in errors.items()])


def run(word: str, argv: list[str]) -> int:
    p = options.parser(word, HELP[word], usage=f"kubectl {word} NODE [options]")
    p.add_argument("words", nargs="*", metavar="NODE")
    options.add_selector(p)
    options.add_dry_run(p)
    if word == "drain":
        p.add_argument("--force", action="store_true", help="Continue even if there are pods that do not declare a controller.")
        p.add_argument("--ignore-daemonsets", action="store_true", help="Ignore DaemonSet-managed pods.")
        p.add_argument("--delete-emptydir-data", action="store_true", help="Continue even if there are pods using emptyDir.")
        p.add_argument("--grace-period", type=int, default=-1, help="Period of time in seconds given to each pod to terminate gracefully.")
        p.add_argument("--timeout", default="0", help="The length of time to wait before giving up, zero means infinite")
        p.add_argument("--disable-eviction", action="store_true", help="Force drain to use delete, even if eviction is supported.")
    opts = p.parse_intermixed_args(argv)
    session = Session(opts)
    nodes_res = session.resource("nodes")
    names = list(opts.words)
    if opts.selector:
        listed = session.client.list(nodes_res, params={"labelSelector": opts.selector})
        names += [(n.get("metadata") or {}).get("name", "") for n in listed.get("items") or []]
    if not names:
        raise CommandError(f"USAGE: {word} NODE [flags]\nSee '-h' for help and examples")
    failed = False
    for name in names:
        session.client.get(nodes_res, name)  # a missing node: the server's NotFound
        _set_unschedulable(session, nodes_res, name, word != "uncordon", opts.dry_run)
        if word == "drain" and not _drain(session, name, opts):
            failed = True
    return 1 if failed else 0


def _set_unschedulable(session: Session, res: Any, name: str, value: bool, dry_run: str) -> None:
    node = session.client.get(res, name)
    verb = "cordoned" if value else "uncordoned"
    if bool((node.get("spec") or {}).get("unschedulable")) == value:
        sys.stdout.write(f"node/{name} already {verb}\n")
        return
    if dry_run != "client":
        params = {"dryRun": "All"} if dry_run == "server" else None
        session.client.patch(res, name, {"spec": {"unschedulable": True if value else None}}, "strategic",
                             params=params)
    suffix = {"client": " (dry run)", "server": " (server dry run)"}.get(dry_run, "")
    sys.stdout.write(f"node/{name} {verb}{suffix}\n")


def _drain(session: Session, node: str, opts: Any) -> bool:
    pods_res = session.resource("pods")
    listed = session.client.list(pods_res, None, params={"fieldSelector": f"spec.nodeName={node}"})
    evict, warnings, errors = classify(listed.get("items") or [], force=opts.force,
                                       ignore_daemonsets=opts.ignore_daemonsets,
                                       delete_emptydir_data=opts.delete_emptydir_data)
    if errors:
        sys.stdout.flush()
        sys.stderr.write(f'error: unable to drain node "{node}" due to error: {_aggregate(errors)}, continuing command...\n'
                         f"There are pending nodes to be drained:\n {node}\n")
        sys.stderr.write("".join(e + "\n" for e in errors))
        return False
    if warnings:
        sys.stderr.write(f"Warning: {'; '.join(warnings)}\n")
    if opts.dry_run == "client":
        for pod in evict:
            sys.stdout.write(f"evicting pod {pod['metadata']['namespace']}/{pod['metadata']['name']} (dry run)\n")
        sys.stdout.write(f"node/{node} drained (dry run)\n")
        return True
    options_body: dict[str, Any] = {}
    if opts.grace_period >= 0:
        options_body["gracePeriodSeconds"] = opts.grace_period
    for pod in evict:
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        if not opts.disable_eviction:
            sys.stdout.write(f"evicting pod {ns}/{name}\n")
            sys.stdout.flush()
        body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": ns},
                "deleteOptions": options_body}
        try:
            if opts.disable_eviction:
                session.client.delete(pods_res, name, ns, options=options_body or None)
            else:
                session.client.request("POST", f"/api/v1/namespaces/{ns}/pods/{name}/eviction", body)
        except StatusError as e:
            if e.code != 404:
                raise
    from skiff.cli.kubectl.session import _seconds

    deadline = _seconds(opts.timeout)
    start = time.monotonic()
    pending = {(p["metadata"]["namespace"], p["metadata"]["name"], p["metadata"].get("uid")) for p in evict}
    while pending:
        for ns, name, uid in sorted(pending):
            try:
                current = session.client.get(pods_res, name, ns)
                gone = (current.get("metadata") or {}).get("uid") != uid
            except StatusError as e:
                if e.code != 404:
                    raise
                gone = True
            if gone:
                sys.stdout.write(f"pod/{name} {'deleted' if opts.disable_eviction else 'evicted'}\n")
                sys.stdout.flush()
                pending.discard((ns, name, uid))
        if pending:
            if deadline and time.monotonic() - start > deadline:
                raise CommandError(f"drain did not complete within {opts.timeout}")
            time.sleep(0.5)
    sys.stdout.write(f"node/{node} drained\n")
    return True


def _aggregate(errors: list[str]) -> str:
    return errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
