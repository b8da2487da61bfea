"""Kubernetes' defaulting (the SetDefaults_* functions) for the fields users see.

Applied to every object the API server decodes (create, update, patch results), so a
value the user left out reads back the way a real cluster shows it.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from skiff.cluster.api import networkpolicy, schema
from skiff.cluster.api.registry import Resource

Obj = dict[str, Any]


def _set(d: Obj, key: str, value: Any) -> None:
    if d.get(key) is None:
        d[key] = value


def _dict(d: Obj, key: str) -> Obj:
    value = d.get(key)
    if not isinstance(value, dict):
        value = {}
        d[key] = value
    return value


def _list(d: Obj, key: str) -> list[Any]:
    value = d.get(key)
    return value if isinstance(value, list) else []


def image_pull_policy(image: str) -> str:
    """Always for `:latest` or an untagged image, else IfNotPresent; a digest pins it."""
    if "@" in image:
        return "IfNotPresent"
    last = image.rsplit("/", 1)[-1]
    tag = last.rsplit(":", 1)[1] if ":" in last else ""
    return "Always" if tag in ("", "latest") else "IfNotPresent"


def probe(p: Any) -> None:
    if not isinstance(p, dict):
        return
    _set(p, "timeoutSeconds", 1)
    _set(p, "periodSeconds", 10)
    _set(p, "successThreshold", 1)
    _set(p, "failureThreshold", 3)
    http = p.get("httpGet")
    if isinstance(http, dict):
        _set(http, "path", "/")
        _set(http, "scheme", "HTTP")


def container(c: Obj) -> None:
    if isinstance(c.get("image"), str) and c.get("image"):
        _set(c, "imagePullPolicy", image_pull_policy(c["image"]))
    _set(c, "terminationMessagePath", "/dev/termination-log")
    _set(c, "terminationMessagePolicy", "File")
    _set(c, "resources", {})
    for port in _list(c, "ports"):
        if isinstance(port, dict):
            _set(port, "protocol", "TCP")
    for key in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe(c.get(key))
    for env in _list(c, "env"):
        field_ref = ((env or {}).get("valueFrom") or {}).get("fieldRef") if isinstance(env, dict) else None
        if isinstance(field_ref, dict):
            _set(field_ref, "apiVersion", "v1")
    resources = c.get("resources")
    if isinstance(resources, dict) and isinstance(resources.get("limits"), dict):
        # SetDefaults_Pod: a limit without a request requests the limit
        requests = _dict(resources, "requests")
        for name, value in resources["limits"].items():
            requests.setdefault(name, value)


def volume(v: Obj) -> None:
    for source in ("secret", "configMap", "downwardAPI", "projected"):
        if isinstance(v.get(source), dict):
            _set(v[source], "defaultMode", 420)
    if isinstance(v.get("hostPath"), dict):
        _set(v["hostPath"], "type", "")
    if isinstance(v.get("downwardAPI"), dict):
        for item in _list(v["downwardAPI"], "items"):
            if isinstance(item, dict) and isinstance(item.get("fieldRef"), dict):
                _set(item["fieldRef"], "apiVersion", "v1")
    if v.keys() <= {"name"}:
        v["emptyDir"] = {}  # a volume with no source is an emptyDir


def pod_spec(spec: Obj) -> None:
    _set(spec, "restartPolicy", "Always")
    _set(spec, "terminationGracePeriodSeconds", 30)
    _set(spec, "dnsPolicy", "ClusterFirst")
    _set(spec, "securityContext", {})
    _set(spec, "schedulerName", "default-scheduler")
    for key in ("containers", "initContainers"):
        for c in _list(spec, key):
            if isinstance(c, dict):
                container(c)
                if spec.get("hostNetwork"):
                    for port in _list(c, "ports"):
                        if isinstance(port, dict) and port.get("containerPort"):
                            _set(port, "hostPort", port["containerPort"])
    for v in _list(spec, "volumes"):
        if isinstance(v, dict):
            volume(v)


def pod_template(template: Any) -> None:
    if isinstance(template, dict):
        pod_spec(_dict(template, "spec"))


def pod(obj: Obj) -> None:
    spec = _dict(obj, "spec")
    pod_spec(spec)
    _set(spec, "enableServiceLinks", True)
    service_account_alias(spec)


def service_account_alias(spec: Obj) -> None:
    """v1 keeps the deprecated `serviceAccount` equal to `serviceAccountName` (either may be given)."""
    if spec.get("serviceAccountName"):
        spec["serviceAccount"] = spec["serviceAccountName"]
    elif spec.get("serviceAccount"):
        spec["serviceAccountName"] = spec["serviceAccount"]


def service(obj: Obj) -> None:
    spec = _dict(obj, "spec")
    _set(spec, "type", "ClusterIP")
    _set(spec, "sessionAffinity", "None")
    kind = spec["type"]
    for port in _list(spec, "ports"):
        if not isinstance(port, dict):
            continue
        _set(port, "protocol", "TCP")
        if port.get("targetPort") in (None, 0, "") and port.get("port") is not None:
            port["targetPort"] = port["port"]
    if kind != "ExternalName":
        _set(spec, "internalTrafficPolicy", "Cluster")
        _set(spec, "ipFamilyPolicy", "SingleStack")
        _set(spec, "ipFamilies", ["IPv4"])
    if kind in ("NodePort", "LoadBalancer"):
        _set(spec, "externalTrafficPolicy", "Cluster")
    if kind == "LoadBalancer":
        _set(spec, "allocateLoadBalancerNodePorts", True)


def replication_controller(obj: Obj) -> None:
    spec = _dict(obj, "spec")
    template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    if template_labels:
        if not spec.get("selector"):
            spec["selector"] = dict(template_labels)
        meta = _dict(obj, "metadata")
        if not meta.get("labels"):
            meta["labels"] = dict(template_labels)
    _set(spec, "replicas", 1)
    pod_template(spec.get("template"))


def replica_set(obj: Obj) -> None:
    spec = _dict(obj, "spec")
    _set(spec, "replicas", 1)
    pod_template(spec.get("template"))


def deployment(obj: Obj) -> None:
    spec = _dict(obj, "spec")
    _set(spec, "replicas", 1)
    strategy = _dict(spec, "strategy")
    _set(strategy, "type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = _dict(strategy, "rollingUpdate")
        _set(rolling, "maxUnavailable", "25%")
        _set(rolling, "maxSurge", "25%")
    _set(spec, "revisionHistoryLimit", 10)
    _set(spec, "progressDeadlineSeconds", 600)
    pod_template(spec.get("template"))


def daemon_set(obj: Obj) -> None:
    spec = _dict(obj, "spec")
    strategy = _dict(spec, "updateStrategy")
    _set(strategy, "type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = _dict(strategy, "rollingUpdate")
        _set(rolling, "maxUnavailable", 1)
        _set(rolling, "maxSurge", 0)
    _set(spec, "revisionHistoryLimit", 10)
    pod_template(spec.get("template"))


def persistent_volume_claim_spec(spec: Obj) -> None:
    _set(spec, "volumeMode", "Filesystem")


def stateful_set(obj: Obj) -> None:
    spec = _dict(obj, "spec")
    _set(spec, "podManagementPolicy", "OrderedReady")
    strategy = _dict(spec, "updateStrategy")
    _set(strategy, "type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        _set(_dict(strategy, "rollingUpdate"), "partition", 0)
    _set(spec, "replicas", 1)
    _set(spec, "revisionHistoryLimit", 10)
    retention = _dict(spec, "persistentVolumeClaimRetentionPolicy")
    _set(retention, "whenDeleted", "Retain")
    _set(retention, "whenScaled", "Retain")
    for claim in _list(spec, "volumeClaimTemplates"):
        if isinstance(claim, dict):
            persistent_volume_claim_spec(_dict(claim, "spec"))
    pod_template(spec.get("template"))


def job_spec(spec: Obj) -> None:
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
        spec["parallelism"] = 1
    _set(spec, "parallelism", 1)
    _set(spec, "backoffLimit", 6)
    _set(spec, "completionMode", "NonIndexed")
    _set(spec, "suspend", False)
    if spec.get("podFailurePolicy") is None:
        _set(spec, "podReplacementPolicy", "TerminatingOrFailed")
    pod_template(spec.get("template"))


def job(obj: Obj) -> None:
    job_spec(_dict(obj, "spec"))


def cron_job(obj: Obj) -> None:
    spec = _dict(obj, "spec")
    _set(spec, "concurrencyPolicy", "Allow")
    _set(spec, "suspend", False)
    _set(spec, "successfulJobsHistoryLimit", 3)
    _set(spec, "failedJobsHistoryLimit", 1)
    template = spec.get("jobTemplate")
    if isinstance(template, dict):
        # a CronJob's job template is defaulted like a pod template; the job defaults come at Job creation
        pod_template(_dict(template, "spec").get("template"))


def namespace(obj: Obj) -> None:
    meta = _dict(obj, "metadata")
    if meta.get("name"):
        _dict(meta, "labels")["kubernetes.io/metadata.name"] = meta["name"]


def secret(obj: Obj) -> None:
    _set(obj, "type", "Opaque")
    # stringData is write-only: its entries land in data, base64-encoded, overriding data's
    string_data = obj.pop("stringData", None)
    if isinstance(string_data, dict) and string_data:
        data = _dict(obj, "data")
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value).encode()).decode()


def persistent_volume(obj: Obj) -> None:
    spec = _dict(obj, "spec")
    _set(spec, "persistentVolumeReclaimPolicy", "Retain")
    _set(spec, "volumeMode", "Filesystem")


def persistent_volume_claim(obj: Obj) -> None:
    persistent_volume_claim_spec(_dict(obj, "spec"))


def limit_range(obj: Obj) -> None:
    for item in _list(_dict(obj, "spec"), "limits"):
        if not isinstance(item, dict) or item.get("type") != "Container":
            continue
        default = _dict(item, "default")
        for name, value in (item.get("max") or {}).items():
            default.setdefault(name, value)
        request = _dict(item, "defaultRequest")
        for name, value in default.items():
            request.setdefault(name, value)
        for name, value in (item.get("min") or {}).items():
            request.setdefault(name, value)


def endpoints(obj: Obj) -> None:
    for subset in _list(obj, "subsets"):
        for port in _list(subset or {}, "ports"):
            if isinstance(port, dict):
                _set(port, "protocol", "TCP")


def endpoint_slice(obj: Obj) -> None:
    for port in _list(obj, "ports"):
        if isinstance(port, dict):
            _set(port, "protocol", "TCP")
            _set(port, "name", "")


def priority_class(obj: Obj) -> None:
    _set(obj, "preemptionPolicy", "PreemptLowerPriority")


def hpa(obj: Obj) -> None:
    spec = _dict(obj, "spec")
    _set(spec, "minReplicas", 1)


def hpa_v2(obj: Obj) -> None:
    hpa(obj)
    spec = _dict(obj, "spec")
    if not spec.get("metrics"):
        spec["metrics"] = [{"type": "Resource", "resource": {
            "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]


_BY_KIND: dict[tuple[str, str], Callable[[Obj], None]] = {
    ("", "Pod"): pod,
    ("", "Service"): service,
    ("", "ReplicationController"): replication_controller,
    ("", "Namespace"): namespace,
    ("", "Secret"): secret,
    ("", "PersistentVolume"): persistent_volume,
    ("", "PersistentVolumeClaim"): persistent_volume_claim,
    ("", "LimitRange"): limit_range,
    ("", "Endpoints"): endpoints,
    ("apps", "Deployment"): deployment,
    ("apps", "ReplicaSet"): replica_set,
    ("apps", "DaemonSet"): daemon_set,
    ("apps", "StatefulSet"): stateful_set,
    ("batch", "Job"): job,
    ("batch", "CronJob"): cron_job,
    ("autoscaling", "HorizontalPodAutoscaler"): hpa,
    ("discovery.k8s.io", "EndpointSlice"): endpoint_slice,
    ("scheduling.k8s.io", "PriorityClass"): priority_class,
    ("networking.k8s.io", "NetworkPolicy"): networkpolicy.defaults,
}


def apply_defaults(res: Resource, obj: Obj) -> None:
    schema.canonical_quantities(res.definition, obj)
    fn = _BY_KIND.get((res.group, res.kind))
    if res.kind == "HorizontalPodAutoscaler" and res.version == "v2":
        fn = hpa_v2
    if fn is not None:
        fn(obj)
