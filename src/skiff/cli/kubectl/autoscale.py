"""`kubectl autoscale TYPE NAME --min --max --cpu-percent`: an autoscaling/v1 HorizontalPodAutoscaler."""

from __future__ import annotations

from typing import Any

from skiff.cli.kubectl import options, results, targets
from skiff.cli.kubectl.run_cmd import report_built
from skiff.cli.kubectl.session import CommandError, Session

HELP = """Creates an autoscaler that automatically chooses and sets the number of pods that run in a Kubernetes cluster.

Examples:
  kubectl autoscale deployment foo --min=2 --max=10
  kubectl autoscale rc foo --max=5 --cpu-percent=80"""

SCALABLE = {"Deployment", "ReplicaSet", "ReplicationController", "StatefulSet"}


def hpa(target: dict[str, Any], api_version: str, kind: str, *, name: str, min_replicas: int, max_replicas: int,
        cpu_percent: int) -> dict[str, Any]:
    """The HPA kubectl's autoscale builds (Go struct key order, for -o json); pure."""
    if max_replicas < 1:
        raise CommandError("--max=MAXPODS is required and must be at least 1, max: " + str(max_replicas))
    if min_replicas > max_replicas:
        raise CommandError(f"--max=MAXPODS must be larger or equal to --min=MINPODS, max: {max_replicas}, "
                           f"min: {min_replicas}")
    meta = target.get("metadata") or {}
    spec: dict[str, Any] = {"scaleTargetRef": {"kind": kind, "name": meta.get("name", ""), "apiVersion": api_version}}
    if min_replicas > 0:
        spec["minReplicas"] = min_replicas
    spec["maxReplicas"] = max_replicas
    if cpu_percent >= 0:
        spec["targetCPUUtilizationPercentage"] = cpu_percent
    return {"kind": "HorizontalPodAutoscaler", "apiVersion": "autoscaling/v1",
            "metadata": {"name": name or meta.get("name", ""), "creationTimestamp": None},
            "spec": spec, "status": {"currentReplicas": 0, "desiredReplicas": 0}}


def run(word: str, argv: list[str]) -> int:
    p = options.parser("autoscale", HELP)
    p.add_argument("words", nargs="*", metavar="(-f FILENAME | TYPE NAME | TYPE/NAME)")
    p.add_argument("--min", type=int, default=-1, help="The lower limit for the number of pods.")
    p.add_argument("--max", type=int, default=-1, help="The upper limit for the number of pods. Required.")
    p.add_argument("--cpu-percent", type=int, default=-1, help="The target average CPU utilization over all the pods.")
    p.add_argument("--name", default="", help="The name for the newly created object.")
    p.add_argument("--field-manager", default="kubectl-autoscale", help="Name of the manager used to track field ownership.")
    options.add_output(p)
    options.add_dry_run(p)
    opts = p.parse_intermixed_args(argv)
    if opts.max == -1:  # cobra's check of a required flag, before the command runs
        raise CommandError('required flag(s) "max" not set')
    session = Session(opts)
    # The object built is autoscaling/v1's shape: post it there, not to the preferred v2 (which
    # has no targetCPUUtilizationPercentage and would drop the target with a warning).
    hpa_res = session.resource_for("autoscaling/v1", "HorizontalPodAutoscaler")
    if not opts.words:
        raise CommandError("required resource not specified")
    params = {**results.dry_run_params(opts.dry_run), "fieldManager": opts.field_manager}
    for target in targets.resolve(session, opts.words, allow_all=False):
        res = target.resource
        if res.kind not in SCALABLE:
            raise CommandError(f"cannot autoscale a {res.kind}: cannot autoscale a {res.kind}")
        for name in target.names:
            ns = session.ns_for(res)
            obj = session.client.get(res, name, ns)
            out = hpa(obj, res.group_version, res.kind, name=opts.name, min_replicas=opts.min,
                      max_replicas=opts.max, cpu_percent=opts.cpu_percent)
            if opts.dry_run == "client":
                report_built(out, "autoscaled", opts.output, opts.dry_run)
                continue
            created = session.client.create(hpa_res, out, session.ns_for(hpa_res), params=params)
            results.report(created, "autoscaled", opts.output, opts.dry_run)
    return 0
