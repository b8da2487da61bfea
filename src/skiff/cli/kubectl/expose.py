"""`kubectl expose TYPE NAME --port=P`: a Service selecting what a pod, rc, rs, deployment or service selects."""

from __future__ import annotations

from typing import Any

from skiff.cli.kubectl import options, results, targets
from skiff.cli.kubectl.run_cmd import parse_labels, report_built
from skiff.cli.kubectl.session import CommandError, Session

HELP = """Expose a resource as a new Kubernetes service.

Possible resources include (case insensitive): pod (po), service (svc), replicationcontroller (rc),
deployment (deploy), replicaset (rs)

Examples:
  kubectl expose rc nginx --port=80 --target-port=8000
  kubectl expose deployment nginx --port=80 --type=NodePort
  kubectl expose pod valid-pod --port=444 --name=frontend
  kubectl expose service nginx --port=443 --target-port=8443 --name=nginx-https"""

EXPOSABLE = {"Pod", "Service", "ReplicationController", "Deployment", "ReplicaSet"}


def selector_of(obj: dict[str, Any]) -> dict[str, str]:
    kind, spec = obj.get("kind"), obj.get("spec") or {}
    if kind == "Pod":
        return dict((obj.get("metadata") or {}).get("labels") or {})
    if kind in ("Service", "ReplicationController"):
        return dict(spec.get("selector") or {})
    selector = spec.get("selector") or {}
    if selector.get("matchExpressions"):
        raise CommandError("couldn't convert expressions - \"{}\" to map-based selector format")
    return dict(selector.get("matchLabels") or {})


def ports_of(obj: dict[str, Any]) -> list[dict[str, Any]]:
    """Container ports (or a service's ports) the new service can take when --port is not given."""
    if obj.get("kind") == "Service":
        return [{"port": p.get("port"), "protocol": p.get("protocol", "TCP")} for p in (obj.get("spec") or {}).get("ports") or []]
    spec = obj.get("spec") or {}
    pod_spec = spec if obj.get("kind") == "Pod" else (spec.get("template") or {}).get("spec") or {}
    return [{"port": p.get("containerPort"), "protocol": p.get("protocol", "TCP")}
            for c in pod_spec.get("containers") or [] for p in c.get("ports") or []]


def service(obj: dict[str, Any], *, name: str, port: str, target_port: str, protocol: str, svc_type: str,
            selector: str, labels: str, cluster_ip: str = "") -> dict[str, Any]:
    """The Service kubectl's expose generator makes (pure, unit-tested)."""
    meta = obj.get("metadata") or {}
    chosen = parse_labels(selector) if selector else selector_of(obj)
    if not chosen:
        raise CommandError(f"couldn't retrieve selectors via --selector flag or introspection: the {obj.get('kind', '').lower()} has no labels")
    if port:
        ports = [{"port": _int(port), "protocol": protocol or "TCP"}]
    else:
        ports = ports_of(obj)
        if not ports:
            raise CommandError("couldn't find port via --port flag or introspection")
    out_ports = []
    for i, p in enumerate(ports):
        entry: dict[str, Any] = {}  # ServicePort's field order, as kubectl's -o json prints it
        if len(ports) > 1:
            entry["name"] = f"port-{i + 1}"
        entry["protocol"] = protocol or p.get("protocol") or "TCP"
        entry["port"] = p["port"]
        entry["targetPort"] = _int_or_name(target_port) if target_port else p["port"]
        out_ports.append(entry)
    spec: dict[str, Any] = {"ports": out_ports, "selector": chosen}
    if cluster_ip:
        spec["clusterIP"] = cluster_ip
    if svc_type:
        spec["type"] = svc_type
    own_labels = parse_labels(labels) if labels else dict(meta.get("labels") or {})
    out_meta: dict[str, Any] = {"name": name or meta.get("name", "")}
    if meta.get("namespace"):
        out_meta["namespace"] = meta["namespace"]
    out_meta["creationTimestamp"] = None
    if own_labels:
        out_meta["labels"] = own_labels
    return {"kind": "Service", "apiVersion": "v1", "metadata": out_meta, "spec": spec,
            "status": {"loadBalancer": {}}}


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise CommandError(f'strconv.Atoi: parsing "{text}": invalid syntax') from None


def _int_or_name(text: str) -> int | str:
    return int(text) if text.isdigit() else text


def run(word: str, argv: list[str]) -> int:
    p = options.parser("expose", HELP)
    p.add_argument("words", nargs="*", metavar="(-f FILENAME | TYPE NAME)")
    options.add_filename(p, "identifying the resource to expose a service")
    p.add_argument("--port", default="", help="The port that the service should serve on.")
    p.add_argument("--target-port", default="", help="Name or number for the port on the container.")
    p.add_argument("--protocol", default="", help="The network protocol for the service to be created. Default is 'TCP'.")
    p.add_argument("--type", default="", help="Type for this service: ClusterIP, NodePort, LoadBalancer, or ExternalName.")
    p.add_argument("--name", default="", help="The name for the newly created object.")
    p.add_argument("--selector", default="", help="A label selector to use for this service.")
    p.add_argument("-l", "--labels", default="", help="Labels to apply to the service created by this call.")
    p.add_argument("--cluster-ip", default="", help="ClusterIP to be assigned to the service.")
    p.add_argument("--field-manager", default="kubectl-expose", help="Name of the manager used to track field ownership.")
    options.add_output(p)
    options.add_dry_run(p)
    opts = p.parse_intermixed_args(argv)
    session = Session(opts)
    work: list[tuple[Any, str | None, str]] = []
    if opts.filename:
        from skiff.cli.kubectl import manifests

        for m in manifests.load(opts.filename, opts.recursive, verb="expose"):
            meta = m.obj.get("metadata") or {}
            res = manifests.resource_of(session, m)
            work.append((res, session.ns_for(res, meta.get("namespace")), meta.get("name", "")))
    else:
        if not opts.words:
            raise CommandError("You must provide one or more resources by argument or filename.")
        for target in targets.resolve(session, opts.words, allow_all=False):
            if not target.names:
                raise CommandError("resource(s) were provided, but no name was specified")
            work += [(target.resource, session.ns_for(target.resource), n) for n in target.names]
    svc_res = session.resource("services")
    params = {**results.dry_run_params(opts.dry_run), "fieldManager": opts.field_manager}
    for res, ns, name in work:
        if res.kind not in EXPOSABLE:
            raise CommandError(f"cannot expose a {res.kind}")
        obj = session.client.get(res, name, ns)
        obj.setdefault("kind", res.kind)
        svc = service(obj, name=opts.name, port=opts.port, target_port=opts.target_port, protocol=opts.protocol,
                      svc_type=opts.type, selector=opts.selector, labels=opts.labels, cluster_ip=opts.cluster_ip)
        if opts.dry_run == "client":
            report_built(svc, "exposed", opts.output, opts.dry_run)
            continue
        created = session.client.create(svc_res, svc, ns, params=params)
        results.report(created, "exposed", opts.output, opts.dry_run)
    return 0
