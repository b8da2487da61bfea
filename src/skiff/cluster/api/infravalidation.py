"""Validation of the kinds around workloads: volumes and claims, quotas and limits, nodes,
endpoints, leases and events (Kubernetes' messages and field paths)."""

from __future__ import annotations

import ipaddress
from typing import Any

from skiff.cluster.apimachinery import fielderrors as fe
from skiff.cluster.apimachinery import names, quantity

Obj = dict[str, Any]
Causes = list[dict[str, Any]]

ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"]
RECLAIM_POLICIES = ["Delete", "Recycle", "Retain"]
VOLUME_MODES = ["Block", "Filesystem"]
TAINT_EFFECTS = ["NoExecute", "NoSchedule", "PreferNoSchedule"]
ADDRESS_TYPES = ["FQDN", "IPv4", "IPv6"]
LIMIT_TYPES = ["Container", "PersistentVolumeClaim", "Pod"]
PROTOCOLS = ["SCTP", "TCP", "UDP"]

# A PV names exactly one of these as its source.
_PV_SOURCES = ("hostPath", "local", "nfs", "iscsi", "fc", "csi", "cephfs", "rbd", "glusterfs", "flexVolume",
               "awsElasticBlockStore", "gcePersistentDisk", "azureDisk", "azureFile", "vsphereVolume", "cinder",
               "portworxVolume", "scaleIO", "storageos", "quobyte", "photonPersistentDisk", "flocker")


def _access_modes(modes: Any, path: str) -> Causes:
    if not modes:
        return [fe.required(path, "at least 1 access mode is required")]
    return [fe.not_supported(path, m, ACCESS_MODES) for m in modes if m not in ACCESS_MODES]


def _positive_quantity(value: Any, path: str) -> Causes:
    if value is None:
        return [fe.required(path)]
    if not quantity.is_valid(value):
        return [fe.invalid(path, value, quantity.SYNTAX_ERROR)]
    if quantity.parse(value).value <= 0:
        return [fe.invalid(path, str(value), "must be greater than zero")]
    return []


def _non_negative_quantities(values: Any, path: str) -> Causes:
    causes: Causes = []
    for name, value in (values or {}).items():
        if quantity.is_valid(value) and quantity.parse(value).value < 0:
            causes.append(fe.invalid(f"{path}[{name}]", str(value), "must be greater than or equal to 0"))
    return causes


def persistent_volume_claim(obj: Obj, old: Obj | None) -> Causes:
    spec = obj.get("spec") or {}
    causes = _access_modes(spec.get("accessModes"), "spec.accessModes")
    requests = (spec.get("resources") or {}).get("requests") or {}
    if "storage" not in requests:
        causes.append(fe.required("spec.resources[storage]"))
    else:
        causes += _positive_quantity(requests["storage"], "spec.resources.requests[storage]")
    mode = spec.get("volumeMode")
    if mode is not None and mode not in VOLUME_MODES:
        causes.append(fe.not_supported("spec.volumeMode", mode, VOLUME_MODES))
    if old is not None:
        old_spec = dict(old.get("spec") or {})
        new_spec = dict(spec)
        for s in (old_spec, new_spec):
            s.pop("resources", None)
            s.pop("volumeAttributesClassName", None)
            if not old_spec.get("volumeName"):
                s.pop("volumeName", None)  # binding sets it once
        if new_spec != old_spec:
            causes.append(fe.forbidden("spec", "spec is immutable after creation except resources.requests and "
                                               "volumeAttributesClassName for bound claims"))
    return causes


def persistent_volume(obj: Obj, old: Obj | None) -> Causes:
    spec = obj.get("spec") or {}
    causes = _access_modes(spec.get("accessModes"), "spec.accessModes")
    capacity = spec.get("capacity")
    if not capacity:
        causes.append(fe.required("spec.capacity"))
    elif "storage" not in capacity:
        causes.append(fe.not_supported("spec.capacity", sorted(capacity), ["storage"]))
    else:
        causes += _positive_quantity(capacity["storage"], "spec.capacity[storage]")
    sources = [s for s in _PV_SOURCES if spec.get(s) is not None]
    if not sources:
        causes.append(fe.required("spec", "must specify a volume type"))
    elif len(sources) > 1:
        causes.append(fe.forbidden(f"spec.{sources[1]}", "may not specify more than 1 volume type"))
    policy = spec.get("persistentVolumeReclaimPolicy")
    if policy is not None and policy not in RECLAIM_POLICIES:
        causes.append(fe.not_supported("spec.persistentVolumeReclaimPolicy", policy, RECLAIM_POLICIES))
    host_path = (spec.get("hostPath") or {}).get("path") if isinstance(spec.get("hostPath"), dict) else None
    if spec.get("hostPath") is not None and not host_path:
        causes.append(fe.required("spec.hostPath.path"))
    return causes


def resource_quota(obj: Obj, old: Obj | None) -> Causes:
    spec = obj.get("spec") or {}
    causes: Causes = []
    for name in spec.get("hard") or {}:
        causes += [fe.invalid(f"spec.hard[{name}]", name, m) for m in names.qualified_name(name)]
    causes += _non_negative_quantities(spec.get("hard"), "spec.hard")
    return causes


def limit_range(obj: Obj, old: Obj | None) -> Causes:
    causes: Causes = []
    for i, item in enumerate((obj.get("spec") or {}).get("limits") or []):
        path = f"spec.limits[{i}]"
        kind = (item or {}).get("type")
        if not kind:
            causes.append(fe.required(f"{path}.type"))
        elif kind not in LIMIT_TYPES:
            causes.append(fe.not_supported(f"{path}.type", kind, LIMIT_TYPES))
        parsed: dict[str, dict[str, Any]] = {}
        for part in ("max", "min", "default", "defaultRequest", "maxLimitRequestRatio"):
            parsed[part] = {n: quantity.parse(v) for n, v in ((item or {}).get(part) or {}).items()
                            if quantity.is_valid(v)}
        for name, low in parsed["min"].items():
            high = parsed["max"].get(name)
            if high is not None and low.value > high.value:
                causes.append(fe.invalid(f"{path}.min[{name}]", str(low),
                                         f"min value {low} is greater than max value {high}"))
        for name, value in parsed["default"].items():
            high = parsed["max"].get(name)
            if high is not None and value.value > high.value:
                causes.append(fe.invalid(f"{path}.default[{name}]", str(value),
                                         f"default value {value} is greater than max value {high}"))
            low = parsed["min"].get(name)
            if low is not None and value.value < low.value:
                causes.append(fe.invalid(f"{path}.default[{name}]", str(value),
                                         f"min value {low} is greater than default value {value}"))
        for name, value in parsed["defaultRequest"].items():
            limit = parsed["default"].get(name)
            if limit is not None and value.value > limit.value:
                causes.append(fe.invalid(f"{path}.defaultRequest[{name}]", str(value),
                                         f"default request value {value} is greater than default limit value "
                                         f"{limit}"))
    return causes


def node(obj: Obj, old: Obj | None) -> Causes:
    spec = obj.get("spec") or {}
    causes: Causes = []
    for i, taint in enumerate(spec.get("taints") or []):
        path = f"spec.taints[{i}]"
        key = (taint or {}).get("key")
        if not key:
            causes.append(fe.required(f"{path}.key"))
        else:
            causes += [fe.invalid(f"{path}.key", key, m) for m in names.qualified_name(key)]
        effect = (taint or {}).get("effect")
        if not effect:
            causes.append(fe.required(f"{path}.effect"))
        elif effect not in TAINT_EFFECTS:
            causes.append(fe.not_supported(f"{path}.effect", effect, TAINT_EFFECTS))
    for key in ("podCIDR",):
        if spec.get(key):
            try:
                ipaddress.ip_network(spec[key], strict=False)
            except ValueError:
                causes.append(fe.invalid(f"spec.{key}", spec[key], "must be a valid CIDR value, (e.g. 10.9.8.0/24 or "
                                                                   "2001:db8::/64)"))
    return causes


def _ports(ports: Any, path: str) -> Causes:
    causes: Causes = []
    for i, port in enumerate(ports or []):
        ppath = f"{path}[{i}]"
        number = (port or {}).get("port")
        if number is not None and (not isinstance(number, int) or not 1 <= number <= 65535):
            causes.append(fe.invalid(f"{ppath}.port", number, "must be between 1 and 65535, inclusive"))
        protocol = (port or {}).get("protocol")
        if protocol is not None and protocol not in PROTOCOLS:
            causes.append(fe.not_supported(f"{ppath}.protocol", protocol, PROTOCOLS))
    return causes


def _ip(value: Any, path: str) -> Causes:
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return [fe.invalid(path, value, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")]
    return []


def endpoints(obj: Obj, old: Obj | None) -> Causes:
    causes: Causes = []
    for i, subset in enumerate(obj.get("subsets") or []):
        path = f"subsets[{i}]"
        for key in ("addresses", "notReadyAddresses"):
            for j, addr in enumerate((subset or {}).get(key) or []):
                causes += _ip((addr or {}).get("ip"), f"{path}.{key}[{j}].ip")
        causes += _ports((subset or {}).get("ports"), f"{path}.ports")
    return causes


def endpoint_slice(obj: Obj, old: Obj | None) -> Causes:
    causes: Causes = []
    kind = obj.get("addressType")
    if not kind:
        causes.append(fe.required("addressType"))
    elif kind not in ADDRESS_TYPES:
        causes.append(fe.not_supported("addressType", kind, ADDRESS_TYPES))
    for i, endpoint in enumerate(obj.get("endpoints") or []):
        addresses = (endpoint or {}).get("addresses") or []
        if not addresses:
            causes.append(fe.required(f"endpoints[{i}].addresses", "must contain at least 1 address"))
        if kind in ("IPv4", "IPv6"):
            for j, addr in enumerate(addresses):
                causes += _ip(addr, f"endpoints[{i}].addresses[{j}]")
    causes += _ports(obj.get("ports"), "ports")
    if old is not None and obj.get("addressType") != old.get("addressType"):
        causes.append(fe.invalid("addressType", obj.get("addressType"), "field is immutable"))
    return causes


def lease(obj: Obj, old: Obj | None) -> Causes:
    duration = (obj.get("spec") or {}).get("leaseDurationSeconds")
    if duration is not None and (not isinstance(duration, int) or duration <= 0):
        return [fe.invalid("spec.leaseDurationSeconds", duration, "must be greater than 0")]
    return []


def event(obj: Obj, old: Obj | None) -> Causes:
    involved = obj.get("involvedObject") or obj.get("regarding") or {}
    field = "involvedObject" if "involvedObject" in obj else "regarding"
    namespace = (obj.get("metadata") or {}).get("namespace")
    if involved.get("namespace") and namespace and involved["namespace"] != namespace:
        return [fe.invalid(f"{field}.namespace", involved["namespace"], "does not match event.namespace")]
    return []


def controller_revision(obj: Obj, old: Obj | None) -> Causes:
    revision = obj.get("revision")
    if isinstance(revision, int) and revision < 0:
        return [fe.invalid("revision", revision, "must be greater than or equal to 0")]
    if old is not None and obj.get("data") != old.get("data"):
        return [fe.invalid("data", "{...}", "field is immutable")]
    return []
