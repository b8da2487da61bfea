"""`kubectl describe`: fetch the objects and what their describer shows (events, pods, endpoints...)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from skiff.cli.kubectl import describe_node, describers, options, targets
from skiff.cli.kubectl.describe_text import generic
from skiff.cli.kubectl.session import CommandError, Session, server_error_text
from skiff.cluster.client.errors import StatusError
from skiff.cluster.client.paths import Resource

HELP = """Show details of a specific resource or group of resources.

Examples:
  kubectl describe nodes kubernetes-node-emt8.c.myproject.internal
  kubectl describe pods/nginx
  kubectl describe -f pod.json
  kubectl describe pods
  kubectl describe pods -l name=myLabel
  kubectl describe rc redis-slave"""

Describer = Callable[[dict, Any, dict], str]

DESCRIBERS: dict[tuple[str, str], Describer] = {
    ("", "Pod"): describers.pod, ("", "Service"): describers.service,
    ("", "ReplicationController"): describers.replication_controller,
    ("apps", "ReplicaSet"): describers.replication_controller, ("apps", "Deployment"): describers.deployment,
    ("", "Node"): describe_node.node, ("", "Namespace"): describers.namespace,
    ("", "ConfigMap"): describers.configmap, ("", "Secret"): describers.secret,
    ("", "ServiceAccount"): describers.service_account, ("scheduling.k8s.io", "PriorityClass"): describers.priority_class,
}
NO_EVENTS = {("", "Namespace"), ("", "Secret")}


def run(word: str, argv: list[str]) -> int:
    p = options.parser("describe", HELP)
    p.add_argument("words", nargs="*", metavar="(-f FILENAME | TYPE [NAME_PREFIX | -l label] | TYPE/NAME)")
    options.add_filename(p, "containing the resource to describe")
    options.add_selector(p)
    p.add_argument("-A", "--all-namespaces", action="store_true", help="If present, list the requested object(s) across all namespaces.")
    p.add_argument("--show-events", default="true", nargs="?", const="true", help="If true, display events related to the described object.")
    p.add_argument("--chunk-size", type=int, default=500, help="Return large lists in chunks rather than all at once.")
    opts = p.parse_intermixed_args(argv)
    session = Session(opts)
    found: list[tuple[Resource, dict[str, Any], bool]] = []  # (resource, object, found by name prefix)
    failed = False
    if opts.filename:
        from skiff.cli.kubectl import manifests

        for m in manifests.load(opts.filename, opts.recursive, verb="describe"):
            meta = m.obj.get("metadata") or {}
            res = manifests.resource_of(session, m)
            try:
                found.append((res, session.client.get(res, meta.get("name", ""), session.ns_for(res, meta.get("namespace"))),
                              False))
            except StatusError as e:
                sys.stderr.write(server_error_text(e) + "\n")
                failed = True
    else:
        if not opts.words:
            sys.stderr.write(targets.require_type_message("describe"))
            raise CommandError("Required resource not specified.")
        for target in targets.resolve(session, opts.words):
            objs, errors = _find(session, target, opts)
            found += objs
            for line in errors:
                sys.stderr.write(line + "\n")
                failed = True
    if not found and not failed:
        ns = session.namespace
        sys.stderr.write("No resources found\n" if opts.all_namespaces else f"No resources found in {ns} namespace.\n")
        return 0
    show_events = options.parse_bool(str(opts.show_events))
    texts = [_describe(session, res, obj, show_events) for res, obj, _ in found]
    if found and all(prefixed for _, _, prefixed in found):
        sys.stdout.write("".join(t + "\n" for t in texts))  # kubectl's output for name-prefix matches
    else:
        sys.stdout.write("\n\n".join(texts))
    return 1 if failed else 0


def _find(session: Session, target: targets.Target, opts: Any) -> tuple[list[tuple[Resource, dict, bool]], list[str]]:
    res = target.resource
    ns = None if opts.all_namespaces else session.ns_for(res)
    if not target.names:
        listed = session.client.list(res, ns, params={"labelSelector": opts.selector})
        return [(res, item, False) for item in listed.get("items") or []], []
    out: list[tuple[Resource, dict, bool]] = []
    errors: list[str] = []
    for name in target.names:
        try:
            out.append((res, session.client.get(res, name, ns), False))
        except StatusError as e:
            if e.code != 404:
                errors.append(server_error_text(e))
                continue
            # kubectl treats the name as a prefix when no object has exactly that name
            listed = session.client.list(res, ns, params={"labelSelector": opts.selector})
            matches = [i for i in listed.get("items") or [] if (i.get("metadata") or {}).get("name", "").startswith(name)]
            if not matches:
                errors.append(server_error_text(e))
            out += [(res, m, True) for m in matches]
    return out, errors


def _events(session: Session, res: Resource, obj: dict[str, Any]) -> list[dict[str, Any]] | None:
    meta = obj.get("metadata") or {}
    selector = ",".join(f"involvedObject.{k}={v}" for k, v in (("name", meta.get("name")),
                                                              ("namespace", meta.get("namespace")),
                                                              ("uid", meta.get("uid"))) if v)
    try:
        events = session.resource("events")
        listed = session.client.list(events, meta.get("namespace") or None, params={"fieldSelector": selector})
    except (StatusError, Exception):
        return []
    return listed.get("items") or []


def _related(session: Session, res: Resource, obj: dict[str, Any]) -> dict[str, Any]:
    meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
    ns, name = meta.get("namespace"), meta.get("name", "")
    related: dict[str, Any] = {}
    try:
        if res.kind in ("ReplicationController", "ReplicaSet"):
            sel = spec.get("selector") or {}
            text = describers._selector_text(sel)
            pods = session.client.list(session.resource("pods"), ns, params={"labelSelector": text})
            related["pods"] = [p for p in pods.get("items") or []
                               if any(r.get("uid") == meta.get("uid") for r in (p.get("metadata") or {}).get("ownerReferences") or [])]
        elif res.kind == "Deployment" and res.group == "apps":
            text = describers._selector_text(spec.get("selector"))
            listed = session.client.list(session.resource("replicasets.apps"), ns, params={"labelSelector": text})
            related["replicasets"] = listed.get("items") or []
        elif res.kind == "Service" and res.group == "":
            slices = session.client.list(session.resource("endpointslices.discovery.k8s.io"), ns,
                                         params={"labelSelector": f"kubernetes.io/service-name={name}"})
            related["endpointslices"] = slices.get("items") or []
        elif res.kind == "Namespace" and res.group == "":
            related["quotas"] = session.client.list(session.resource("resourcequotas"), name).get("items")
            related["limitranges"] = session.client.list(session.resource("limitranges"), name).get("items")
        elif res.kind == "Node" and res.group == "":
            try:
                related["lease"] = session.client.get(session.resource("leases.coordination.k8s.io"), name, "kube-node-lease")
            except StatusError as e:
                related["lease"] = f"Failed to get lease: {e.message}"
            pods = session.client.list(session.resource("pods"), None, params={"fieldSelector": f"spec.nodeName={name}"})
            related["pods"] = [p for p in pods.get("items") or []
                               if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]
    except StatusError:
        pass
    return related


def _describe(session: Session, res: Resource, obj: dict[str, Any], show_events: bool) -> str:
    key = (res.group, res.kind)
    events = _events(session, res, obj) if show_events and key not in NO_EVENTS else None
    describer = DESCRIBERS.get(key)
    if describer is None:
        return generic(obj, events)
    return describer(obj, events, _related(session, res, obj))
