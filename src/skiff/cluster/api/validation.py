"""Semantic validation per kind, with Kubernetes' messages and field paths.

`validate(res, obj, old)` returns causes for errors.invalid(); an empty list means valid.
"""

from __future__ import annotations

import base64
import binascii
import copy
from collections.abc import Callable
from typing import Any

from skiff.cluster.api import defaults, networkpolicy, podspec
from skiff.cluster.api import infravalidation as infra
from skiff.cluster.api.registry import Resource
from skiff.cluster.apimachinery import fielderrors as fe
from skiff.cluster.apimachinery import names
from skiff.cluster.apimachinery.selectors import LabelSelector

Obj = dict[str, Any]
Causes = list[dict[str, Any]]

TOTAL_ANNOTATION_SIZE = 256 * 1024
MAX_CONFIG_SIZE = 1024 * 1024

# Kinds whose names must be DNS-1123 labels (or DNS-1035 for services), not subdomains.
_LABEL_NAMED = {"Namespace"}
_DNS1035_NAMED = {"Service"}
# RBAC objects take any path segment name (`system:node`), as ValidatePathSegmentName allows.
_PATH_SEGMENT_NAMED = {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"}


def go_map(d: Any) -> str:
    """A label map as Go's %#v prints it in field errors: map[string]string{"app":"web"}."""
    inner = ", ".join(f'"{k}":"{v}"' for k, v in sorted((d or {}).items()))
    return f"map[string]string{{{inner}}}"


def _raw_invalid(field: str, shown: str, detail: str) -> dict[str, Any]:
    return {"type": "FieldValueInvalid", "message": f"Invalid value: {shown}: {detail}", "field": field}


def label_errors(value: Any, path: str) -> Causes:
    causes: Causes = []
    for key, val in (value or {}).items():
        causes += [fe.invalid(path, key, m) for m in names.qualified_name(str(key))]
        causes += [fe.invalid(path, val, m) for m in names.label_value(str(val))]
    return causes


def annotation_errors(value: Any, path: str) -> Causes:
    causes: Causes = []
    total = 0
    for key, val in (value or {}).items():
        causes += [fe.invalid(path, key, m) for m in names.qualified_name(str(key).lower())]
        total += len(key) + len(str(val))
    if total > TOTAL_ANNOTATION_SIZE:
        causes.append(fe.too_long(path, TOTAL_ANNOTATION_SIZE))
    return causes


def name_errors(res: Resource, name: str) -> list[str]:
    if res.kind in _LABEL_NAMED:
        return names.dns1123_label(name)
    if res.kind in _DNS1035_NAMED:
        return names.dns1035_label(name)
    if res.kind in _PATH_SEGMENT_NAMED and res.group == "rbac.authorization.k8s.io":
        return _path_segment(name)
    return names.dns1123_subdomain(name)


def _path_segment(name: str) -> list[str]:
    if name in (".", ".."):
        return [f'may not be \'{name}\'']
    return [f"may not contain '{c}'" for c in ("/", "%") if c in name]


def object_meta(res: Resource, meta: Any, old_meta: Any = None) -> Causes:
    if not isinstance(meta, dict):
        return [fe.required("metadata.name", "name or generateName is required")]
    causes: Causes = []
    name = meta.get("name")
    generate = meta.get("generateName")
    if generate:
        # a prefix may end in '-': checked as if a letter followed (maskTrailingDash)
        masked = str(generate)[:-1] + "a" if str(generate).endswith("-") and len(str(generate)) > 1 else str(generate)
        causes += [fe.invalid("metadata.generateName", generate, m) for m in name_errors(res, masked)]
    if not name:
        if not generate:
            causes.append(fe.required("metadata.name", "name or generateName is required"))
    else:
        causes += [fe.invalid("metadata.name", name, m) for m in name_errors(res, str(name))]
    for i, finalizer in enumerate(meta.get("finalizers") or []):
        causes += [fe.invalid(f"metadata.finalizers[{i}]", finalizer, m)
                   for m in names.qualified_name(str(finalizer))]
    namespace = meta.get("namespace")
    if res.namespaced:
        if not namespace:
            causes.append(fe.required("metadata.namespace"))
        else:
            causes += [fe.invalid("metadata.namespace", namespace, m) for m in names.dns1123_label(namespace)]
    elif namespace:
        causes.append(fe.forbidden("metadata.namespace", "not allowed on this type"))
    causes += label_errors(meta.get("labels"), "metadata.labels")
    causes += annotation_errors(meta.get("annotations"), "metadata.annotations")
    for i, ref in enumerate(meta.get("ownerReferences") or []):
        for key in ("apiVersion", "kind", "name", "uid"):
            if not (ref or {}).get(key):
                detail = {"apiVersion": "version must not be empty", "kind": "kind must not be empty",
                          "name": "name must not be empty", "uid": "uid must not be empty"}[key]
                causes.append(fe.invalid(f"metadata.ownerReferences[{i}].{key}", (ref or {}).get(key, ""), detail))
    if isinstance(old_meta, dict):
        for key in ("name", "namespace", "uid", "creationTimestamp"):
            if old_meta.get(key) and meta.get(key) != old_meta.get(key):
                causes.append(fe.invalid(f"metadata.{key}", meta.get(key), "field is immutable"))
        if old_meta.get("generateName") is not None and meta.get("generateName") != old_meta.get("generateName"):
            causes.append(fe.invalid("metadata.generateName", meta.get("generateName"), "field is immutable"))
    return causes


# ---- per kind ------------------------------------------------------------------------------


def _template_and_selector(spec: Obj, selector: LabelSelector, shown_selector: str, path: str = "spec") -> Causes:
    causes: Causes = []
    template = spec.get("template")
    if not isinstance(template, dict):
        return [fe.required(f"{path}.template")]
    tlabels = (template.get("metadata") or {}).get("labels") or {}
    causes += label_errors(tlabels, f"{path}.template.metadata.labels")
    if not selector.empty and not selector.matches(tlabels):
        causes.append(_raw_invalid(f"{path}.template.metadata.labels", go_map(tlabels),
                                   "`selector` does not match template `labels`"))
    causes += podspec.pod_spec(template.get("spec"), f"{path}.template.spec")
    return causes


def _label_selector(spec: Obj, kind: str) -> tuple[Causes, LabelSelector]:
    sel = spec.get("selector")
    if sel is None:
        return [fe.required("spec.selector")], LabelSelector()
    selector = LabelSelector.from_object(sel)
    causes: Causes = []
    if selector.empty:
        causes.append(_raw_invalid("spec.selector", "v1.LabelSelector{MatchLabels:map[string]string(nil), "
                                   "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}",
                                   f"empty selector is invalid for {kind}"))
    causes += label_errors(sel.get("matchLabels"), "spec.selector.matchLabels")
    return causes, selector


def _non_negative(spec: Obj, key: str, path: str = "spec") -> Causes:
    value = spec.get(key)
    if isinstance(value, int) and value < 0:
        return [fe.invalid(f"{path}.{key}", value, "must be greater than or equal to 0")]
    return []


def _restart_always(spec: Obj) -> Causes:
    policy = ((spec.get("template") or {}).get("spec") or {}).get("restartPolicy")
    if policy is not None and policy != "Always":
        return [fe.not_supported("spec.template.spec.restartPolicy", policy, ["Always"])]
    return []


def _selector_immutable(spec: Obj, old: Obj | None) -> Causes:
    if old is not None and spec.get("selector") != (old.get("spec") or {}).get("selector"):
        return [_raw_invalid("spec.selector", "v1.LabelSelector{...}", "field is immutable")]
    return []


def workload(obj: Obj, old: Obj | None, kind: str) -> Causes:
    spec = obj.get("spec") or {}
    causes, selector = _label_selector(spec, kind)
    causes += _non_negative(spec, "replicas") + _non_negative(spec, "minReadySeconds")
    causes += _non_negative(spec, "revisionHistoryLimit")
    causes += _template_and_selector(spec, selector, "")
    causes += _restart_always(spec)
    causes += _selector_immutable(spec, old)
    return causes


def deployment(obj: Obj, old: Obj | None) -> Causes:
    causes = workload(obj, old, "deployment")
    strategy = (obj.get("spec") or {}).get("strategy") or {}
    kind = strategy.get("type")
    if kind is not None and kind not in ("Recreate", "RollingUpdate"):
        causes.append(fe.not_supported("spec.strategy.type", kind, ["Recreate", "RollingUpdate"]))
    if kind == "Recreate" and strategy.get("rollingUpdate"):
        causes.append(fe.forbidden("spec.strategy.rollingUpdate",
                                   "may not be specified when strategy `type` is 'Recreate'"))
    return causes


def replication_controller(obj: Obj, old: Obj | None) -> Causes:
    spec = obj.get("spec") or {}
    selector_map = spec.get("selector") or {}
    causes: Causes = []
    if not selector_map:
        causes.append(fe.required("spec.selector"))
    causes += label_errors(selector_map, "spec.selector")
    causes += _non_negative(spec, "replicas") + _non_negative(spec, "minReadySeconds")
    selector = LabelSelector.from_set(selector_map)
    if spec.get("template") is not None or spec.get("replicas", 1):
        causes += _template_and_selector(spec, selector, "")
        causes += _restart_always(spec)
    return causes


def job(obj: Obj, old: Obj | None) -> Causes:
    spec = obj.get("spec") or {}
    causes: Causes = []
    for key in ("parallelism", "completions", "backoffLimit", "activeDeadlineSeconds", "ttlSecondsAfterFinished"):
        causes += _non_negative(spec, key)
    selector = LabelSelector.from_object(spec.get("selector")) if spec.get("selector") else LabelSelector()
    causes += _template_and_selector(spec, selector, "")
    policy = ((spec.get("template") or {}).get("spec") or {}).get("restartPolicy")
    if policy not in ("OnFailure", "Never"):
        causes.append(fe.not_supported("spec.template.spec.restartPolicy", policy, ["OnFailure", "Never"]))
    if old is not None:
        old_spec = old.get("spec") or {}
        causes += _selector_immutable(spec, old)
        if spec.get("completions") != old_spec.get("completions") and spec.get("completionMode") != "Indexed":
            causes.append(fe.invalid("spec.completions", spec.get("completions"), "field is immutable"))
        if spec.get("template") != old_spec.get("template") and not spec.get("suspend"):
            causes.append(_raw_invalid("spec.template", "core.PodTemplateSpec{...}", "field is immutable"))
    return causes


def _cron_field_ok(field: str, low: int, high: int) -> bool:
    for part in field.split(","):
        base, _, step = part.partition("/")
        if step and not step.isdigit():
            return False
        if base in ("*", "?"):
            continue
        lo, _, hi = base.partition("-")
        for v in (lo, hi) if hi else (lo,):
            if not v.isdigit() or not low <= int(v) <= high:
                if not v.isalpha():
                    return False
    return True


def cron_schedule_ok(schedule: str) -> bool:
    text = schedule.strip()
    if text.startswith("TZ=") or text.startswith("CRON_TZ="):
        text = text.split(None, 1)[1] if " " in text else ""
    if text.startswith("@"):
        return text in ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly") \
            or text.startswith("@every ")
    fields = text.split()
    bounds = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
    return len(fields) == 5 and all(_cron_field_ok(f, lo, hi) for f, (lo, hi) in zip(fields, bounds, strict=True))


def cron_job(obj: Obj, old: Obj | None) -> Causes:
    spec = obj.get("spec") or {}
    causes: Causes = []
    schedule = spec.get("schedule")
    if not schedule:
        causes.append(fe.required("spec.schedule"))
    elif not cron_schedule_ok(schedule):
        causes.append(fe.invalid("spec.schedule", schedule, "unparseable cron schedule"))
    policy = spec.get("concurrencyPolicy")
    if policy is not None and policy not in ("Allow", "Forbid", "Replace"):
        causes.append(fe.not_supported("spec.concurrencyPolicy", policy, ["Allow", "Forbid", "Replace"]))
    template = ((spec.get("jobTemplate") or {}).get("spec") or {})
    tspec = (template.get("template") or {}).get("spec")
    causes += podspec.pod_spec(tspec, "spec.jobTemplate.spec.template.spec")
    restart = (tspec or {}).get("restartPolicy")
    if restart not in ("OnFailure", "Never"):
        causes.append(fe.not_supported("spec.jobTemplate.spec.template.spec.restartPolicy", restart,
                                       ["OnFailure", "Never"]))
    return causes


SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]


def service(obj: Obj, old: Obj | None) -> Causes:
    spec = obj.get("spec") or {}
    causes: Causes = []
    kind = spec.get("type", "ClusterIP")
    if kind not in SERVICE_TYPES:
        causes.append(fe.not_supported("spec.type", kind, SERVICE_TYPES))
    ports = spec.get("ports") or []
    if not ports and kind != "ExternalName" and spec.get("clusterIP") != "None":
        causes.append(fe.required("spec.ports"))
    seen_names: set[str] = set()
    for i, port in enumerate(ports):
        if not isinstance(port, dict):
            continue
        path = f"spec.ports[{i}]"
        if len(ports) > 1 and not port.get("name"):
            causes.append(fe.required(f"{path}.name"))
        if port.get("name"):
            if port["name"] in seen_names:
                causes.append(fe.duplicate(f"{path}.name", port["name"]))
            seen_names.add(port["name"])
            causes += [fe.invalid(f"{path}.name", port["name"], m) for m in names.dns1123_label(port["name"])]
        value = port.get("port")
        if not isinstance(value, int) or not 1 <= value <= 65535:
            causes.append(fe.invalid(f"{path}.port", value, "must be between 1 and 65535, inclusive"))
        target = port.get("targetPort")
        if isinstance(target, int) and not 1 <= target <= 65535:
            causes.append(fe.invalid(f"{path}.targetPort", target, "must be between 1 and 65535, inclusive"))
        elif isinstance(target, str) and target and not target.isdigit():
            causes += [fe.invalid(f"{path}.targetPort", target, m) for m in names.port_name(target)]
        protocol = port.get("protocol")
        if protocol is not None and protocol not in podspec.PROTOCOLS:
            causes.append(fe.not_supported(f"{path}.protocol", protocol, podspec.PROTOCOLS))
        if port.get("nodePort") and kind not in ("NodePort", "LoadBalancer"):
            causes.append(fe.forbidden(f"{path}.nodePort", "may not be used when `type` is 'ClusterIP'"))
    if kind == "ExternalName":
        external = spec.get("externalName")
        if not external:
            causes.append(fe.required("spec.externalName"))
    affinity = spec.get("sessionAffinity")
    if affinity is not None and affinity not in ("ClientIP", "None"):
        causes.append(fe.not_supported("spec.sessionAffinity", affinity, ["ClientIP", "None"]))
    causes += label_errors(spec.get("selector"), "spec.selector")
    if old is not None:
        old_ip = (old.get("spec") or {}).get("clusterIP")
        new_ip = spec.get("clusterIP")
        if old_ip and new_ip != old_ip and (old.get("spec") or {}).get("type") != "ExternalName" \
                and kind != "ExternalName":
            causes.append(fe.invalid("spec.clusterIPs[0]", new_ip, "may not change once set"))
    return causes


def _data_keys(obj: Obj, field: str) -> Causes:
    causes: Causes = []
    for key in (obj.get(field) or {}):
        causes += [fe.invalid(f"{field}[{key}]", key, m) for m in names.config_map_key(key)]
    return causes


def config_map(obj: Obj, old: Obj | None) -> Causes:
    causes = _data_keys(obj, "data") + _data_keys(obj, "binaryData")
    for key in set(obj.get("data") or {}) & set(obj.get("binaryData") or {}):
        causes.append(fe.invalid(f"data[{key}]", key, "duplicate of key present in binaryData"))
    size = sum(len(str(v)) for v in (obj.get("data") or {}).values())
    if size > MAX_CONFIG_SIZE:
        causes.append(fe.too_long("", MAX_CONFIG_SIZE))
    causes += _immutable_data(obj, old)
    return causes


def _immutable_data(obj: Obj, old: Obj | None) -> Causes:
    if old is None or not old.get("immutable"):
        return []
    causes: Causes = []
    if not obj.get("immutable"):
        causes.append(fe.forbidden("immutable", "field is immutable when `immutable` is set"))
    for field in ("data", "binaryData", "stringData"):
        if (obj.get(field) or {}) != (old.get(field) or {}):
            causes.append(fe.forbidden(field, "field is immutable when `immutable` is set"))
    return causes


def secret(obj: Obj, old: Obj | None) -> Causes:
    causes = _data_keys(obj, "data")
    for key, value in (obj.get("data") or {}).items():
        try:
            base64.b64decode(str(value), validate=True)
        except (binascii.Error, ValueError):
            causes.append(fe.invalid(f"data[{key}]", "<secret contents redacted>", "illegal base64 data"))
    if old is not None and obj.get("type") != old.get("type"):
        causes.append(fe.invalid("type", obj.get("type"), "field is immutable"))
    causes += _immutable_data(obj, old)
    return causes


def namespace(obj: Obj, old: Obj | None) -> Causes:
    return []


def pod(obj: Obj, old: Obj | None) -> Causes:
    causes = podspec.pod_spec(obj.get("spec"))
    if old is not None and isinstance(obj.get("spec"), dict):
        # compare like with like: both as today's defaulting leaves them
        old_pod, new_pod = copy.deepcopy(old), copy.deepcopy(obj)
        defaults.pod(old_pod)
        defaults.pod(new_pod)
        causes += podspec.pod_spec_update(new_pod["spec"], old_pod.get("spec") or {})
    return causes


def priority_class(obj: Obj, old: Obj | None) -> Causes:
    value = obj.get("value")
    causes: Causes = []
    if not isinstance(value, int):
        causes.append(fe.required("value"))
    elif value > 1_000_000_000 and not str((obj.get("metadata") or {}).get("name", "")).startswith("system-"):
        causes.append(fe.forbidden("value", "maximum allowed value of a user defined priority is 1000000000"))
    if old is not None and value != old.get("value"):
        causes.append(fe.forbidden("value", "may not be changed in an update."))
    return causes


def hpa(obj: Obj, old: Obj | None) -> Causes:
    spec = obj.get("spec") or {}
    causes: Causes = []
    ref = spec.get("scaleTargetRef") or {}
    if not ref.get("kind"):
        causes.append(fe.required("spec.scaleTargetRef.kind"))
    if not ref.get("name"):
        causes.append(fe.required("spec.scaleTargetRef.name"))
    low, high = spec.get("minReplicas", 1), spec.get("maxReplicas")
    if not isinstance(high, int) or high < 1:
        causes.append(fe.invalid("spec.maxReplicas", high, "must be greater than 0"))
    elif isinstance(low, int) and low > high:
        causes.append(fe.invalid("spec.maxReplicas", high, "must be greater than or equal to `minReplicas`"))
    if isinstance(low, int) and low < 1:
        causes.append(fe.invalid("spec.minReplicas", low, "must be greater than or equal to 1"))
    return causes


_BY_KIND: dict[tuple[str, str], Callable[[Obj, Obj | None], Causes]] = {
    ("", "Pod"): pod,
    ("", "Service"): service,
    ("", "ReplicationController"): replication_controller,
    ("", "ConfigMap"): config_map,
    ("", "Secret"): secret,
    ("", "Namespace"): namespace,
    ("apps", "Deployment"): deployment,
    ("apps", "ReplicaSet"): lambda o, old: workload(o, old, "replicaset"),
    ("apps", "DaemonSet"): lambda o, old: workload(o, old, "daemonset"),
    ("apps", "StatefulSet"): lambda o, old: workload(o, old, "statefulset"),
    ("batch", "Job"): job,
    ("batch", "CronJob"): cron_job,
    ("autoscaling", "HorizontalPodAutoscaler"): hpa,
    ("scheduling.k8s.io", "PriorityClass"): priority_class,
    ("", "PersistentVolume"): infra.persistent_volume,
    ("", "PersistentVolumeClaim"): infra.persistent_volume_claim,
    ("", "ResourceQuota"): infra.resource_quota,
    ("", "LimitRange"): infra.limit_range,
    ("", "Node"): infra.node,
    ("", "Endpoints"): infra.endpoints,
    ("", "Event"): infra.event,
    ("events.k8s.io", "Event"): infra.event,
    ("discovery.k8s.io", "EndpointSlice"): infra.endpoint_slice,
    ("coordination.k8s.io", "Lease"): infra.lease,
    ("apps", "ControllerRevision"): infra.controller_revision,
    ("networking.k8s.io", "NetworkPolicy"): networkpolicy.validate,
}


def validate(res: Resource, obj: Obj, old: Obj | None = None) -> Causes:
    causes = object_meta(res, obj.get("metadata"), (old or {}).get("metadata") if old is not None else None)
    fn = _BY_KIND.get((res.group, res.kind))
    if fn is not None:
        causes += fn(obj, old)
    return causes
