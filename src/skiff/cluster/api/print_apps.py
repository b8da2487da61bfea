"""Table rows for workloads and the other groups (apps, batch, autoscaling, ...)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from skiff.cluster.api.print_core import NONE, _age, _name, format_labels
from skiff.cluster.api.printers import AGE, NAME, Column, register
from skiff.cluster.apimachinery.duration import age, human_duration
from skiff.cluster.apimachinery.meta import get_path, parse_rfc3339
from skiff.cluster.apimachinery.selectors import format_label_selector

Obj = dict[str, Any]

_WIDE_POD = (Column("Containers", priority=1), Column("Images", priority=1), Column("Selector", priority=1))


def containers_and_images(template: Obj | None) -> tuple[str, str]:
    containers = get_path(template, "spec", "containers", default=[])
    return (",".join(str(c.get("name", "")) for c in containers),
            ",".join(str(c.get("image", "")) for c in containers))


def _int(obj: Obj, *path: str) -> int:
    return int(get_path(obj, *path, default=0) or 0)


def _deployment_row(d: Obj, now: datetime) -> list[Any]:
    spec = d.get("spec") or {}
    names, images = containers_and_images(spec.get("template"))
    return [_name(d), f"{_int(d, 'status', 'readyReplicas')}/{int(spec.get('replicas') or 0)}",
            _int(d, "status", "updatedReplicas"), _int(d, "status", "availableReplicas"), _age(d, now),
            names, images, format_label_selector(spec.get("selector"))]


register("apps", "Deployment", (NAME, Column("Ready"), Column("Up-to-date", type="integer"),
                                Column("Available", type="integer"), AGE, *_WIDE_POD), _deployment_row)


def _replica_row(obj: Obj, now: datetime, selector: str) -> list[Any]:
    spec = obj.get("spec") or {}
    names, images = containers_and_images(spec.get("template"))
    return [_name(obj), int(spec.get("replicas") or 0), _int(obj, "status", "replicas"),
            _int(obj, "status", "readyReplicas"), _age(obj, now), names, images, selector]


_REPLICA_COLUMNS = (NAME, Column("Desired", type="integer"), Column("Current", type="integer"),
                    Column("Ready", type="integer"), AGE, *_WIDE_POD)
register("apps", "ReplicaSet", _REPLICA_COLUMNS,
         lambda o, now: _replica_row(o, now, format_label_selector((o.get("spec") or {}).get("selector"))))
register("", "ReplicationController", _REPLICA_COLUMNS,
         lambda o, now: _replica_row(o, now, format_labels((o.get("spec") or {}).get("selector"))))


def _daemonset_row(ds: Obj, now: datetime) -> list[Any]:
    spec = ds.get("spec") or {}
    names, images = containers_and_images(spec.get("template"))
    node_selector = get_path(spec, "template", "spec", "nodeSelector", default={})
    return [_name(ds), _int(ds, "status", "desiredNumberScheduled"), _int(ds, "status", "currentNumberScheduled"),
            _int(ds, "status", "numberReady"), _int(ds, "status", "updatedNumberScheduled"),
            _int(ds, "status", "numberAvailable"), format_labels(node_selector), _age(ds, now),
            names, images, format_label_selector(spec.get("selector"))]


register("apps", "DaemonSet", (
    NAME, Column("Desired", type="integer"), Column("Current", type="integer"), Column("Ready", type="integer"),
    Column("Up-to-date", type="integer"), Column("Available", type="integer"), Column("Node Selector"), AGE,
    *_WIDE_POD), _daemonset_row)


def _statefulset_row(s: Obj, now: datetime) -> list[Any]:
    spec = s.get("spec") or {}
    names, images = containers_and_images(spec.get("template"))
    return [_name(s), f"{_int(s, 'status', 'readyReplicas')}/{int(spec.get('replicas') or 0)}", _age(s, now),
            names, images]


register("apps", "StatefulSet", (NAME, Column("Ready"), AGE, Column("Containers", priority=1),
                                 Column("Images", priority=1)), _statefulset_row)


def _controller_name(rev: Obj) -> str:
    for ref in get_path(rev, "metadata", "ownerReferences", default=[]):
        if ref.get("controller"):
            group = str(ref.get("apiVersion", "")).rpartition("/")[0]
            kind = str(ref.get("kind", "")).lower()
            return f"{kind}.{group}/{ref.get('name')}" if group else f"{kind}/{ref.get('name')}"
    return NONE


register("apps", "ControllerRevision", (NAME, Column("Controller"), Column("Revision", type="integer"), AGE),
         lambda o, now: [_name(o), _controller_name(o), int(o.get("revision") or 0), _age(o, now)])


# ---- batch ----------------------------------------------------------------------------------

def job_status(job: Obj) -> str:
    conditions = {c.get("type"): c.get("status") for c in get_path(job, "status", "conditions", default=[])}
    if conditions.get("Complete") == "True":
        return "Complete"
    if conditions.get("Failed") == "True":
        return "Failed"
    if get_path(job, "metadata", "deletionTimestamp"):
        return "Terminating"
    for kind in ("SuccessCriteriaMet", "FailureTarget", "Suspended"):
        if conditions.get(kind) == "True":
            return kind
    return "Running"


def job_completions(job: Obj) -> str:
    spec = job.get("spec") or {}
    succeeded = _int(job, "status", "succeeded")
    if spec.get("completions") is not None:
        return f"{succeeded}/{spec['completions']}"
    parallelism = spec.get("parallelism")
    if parallelism is not None and parallelism > 1:
        return f"{succeeded}/1 of {parallelism}"
    return f"{succeeded}/1"


def job_duration(job: Obj, now: datetime) -> str:
    start = get_path(job, "status", "startTime")
    if not start:
        return ""
    end = get_path(job, "status", "completionTime")
    finished = parse_rfc3339(end) if end else now
    return human_duration((finished - parse_rfc3339(start)).total_seconds())


def _job_row(job: Obj, now: datetime) -> list[Any]:
    spec = job.get("spec") or {}
    names, images = containers_and_images(spec.get("template"))
    return [_name(job), job_status(job), job_completions(job), job_duration(job, now), _age(job, now),
            names, images, format_label_selector(spec.get("selector"))]


register("batch", "Job", (NAME, Column("Status"), Column("Completions"), Column("Duration"), AGE, *_WIDE_POD),
         _job_row)


def _bool_ptr(value: Any) -> str:
    if value is None:
        return "<unset>"
    return "True" if value else "False"


def _cronjob_row(cj: Obj, now: datetime) -> list[Any]:
    spec = cj.get("spec") or {}
    job_spec = get_path(spec, "jobTemplate", "spec", default={})
    names, images = containers_and_images(job_spec.get("template"))
    last = get_path(cj, "status", "lastScheduleTime")
    return [_name(cj), spec.get("schedule", ""), spec.get("timeZone") or NONE, _bool_ptr(spec.get("suspend")),
            len(get_path(cj, "status", "active", default=[])), age(last, now) if last else NONE, _age(cj, now),
            names, images, format_label_selector(job_spec.get("selector"))]


register("batch", "CronJob", (NAME, Column("Schedule"), Column("Timezone"), Column("Suspend"),
                              Column("Active", type="integer"), Column("Last Schedule"), AGE, *_WIDE_POD),
         _cronjob_row)


# ---- autoscaling, coordination, discovery, scheduling ---------------------------------------

def hpa_targets(hpa: Obj) -> str:
    spec, status = hpa.get("spec") or {}, hpa.get("status") or {}
    if "targetCPUUtilizationPercentage" in spec or "metrics" not in spec:  # autoscaling/v1
        target = spec.get("targetCPUUtilizationPercentage")
        if target is None:
            return NONE
        current = status.get("currentCPUUtilizationPercentage")
        return f"cpu: {current if current is not None else '<unknown>'}%/{target}%".replace("<unknown>%", "<unknown>")
    parts = []
    currents = status.get("currentMetrics") or []
    for i, metric in enumerate(spec.get("metrics") or []):
        if metric.get("type") != "Resource":
            parts.append("<unknown>/<unknown>")
            continue
        res = metric.get("resource") or {}
        target = res.get("target") or {}
        current = get_path(currents, i, "resource", "current", default={})
        if target.get("type") == "Utilization":
            have = current.get("averageUtilization")
            shown = f"{have}%" if have is not None else "<unknown>"
            parts.append(f"{res.get('name')}: {shown}/{target.get('averageUtilization')}%")
        else:
            want = target.get("averageValue") or target.get("value")
            have = current.get("averageValue") or current.get("value") or "<unknown>"
            parts.append(f"{res.get('name')}: {have}/{want}")
    return ", ".join(parts) if parts else NONE


def _hpa_row(hpa: Obj, now: datetime) -> list[Any]:
    spec = hpa.get("spec") or {}
    ref = spec.get("scaleTargetRef") or {}
    min_pods = spec.get("minReplicas")
    return [_name(hpa), f"{ref.get('kind', '')}/{ref.get('name', '')}", hpa_targets(hpa),
            str(min_pods) if min_pods is not None else "<unset>", int(spec.get("maxReplicas") or 0),
            _int(hpa, "status", "currentReplicas"), _age(hpa, now)]


register("autoscaling", "HorizontalPodAutoscaler", (
    NAME, Column("Reference"), Column("Targets"), Column("MinPods"), Column("MaxPods", type="integer"),
    Column("Replicas", type="integer"), AGE), _hpa_row)

register("coordination.k8s.io", "Lease", (NAME, Column("Holder"), AGE),
         lambda o, now: [_name(o), get_path(o, "spec", "holderIdentity", default=""), _age(o, now)])


def _slice_row(s: Obj, now: datetime) -> list[Any]:
    ports = [str(p.get("port")) for p in s.get("ports") or [] if p.get("port") is not None]
    addresses = [a for e in s.get("endpoints") or [] for a in e.get("addresses") or []]
    shown = ",".join(addresses[:3]) + (f" + {len(addresses) - 3} more..." if len(addresses) > 3 else "")
    return [_name(s), s.get("addressType", ""), ",".join(ports) if ports else "<unset>",
            shown or "<unset>", _age(s, now)]


register("discovery.k8s.io", "EndpointSlice", (NAME, Column("AddressType"), Column("Ports"), Column("Endpoints"),
                                               AGE), _slice_row)

register("scheduling.k8s.io", "PriorityClass", (
    NAME, Column("Value", type="integer"), Column("Global-Default", type="boolean"), AGE, Column("PreemptionPolicy")),
    lambda o, now: [_name(o), int(o.get("value") or 0), bool(o.get("globalDefault")), _age(o, now),
                    o.get("preemptionPolicy", "")])


register("networking.k8s.io", "NetworkPolicy", (NAME, Column("Pod-Selector"), AGE),
         lambda p, now: [_name(p), format_label_selector(get_path(p, "spec", "podSelector", default={})), _age(p, now)])
