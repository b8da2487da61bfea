"""`kubectl create deployment|job|cronjob|service <type>|serviceaccount NAME`: objects built client-side
in the Go structs' key order (kubectl prints typed objects, so -o json keeps that order)."""

from __future__ import annotations

from typing import Any

from skiff.cli.kubectl import options, results
from skiff.cli.kubectl.session import CommandError, Session

KINDS = {"deployment": "deployment", "deploy": "deployment", "job": "job", "cronjob": "cronjob", "cj": "cronjob",
         "service": "service", "svc": "service", "serviceaccount": "serviceaccount", "sa": "serviceaccount"}
SERVICE_TYPES = {"clusterip": "ClusterIP", "nodeport": "NodePort", "loadbalancer": "LoadBalancer",
                 "externalname": "ExternalName"}


def container_name(image: str) -> str:
    """kubectl's container name for an image: its last path part without tag or digest; pure."""
    base = image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0]
    return base


def _meta(name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "creationTimestamp": None}
    if labels:
        meta["labels"] = labels
    return meta


def deployment(name: str, images: list[str], replicas: int, port: int) -> dict[str, Any]:
    labels = {"app": name}
    containers = []
    for image in images:
        c: dict[str, Any] = {"name": container_name(image), "image": image}
        if port >= 0:
            c["ports"] = [{"containerPort": port}]
        c["resources"] = {}
        containers.append(c)
    return {"kind": "Deployment", "apiVersion": "apps/v1", "metadata": _meta(name, labels),
            "spec": {"replicas": replicas, "selector": {"matchLabels": dict(labels)},
                     "template": {"metadata": _meta_template(labels), "spec": {"containers": containers}},
                     "strategy": {}},
            "status": {}}


def _meta_template(labels: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"creationTimestamp": None}
    if labels:
        meta["labels"] = dict(labels)
    return meta


def _pod_template(name: str, image: str, command: list[str], restart: str) -> dict[str, Any]:
    c: dict[str, Any] = {"name": name, "image": image}
    if command:
        c["command"] = list(command)
    c["resources"] = {}
    return {"metadata": _meta_template(), "spec": {"containers": [c], "restartPolicy": restart}}


def job(name: str, image: str, command: list[str]) -> dict[str, Any]:
    return {"kind": "Job", "apiVersion": "batch/v1", "metadata": _meta(name),
            "spec": {"template": _pod_template(name, image, command, "Never")}, "status": {}}


def cronjob(name: str, image: str, schedule: str, command: list[str], restart: str) -> dict[str, Any]:
    return {"kind": "CronJob", "apiVersion": "batch/v1", "metadata": _meta(name),
            "spec": {"schedule": schedule,
                     "jobTemplate": {"metadata": _meta(name),
                                     "spec": {"template": _pod_template(name, image, command, restart)}}},
            "status": {}}


def service(name: str, svc_type: str, tcp: list[str], cluster_ip: str, node_port: int,
            external_name: str) -> dict[str, Any]:
    ports = []
    for pair in tcp:
        port, _, target = pair.partition(":")
        if not port.isdigit() or (target and not target.isdigit()):
            raise CommandError(f"{pair} is not a valid port")
        entry: dict[str, Any] = {"name": f"{port}-{target}" if target else port, "protocol": "TCP", "port": int(port),
                                 "targetPort": int(target or port)}
        if node_port > 0:
            entry["nodePort"] = node_port
        ports.append(entry)
    labels = {"app": name}
    spec: dict[str, Any] = {}
    if ports:
        spec["ports"] = ports
    spec["selector"] = dict(labels)
    if cluster_ip:
        spec["clusterIP"] = cluster_ip
    spec["type"] = svc_type
    if external_name:
        spec["externalName"] = external_name
    return {"kind": "Service", "apiVersion": "v1", "metadata": _meta(name, labels), "spec": spec,
            "status": {"loadBalancer": {}}}


def serviceaccount(name: str) -> dict[str, Any]:
    return {"kind": "ServiceAccount", "apiVersion": "v1", "metadata": _meta(name)}


def run(sub: str, argv: list[str]) -> int:
    kind = KINDS[sub]
    command: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, command = argv[:at], argv[at + 1:]
    svc_type = ""
    if kind == "service":
        index = options.command_word(argv)
        svc_type = SERVICE_TYPES.get(argv[index], "") if index is not None else ""
        if index is None or not svc_type:
            raise CommandError("must specify one of clusterip, externalname, loadbalancer or nodeport")
        argv = argv[:index] + argv[index + 1:]
    p = options.parser(f"create {kind}", f"Create a {kind} with the specified name.")
    p.add_argument("names", nargs="*", metavar="NAME")
    options.add_output(p)
    options.add_dry_run(p)
    p.add_argument("--validate", default="strict", help="strict (or true), warn, ignore (or false)")
    p.add_argument("--field-manager", default="kubectl-create", help="Name of the manager used to track field ownership.")
    if kind in ("deployment", "job", "cronjob"):
        p.add_argument("--image", action="append" if kind == "deployment" else "store",
                       default=[] if kind == "deployment" else "", help="Image name to run.")
    if kind == "deployment":
        p.add_argument("-r", "--replicas", type=int, default=1, help="Number of replicas to create.")
        p.add_argument("--port", type=int, default=-1, help="The containerPort that this deployment exposes.")
    if kind == "cronjob":
        p.add_argument("--schedule", default="", help="A schedule in the Cron format the job should be run with.")
        p.add_argument("--restart", default="OnFailure", help="job's restart policy: OnFailure, Never")
    if kind == "service":
        p.add_argument("--tcp", action="append", default=[], help="Port pairs can be specified as '<port>:<targetPort>'.")
        p.add_argument("--clusterip", default="", help="Assign your own ClusterIP or set to 'None' for a headless service.")
        p.add_argument("--node-port", type=int, default=0, help="Port used to expose the service on each node.")
        p.add_argument("--external-name", default="", help="External name of service.")
    opts = p.parse_intermixed_args(argv)
    if len(opts.names) != 1:
        raise CommandError(f"exactly one NAME is required, got {len(opts.names)}\n"
                           f"See 'kubectl create {kind} -h' for help and examples")
    name = opts.names[0]
    if kind in ("deployment", "job", "cronjob") and not opts.image:
        raise CommandError('required flag(s) "image" not set')
    if kind == "deployment":
        obj = deployment(name, opts.image, opts.replicas, opts.port)
    elif kind == "job":
        obj = job(name, opts.image, command)
    elif kind == "cronjob":
        if not opts.schedule:
            raise CommandError('required flag(s) "schedule" not set')
        obj = cronjob(name, opts.image, opts.schedule, command, opts.restart)
    elif kind == "service":
        if svc_type != "ExternalName" and not opts.tcp and opts.clusterip != "None":
            raise CommandError("at least one tcp port specifier must be provided")
        obj = service(name, svc_type, opts.tcp, opts.clusterip, opts.node_port, opts.external_name)
    else:
        obj = serviceaccount(name)
    if opts.dry_run == "client":
        from skiff.cli.kubectl.run_cmd import report_built

        report_built(obj, "created", opts.output, opts.dry_run)
        return 0
    session = Session(opts)
    res = session.resource_for(obj["apiVersion"], obj["kind"])
    params = {**results.dry_run_params(opts.dry_run), **results.validation_params(opts.validate),
              "fieldManager": opts.field_manager}
    from skiff.cluster.client.errors import StatusError

    try:
        created = session.client.create(res, obj, session.ns_for(res), params=params)
    except StatusError as e:
        if kind in ("deployment", "job", "cronjob"):  # these kubectl generators wrap the server's error
            raise CommandError(f"failed to create {kind}: {e.message}") from None
        raise
    results.report(created, "created", opts.output, opts.dry_run)
    return 0


RBAC = "rbac.authorization.k8s.io/v1"


def role_rules(verbs: list[str], resources: list[tuple[str, str]], names: list[str]) -> list[dict[str, Any]]:
    """One rule per API group, groups in first-seen order (resources as (group, resource[/sub])); pure."""
    groups: dict[str, list[str]] = {}
    for group, resource in resources:
        groups.setdefault(group, [])
        if resource not in groups[group]:
            groups[group].append(resource)
    rules = []
    for group, plural in groups.items():
        rule: dict[str, Any] = {"verbs": list(verbs), "apiGroups": [group], "resources": plural}
        if names:
            rule["resourceNames"] = list(names)
        rules.append(rule)
    return rules


def role(kind: str, name: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {"kind": kind, "apiVersion": RBAC, "metadata": _meta(name), "rules": rules}


def binding(kind: str, name: str, role_kind: str, role_name: str, users: list[str], groups: list[str],
            serviceaccounts: list[str]) -> dict[str, Any]:
    subjects: list[dict[str, Any]] = []
    for u in users:
        subjects.append({"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": u})
    for g in groups:
        subjects.append({"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": g})
    for sa in serviceaccounts:
        ns, sep, sa_name = sa.partition(":")
        if not sep or not ns or not sa_name:
            raise CommandError("serviceaccount must be <namespace>:<name>")
        subjects.append({"kind": "ServiceAccount", "name": sa_name, "namespace": ns})
    out: dict[str, Any] = {"kind": kind, "apiVersion": RBAC, "metadata": _meta(name)}
    if subjects:
        out["subjects"] = subjects
    out["roleRef"] = {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role_name}
    return out


def run_rbac(sub: str, argv: list[str]) -> int:
    """create role|clusterrole|rolebinding|clusterrolebinding NAME."""
    kind = {"role": "Role", "clusterrole": "ClusterRole", "rolebinding": "RoleBinding",
            "clusterrolebinding": "ClusterRoleBinding"}[sub]
    p = options.parser(f"create {sub}", f"Create a {kind}.")
    p.add_argument("names", nargs="*", metavar="NAME")
    options.add_output(p)
    options.add_dry_run(p)
    p.add_argument("--validate", default="strict", help="strict (or true), warn, ignore (or false)")
    p.add_argument("--field-manager", default="kubectl-create", help="Name of the manager used to track field ownership.")
    if kind.endswith("Role"):
        p.add_argument("--verb", action="append", default=[], help="Verb that applies to the resources.")
        p.add_argument("--resource", action="append", default=[], help="Resource that the rule applies to.")
        p.add_argument("--resource-name", action="append", default=[], help="Resource in the white list.")
    else:
        p.add_argument("--role", default="", help="Role this RoleBinding should reference")
        p.add_argument("--clusterrole", default="", help="ClusterRole this binding should reference")
        # the binding's --user (a subject) shadows the global kubeconfig --user, as in kubectl
        p._handle_conflict_resolve(None, [("--user", p._option_string_actions["--user"])])  # type: ignore[arg-type]
        p.set_defaults(user=None)  # the session still reads the kubeconfig user from opts
        p.add_argument("--user", dest="subject_users", action="append", default=[], help="Usernames to bind.")
        p.add_argument("--group", action="append", default=[], help="Groups to bind.")
        p.add_argument("--serviceaccount", action="append", default=[], help="Service accounts to bind, namespace:name.")
    opts = p.parse_intermixed_args(argv)
    if len(opts.names) != 1:
        raise CommandError(f"exactly one NAME is required, got {len(opts.names)}\n"
                           f"See 'kubectl create {sub} -h' for help and examples")
    session = Session(opts)
    if kind.endswith("Role"):
        from skiff.cluster.client.discovery import UnknownResource

        verbs = options.split_csv(opts.verb)
        if not verbs:
            raise CommandError("at least one verb must be specified")
        words = options.split_csv(opts.resource)
        if not words:
            raise CommandError("at least one resource must be specified")
        resources = []
        for word in words:
            plural, _, sub_resource = word.partition("/")
            try:
                res = session.resource(plural)
            except UnknownResource as e:  # kubectl's create role prints this one bare
                from skiff.cli.kubectl.session import BareError

                raise BareError(str(e)) from None
            resources.append((res.group, res.plural + (f"/{sub_resource}" if sub_resource else "")))
        obj = role(kind, opts.names[0], role_rules(verbs, resources, options.split_csv(opts.resource_name)))
    else:
        if bool(opts.role) == bool(opts.clusterrole):
            raise CommandError("exactly one of clusterrole or role must be specified")
        obj = binding(kind, opts.names[0], "Role" if opts.role else "ClusterRole", opts.role or opts.clusterrole,
                      opts.subject_users, opts.group, opts.serviceaccount)
    if opts.dry_run == "client":
        from skiff.cli.kubectl.run_cmd import report_built

        report_built(obj, "created", opts.output, opts.dry_run)
        return 0
    # kubectl's typed RBAC client posts to the fixed path, without asking discovery
    from skiff.cluster.client.paths import Resource

    res = Resource("rbac.authorization.k8s.io", "v1", kind.lower() + "s", kind, namespaced=not kind.startswith("Cluster"))
    params = {**results.dry_run_params(opts.dry_run), **results.validation_params(opts.validate),
              "fieldManager": opts.field_manager}
    from skiff.cluster.client.errors import StatusError

    try:
        created = session.client.create(res, obj, session.namespace if res.namespaced else None, params=params)
    except StatusError as e:
        if kind.endswith("Binding"):  # kubectl's binding generators wrap the server's error
            raise CommandError(f"failed to create {sub}: {e.message}") from None
        raise
    results.report(created, "created", opts.output, opts.dry_run)
    return 0
